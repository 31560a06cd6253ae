package password

import (
	"context"
	"errors"
	"fmt"
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
// NAS retransmitting) share one argon2 run, and only so many runs go at once
// (MaxRunning): argon2 is CPU- and memory-bound, so more in parallel only
// adds 19 MiB each and latency for everyone. The other misses wait; with
// MaxWaiting, only so many do, and the check that has waited longest is
// refused with ErrOverloaded when a new one comes (gate.go).
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
	runs     *gate            // argon2 runs in progress, and the checks waiting

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

// A VerifierOption tunes NewVerifier.
type VerifierOption func(*verifierOptions)

type verifierOptions struct {
	maxRunning, maxWaiting int
}

// MaxRunning bounds the argon2 runs at once; n <= 0 keeps the default, one
// fewer than GOMAXPROCS and at least one. An argon2 run keeps its CPU for
// tens of milliseconds without a pause: with one on every P, the scheduler
// gets to the network and to the requests that need no argon2 only when it
// preempts a run, every 10 ms or so, and a flood of uncached logins delays
// every other request by about as much (docs/performance.md, "Overload").
func MaxRunning(n int) VerifierOption {
	return func(o *verifierOptions) { o.maxRunning = n }
}

// MaxWaiting bounds the checks that wait for an argon2 run while
// MaxRunning run: beyond n, the one that has waited longest fails with
// ErrOverloaded, and the newest are served first. n = 0 refuses every check
// that finds no run free. Without this option the checks wait, in turn,
// for as long as their context lets them.
func MaxWaiting(n int) VerifierOption {
	return func(o *verifierOptions) { o.maxWaiting = max(n, 0) }
}

// NewVerifier returns a Verifier caching up to size results for ttl each.
// size <= 0 or ttl <= 0 disables the cache: every call runs argon2.
func NewVerifier(size int, ttl time.Duration, opts ...VerifierOption) *Verifier {
	o := verifierOptions{maxWaiting: -1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxRunning <= 0 {
		o.maxRunning = max(1, runtime.GOMAXPROCS(0)-1)
	}
	v := &Verifier{ttl: ttl, now: time.Now, runs: newGate(o.maxRunning, o.maxWaiting)}
	if size <= 0 || ttl <= 0 {
		return v
	}
	v.digester = NewDigester()
	v.entries = make(map[Digest]entry, size)
	v.inflight = map[Digest]*call{}
	v.ring = make([]Digest, size)
	return v
}

// Verify is VerifyContext without a deadline.
func (v *Verifier) Verify(encoded, pw string) (bool, error) {
	return v.VerifyContext(context.Background(), encoded, pw)
}

// VerifyContext is Verify(encoded, pw), answered from the cache when it can
// be. A check that has to wait for an argon2 run fails with ErrOverloaded
// when it is pushed out (MaxWaiting) or ctx is done first (wrapping ctx's
// error too); that is not cached.
func (v *Verifier) VerifyContext(ctx context.Context, encoded, pw string) (bool, error) {
	if v.entries == nil {
		v.misses.Add(1)
		return v.run(ctx, encoded, pw)
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
		select {
		case <-c.done:
		case <-ctx.Done():
			return false, fmt.Errorf("%w: %w", ErrOverloaded, ctx.Err())
		}
		v.hits.Add(1)
		return c.ok, c.err
	}
	c := &call{done: make(chan struct{})}
	v.inflight[d] = c
	v.mu.Unlock()

	v.misses.Add(1)
	c.ok, c.err = v.run(ctx, encoded, pw)
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

// run is one argon2 run, once the gate lets it start.
func (v *Verifier) run(ctx context.Context, encoded, pw string) (bool, error) {
	if err := v.runs.enter(ctx); err != nil {
		return false, err
	}
	start := time.Now()
	defer func() { v.runs.leave(time.Since(start)) }()
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
