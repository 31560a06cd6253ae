package password

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source for Verifier.now and gate.now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newClock is a clock at a fixed time, which moves only when told.
func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func newTestVerifier(size int, ttl time.Duration) (*Verifier, *clock) {
	c := newClock()
	v := NewVerifier(size, ttl)
	v.now = c.now
	return v, c
}

// step is one Verify call and what it must return and cost.
type step struct {
	encoded, pw string
	want        bool
	hit         bool
}

func runSteps(t *testing.T, v *Verifier, steps []step) {
	t.Helper()
	for i, s := range steps {
		hits, misses := v.Stats()
		got, err := v.Verify(s.encoded, s.pw)
		if err != nil || got != s.want {
			t.Fatalf("step %d: Verify(%q) = %v, %v; want %v, nil", i, s.pw, got, err, s.want)
		}
		h, m := v.Stats()
		if gotHit := h == hits+1 && m == misses; gotHit != s.hit || h+m != hits+misses+1 {
			t.Errorf("step %d: Verify(%q) moved stats from %d/%d to %d/%d hits/misses, want hit=%v", i, s.pw, hits, misses, h, m, s.hit)
		}
	}
}

func TestVerifierCaches(t *testing.T) {
	h1 := mustHash(t, "one", cheap)
	h1again := mustHash(t, "one", cheap) // same password, new salt: a password reset
	v, _ := newTestVerifier(16, time.Minute)
	runSteps(t, v, []step{
		{h1, "one", true, false},
		{h1, "one", true, true},
		{h1, "wrong", false, false},
		{h1, "wrong", false, true},
		{h1, "one", true, true},
		{h1again, "one", true, false},
		{h1again, "wrong", false, false},
	})
}

func TestVerifierCached(t *testing.T) {
	h := mustHash(t, "one", cheap)
	v, c := newTestVerifier(16, time.Minute)
	if _, err := v.Cached(h, "one"); !errors.Is(err, ErrNotCached) {
		t.Fatalf("Cached before any Verify = %v, want ErrNotCached", err)
	}
	if hits, misses := v.Stats(); hits+misses != 0 {
		t.Errorf("a Cached miss moved the stats to %d/%d hits/misses, want 0/0", hits, misses)
	}
	for _, pw := range []string{"one", "wrong"} {
		if _, err := v.Verify(h, pw); err != nil {
			t.Fatal(err)
		}
	}
	for pw, want := range map[string]bool{"one": true, "wrong": false} {
		if got, err := v.Cached(h, pw); err != nil || got != want {
			t.Errorf("Cached(%q) = %v, %v; want %v, nil", pw, got, err, want)
		}
	}
	if hits, _ := v.Stats(); hits != 2 {
		t.Errorf("%d hits after two Cached answers, want 2", hits)
	}
	c.advance(time.Minute)
	if _, err := v.Cached(h, "one"); !errors.Is(err, ErrNotCached) {
		t.Errorf("Cached after the TTL = %v, want ErrNotCached", err)
	}
	disabled := NewVerifier(0, 0)
	if _, err := disabled.Cached(h, "one"); !errors.Is(err, ErrNotCached) {
		t.Errorf("Cached without a cache = %v, want ErrNotCached", err)
	}
}

func TestVerifierDoesNotCacheMalformed(t *testing.T) {
	v, _ := newTestVerifier(16, time.Minute)
	for range 2 {
		if ok, err := v.Verify("$argon2id$nonsense", "pw"); ok || !errors.Is(err, ErrMalformed) {
			t.Fatalf("Verify(malformed) = %v, %v; want false, ErrMalformed", ok, err)
		}
	}
	if hits, _ := v.Stats(); hits != 0 {
		t.Errorf("hits = %d after two malformed calls, want 0", hits)
	}
}

func TestVerifierTTL(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	v, c := newTestVerifier(16, time.Minute)
	runSteps(t, v, []step{{h, "pw", true, false}, {h, "wrong", false, false}})
	c.advance(time.Minute - time.Nanosecond)
	runSteps(t, v, []step{{h, "pw", true, true}, {h, "wrong", false, true}})
	c.advance(time.Nanosecond)
	runSteps(t, v, []step{{h, "pw", true, false}, {h, "wrong", false, false}})
	// Re-verified entries live a full TTL from now.
	c.advance(time.Minute - time.Nanosecond)
	runSteps(t, v, []step{{h, "pw", true, true}})
}

func TestVerifierSizeBound(t *testing.T) {
	const size = 3
	h := mustHash(t, "pw", cheap)
	v, _ := newTestVerifier(size, time.Hour)
	for i := range 2 * size {
		if _, err := v.Verify(h, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		if n := len(v.entries); n > size {
			t.Fatalf("after %d distinct calls the cache holds %d entries, want at most %d", i+1, n, size)
		}
	}
	// The last size guesses are cached; the ones before were evicted, oldest first.
	runSteps(t, v, []step{
		{h, "5", false, true},
		{h, "4", false, true},
		{h, "3", false, true},
		{h, "2", false, false},
	})
	// "2" took the slot of "3", the oldest remaining.
	runSteps(t, v, []step{{h, "3", false, false}})
}

func TestVerifierReinsertDoesNotEvictItself(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	v, c := newTestVerifier(2, time.Minute)
	runSteps(t, v, []step{{h, "a", false, false}})
	c.advance(time.Minute)
	// "a" expired: re-verifying moves it to slot 1, leaving a stale copy in
	// slot 0. Reusing slot 0 must not delete the live entry.
	runSteps(t, v, []step{{h, "a", false, false}, {h, "b", false, false}, {h, "a", false, true}})
}

func TestVerifierDisabled(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	for _, v := range []*Verifier{NewVerifier(0, time.Minute), NewVerifier(10, 0)} {
		runSteps(t, v, []step{{h, "pw", true, false}, {h, "pw", true, false}})
	}
}

func TestDigesterKeysArePerInstance(t *testing.T) {
	a, b := NewDigester(), NewDigester()
	if a.Sum("enc", "pw") == b.Sum("enc", "pw") {
		t.Error("two Digesters produce the same digest: the HMAC key is not random")
	}
	if first, again := a.Sum("enc", "pw"), a.Sum("enc", "pw"); first != again {
		t.Error("one Digester produces different digests for the same input")
	}
	if a.Sum("ab", "c") == a.Sum("a", "bc") {
		t.Error("Sum does not separate the context from the password")
	}
}

func TestVerifierConcurrent(t *testing.T) {
	hashes := []string{mustHash(t, "a", cheap), mustHash(t, "b", cheap)}
	v := NewVerifier(4, time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				h, pw := hashes[i%2], []string{"a", "b", "c"}[(g+i)%3]
				want := (i%2 == 0 && pw == "a") || (i%2 == 1 && pw == "b")
				if got, err := v.Verify(h, pw); err != nil || got != want {
					t.Errorf("Verify(hash %d, %q) = %v, %v; want %v", i%2, pw, got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if hits, misses := v.Stats(); hits+misses != 8*50 {
		t.Errorf("hits+misses = %d, want %d", hits+misses, 8*50)
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	h := mustHash(b, "pw", cheap)
	v := NewVerifier(1024, time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := v.Verify(h, "pw"); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

func BenchmarkVerifyUncached(b *testing.B) {
	h := mustHash(b, "pw", cheap)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := Verify(h, "pw"); !ok || err != nil {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

// TestConcurrentMissesShareOneRun: a burst of identical logins costs one
// argon2 run, and all of them get its answer.
func TestConcurrentMissesShareOneRun(t *testing.T) {
	h, err := Hash("secret", Params{Memory: 8 * 1024, Time: 3, Threads: 1}) // slow enough to overlap
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(16, time.Minute)
	var wg sync.WaitGroup
	results := make([]bool, 16)
	for i := range results {
		wg.Go(func() {
			ok, err := v.Verify(h, "secret")
			results[i] = ok && err == nil
		})
	}
	wg.Wait()
	for i, ok := range results {
		if !ok {
			t.Fatalf("caller %d did not get the answer", i)
		}
	}
	if hits, misses := v.Stats(); misses != 1 || hits != 15 {
		t.Fatalf("hits %d, misses %d: want 15 and 1 (one argon2 run)", hits, misses)
	}
}
