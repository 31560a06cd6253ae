package password

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Verifier is Verify with a bounded, expiring cache of results, so that a NAS
// retrying or re-authenticating the same account costs a map lookup rather
// than an argon2 run. It is safe for concurrent use.
//
// Entries are keyed by a Digester's HMAC of the encoded hash and the
// password. The digests are therefore worthless outside this process (no
// offline guessing against a memory dump), and since the
// encoded hash carries its salt, a password change makes old entries
// unreachable without any invalidation.
//
// Wrong-password results are cached too: repeating a wrong guess then costs
// the attacker's packets, not argon2 time on the server. Malformed encodings
// are not cached; they fail before argon2 runs.
//
// Identical misses in flight at once (a burst of logins for one account, a
// NAS retransmitting) share one argon2 run, and at most GOMAXPROCS runs go at
// once: argon2 is CPU- and memory-bound, so more in parallel only adds 19 MiB
// each and latency for everyone.
type Verifier struct {
	ttl time.Duration
	// now is the clock; tests replace it.
	now func() time.Time

	digester *Digester

	mu      sync.Mutex
	entries map[Digest]entry
	// ring holds the digest inserted into each slot; next is the slot the
	// next insertion takes over, evicting the oldest entry once full.
	ring []Digest
	next int

	inflight map[Digest]*call // guarded by mu
	slots    chan struct{}    // argon2 runs in progress

	hits, misses atomic.Uint64
}

// call is one argon2 run that identical misses wait for.
type call struct {
	done chan struct{}
	ok   bool
	err  error
}

type entry struct {
	ok      bool
	expires time.Time
	// slot is where this digest sits in ring. A re-inserted digest moves to
	// a new slot, and the stale one must then not evict it.
	slot int
}

// NewVerifier returns a Verifier caching up to size results for ttl each.
// size <= 0 or ttl <= 0 disables the cache: every call runs argon2.
func NewVerifier(size int, ttl time.Duration) *Verifier {
	v := &Verifier{ttl: ttl, now: time.Now, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	if size <= 0 || ttl <= 0 {
		return v
	}
	v.digester = NewDigester()
	v.entries = make(map[Digest]entry, size)
	v.inflight = map[Digest]*call{}
	v.ring = make([]Digest, size)
	return v
}

// Verify is Verify(encoded, pw), answered from the cache when it can be.
func (v *Verifier) Verify(encoded, pw string) (bool, error) {
	if v.entries == nil {
		v.misses.Add(1)
		return v.run(encoded, pw)
	}
	d := v.digester.Sum(encoded, pw)
	v.mu.Lock()
	e, found := v.entries[d]
	if found && v.now().Before(e.expires) {
		v.mu.Unlock()
		v.hits.Add(1)
		return e.ok, nil
	}
	if c, waiting := v.inflight[d]; waiting {
		v.mu.Unlock()
		<-c.done
		v.hits.Add(1)
		return c.ok, c.err
	}
	c := &call{done: make(chan struct{})}
	v.inflight[d] = c
	v.mu.Unlock()

	v.misses.Add(1)
	c.ok, c.err = v.run(encoded, pw)
	if c.err == nil {
		v.remember(d, c.ok)
	}
	v.mu.Lock()
	delete(v.inflight, d)
	v.mu.Unlock()
	close(c.done)
	return c.ok, c.err
}

// ErrNotCached is Cached's answer when only an argon2 run can tell.
var ErrNotCached = errors.New("password check not cached")

// Cached is Verify answered from the cache alone, never waiting: an error
// wrapping ErrNotCached when Verify would run argon2 or wait for a run in
// flight. A caller checking many passwords answers the hits on its own
// goroutine and hands only the misses to others, so that they neither wait
// for one another nor each pay for a goroutine.
func (v *Verifier) Cached(encoded, pw string) (bool, error) {
	if v.entries == nil {
		return false, ErrNotCached
	}
	d := v.digester.Sum(encoded, pw)
	v.mu.Lock()
	e, found := v.entries[d]
	v.mu.Unlock()
	if !found || !v.now().Before(e.expires) {
		return false, ErrNotCached
	}
	v.hits.Add(1)
	return e.ok, nil
}

// run is one argon2 run, waiting for a free slot.
func (v *Verifier) run(encoded, pw string) (bool, error) {
	v.slots <- struct{}{}
	defer func() { <-v.slots }()
	return Verify(encoded, pw)
}

// Stats returns how many calls were answered without an argon2 run of
// their own (from the cache, or by sharing a run in flight) and how many ran one.
func (v *Verifier) Stats() (hits, misses uint64) {
	return v.hits.Load(), v.misses.Load()
}

func (v *Verifier) remember(d Digest, ok bool) {
	expires := v.now().Add(v.ttl)
	v.mu.Lock()
	defer v.mu.Unlock()
	if old, found := v.entries[v.ring[v.next]]; found && old.slot == v.next {
		delete(v.entries, v.ring[v.next])
	}
	v.ring[v.next] = d
	v.entries[d] = entry{ok: ok, expires: expires, slot: v.next}
	v.next = (v.next + 1) % len(v.ring)
}
