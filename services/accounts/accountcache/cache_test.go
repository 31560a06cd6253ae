package accountcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/accounts"
	"kradius.dev/services/store"
)

// fakeService stands in for the accounts service: alice's password is
// "secret". It counts the calls that reach it; while gate is set, each
// waits for it.
type fakeService struct {
	mu    sync.Mutex
	calls int
	gate  chan struct{}
}

func (f *fakeService) enter() {
	f.mu.Lock()
	f.calls++
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
}

func (f *fakeService) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeService) Authenticate(_ context.Context, name, pw string) (store.Account, error) {
	f.enter()
	switch {
	case store.Fold(name) != "alice":
		return store.Account{}, store.ErrNotFound
	case pw != "secret":
		return store.Account{}, accounts.ErrWrongPassword
	}
	return store.Account{Name: "Alice", Type: 4, Members: []string{"m"}}, nil
}

func (f *fakeService) Get(_ context.Context, name string) (store.Account, error) {
	f.enter()
	if store.Fold(name) != "alice" {
		return store.Account{}, store.ErrNotFound
	}
	return store.Account{Name: "Alice", Type: 4, Members: []string{"m"}}, nil
}

func (f *fakeService) AccountBy(context.Context, store.Index, string) (store.Account, error) {
	f.enter()
	return store.Account{Name: "Alice"}, nil
}

// newLive returns a cache in front of a fake service, live as if its watch
// had just begun, and a clock the test moves.
func newLive(t *testing.T, o Options) (*Cache, *fakeService, *time.Time) {
	t.Helper()
	f := &fakeService{}
	c := New(f, o, prometheus.NewRegistry())
	now := time.Unix(1e9, 0)
	c.now = func() time.Time { return now }
	c.notice(store.AccountChange{All: true})
	return c, f, &now
}

var defaults = Options{MaxEntries: 100, TTL: time.Minute}

// expect calls fn and checks how many calls reached the service.
func expect(t *testing.T, f *fakeService, calls int, what string, fn func() error, wantErr error) {
	t.Helper()
	before := f.count()
	err := fn()
	if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
		t.Fatalf("%s: err = %v, want %v", what, err, wantErr)
	}
	if got := f.count() - before; got != calls {
		t.Fatalf("%s: %d calls reached the service, want %d", what, got, calls)
	}
}

func login(c *Cache, name, pw string) func() error {
	return func() error {
		a, err := c.Authenticate(context.Background(), name, pw)
		if err == nil && a.Name != "Alice" {
			return fmt.Errorf("answered %q", a.Name)
		}
		return err
	}
}

func get(c *Cache, name string) func() error {
	return func() error {
		_, err := c.Get(context.Background(), name)
		return err
	}
}

func TestLoginsAnsweredFromCache(t *testing.T) {
	c, f, _ := newLive(t, defaults)
	expect(t, f, 1, "first login", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "second login", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "login in other case", login(c, "ALICE", "secret"), nil)
	expect(t, f, 0, "Get of a kept account", get(c, "Alice"), nil)
	expect(t, f, 1, "AccountBy", func() error { _, err := c.AccountBy(context.Background(), store.IndexMAC, "x"); return err }, nil)
}

// TestOnlySuccessesAreKept: a Reject is always the service's.
func TestOnlySuccessesAreKept(t *testing.T) {
	c, f, _ := newLive(t, defaults)
	expect(t, f, 1, "login", login(c, "alice", "secret"), nil)
	for range 2 {
		expect(t, f, 1, "wrong password", login(c, "alice", "guess"), accounts.ErrWrongPassword)
		expect(t, f, 1, "unknown account", login(c, "bob", "secret"), store.ErrNotFound)
		expect(t, f, 1, "Get of an unknown account", get(c, "bob"), store.ErrNotFound)
	}
	expect(t, f, 0, "right password after wrong ones", login(c, "alice", "secret"), nil)
}

// TestGetKeepsNoPassword: an account kept by a Get has had no password
// accepted, so a login still asks the service once.
func TestGetKeepsNoPassword(t *testing.T) {
	c, f, _ := newLive(t, defaults)
	expect(t, f, 1, "Get", get(c, "alice"), nil)
	expect(t, f, 1, "login after Get", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "second login", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "Get after login", get(c, "alice"), nil)
	expect(t, f, 0, "login after a second Get", login(c, "alice", "secret"), nil)
}

func TestNoticesForget(t *testing.T) {
	c, f, _ := newLive(t, defaults)
	expect(t, f, 1, "login", login(c, "alice", "secret"), nil)
	c.notice(store.AccountChange{Names: []string{"bob"}})
	expect(t, f, 0, "login after a notice naming another account", login(c, "alice", "secret"), nil)
	c.notice(store.AccountChange{Names: []string{"alice"}})
	expect(t, f, 1, "login after a notice naming alice", login(c, "alice", "secret"), nil)
	c.notice(store.AccountChange{All: true})
	expect(t, f, 1, "login after a notice of all", login(c, "alice", "secret"), nil)
}

// TestAnswerOlderThanNoticeNotKept: an answer fetched while a notice
// arrived may be from before the change, and must not be kept.
func TestAnswerOlderThanNoticeNotKept(t *testing.T) {
	c, f, _ := newLive(t, defaults)
	f.gate = make(chan struct{})
	done := make(chan error)
	go func() { done <- login(c, "alice", "secret")() }()
	for f.count() == 0 {
		time.Sleep(time.Millisecond)
	}
	c.notice(store.AccountChange{Names: []string{"alice"}})
	close(f.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.gate = nil
	expect(t, f, 1, "login after an answer that raced a notice", login(c, "alice", "secret"), nil)
}

func TestNothingKeptWithoutLiveWatch(t *testing.T) {
	f := &fakeService{}
	c := New(f, defaults, prometheus.NewRegistry())
	expect(t, f, 1, "login before any watch", login(c, "alice", "secret"), nil)
	expect(t, f, 1, "again", login(c, "alice", "secret"), nil)

	c.notice(store.AccountChange{All: true})
	expect(t, f, 1, "login once live", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "again", login(c, "alice", "secret"), nil)
	c.forget()
	expect(t, f, 1, "login after the watch ended", login(c, "alice", "secret"), nil)
	expect(t, f, 1, "again", login(c, "alice", "secret"), nil)
}

func TestTTL(t *testing.T) {
	c, f, now := newLive(t, defaults)
	expect(t, f, 1, "login", login(c, "alice", "secret"), nil)
	*now = now.Add(defaults.TTL - time.Second)
	expect(t, f, 0, "login within the TTL", login(c, "alice", "secret"), nil)
	*now = now.Add(time.Second)
	expect(t, f, 1, "login at the TTL", login(c, "alice", "secret"), nil)
}

func TestBounded(t *testing.T) {
	c, _, _ := newLive(t, Options{MaxEntries: 2, TTL: time.Minute})
	for i := range 5 {
		c.keep(fmt.Sprintf("user%d", i), c.generation(), store.Account{Name: fmt.Sprintf("user%d", i)}, nil)
	}
	if n := c.size(); n != 2 {
		t.Errorf("cache of 2 holds %d accounts", n)
	}
	off, f, _ := newLive(t, Options{})
	expect(t, f, 1, "login with the cache off", login(off, "alice", "secret"), nil)
	expect(t, f, 1, "again", login(off, "alice", "secret"), nil)
}

// TestKeptAccountsNotShared: a caller changing the members it was given
// does not change what the next caller gets.
func TestKeptAccountsNotShared(t *testing.T) {
	c, _, _ := newLive(t, defaults)
	for range 3 {
		a, err := c.Authenticate(context.Background(), "alice", "secret")
		if err != nil {
			t.Fatal(err)
		}
		if a.Members[0] != "m" {
			t.Fatalf("members = %v: an earlier caller's change leaked", a.Members)
		}
		a.Members[0] = "changed"
	}
}

// TestRun: the cache serves while Run's watch is live, forgets when it
// ends, and watches again.
func TestRun(t *testing.T) {
	f := &fakeService{}
	c := New(f, defaults, prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type watchCall struct {
		fn  func(store.AccountChange)
		end chan error
	}
	watches := make(chan watchCall)
	go c.Run(ctx, func(ctx context.Context, fn func(store.AccountChange)) error {
		w := watchCall{fn, make(chan error)}
		watches <- w
		select {
		case err := <-w.end:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))

	w := <-watches
	w.fn(store.AccountChange{All: true})
	expect(t, f, 1, "login", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "again", login(c, "alice", "secret"), nil)
	w.end <- errors.New("stream reset")
	w = <-watches // the next watch, after Run forgot
	if c.isLive() || c.size() != 0 {
		t.Fatalf("after the watch ended: live %v, %d kept; want neither", c.isLive(), c.size())
	}
	expect(t, f, 1, "login between watches", login(c, "alice", "secret"), nil)
	w.fn(store.AccountChange{All: true})
	expect(t, f, 1, "login on the new watch", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "again", login(c, "alice", "secret"), nil)
}
