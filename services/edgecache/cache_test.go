package edgecache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/accounts"
	"kradius.dev/services/dids"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbdata"
)

// fakeService stands in for the accounts and dids services: alice's
// password is "secret", and DID 100 routes to her. It counts the calls that
// reach it; while gate is set, each waits for it.
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

func (f *fakeService) Authenticate(_ context.Context, name, pw string) (fbdata.Account, error) {
	f.enter()
	switch {
	case fbdata.Fold(name) != "alice":
		return fbdata.Account{}, fbdata.ErrNotFound
	case pw != "secret":
		return fbdata.Account{}, accounts.ErrWrongPassword
	}
	return fbdata.Account{Name: "Alice", Type: 4, Members: []string{"m"}}, nil
}

func (f *fakeService) Get(_ context.Context, name string) (fbdata.Account, error) {
	f.enter()
	if fbdata.Fold(name) != "alice" {
		return fbdata.Account{}, fbdata.ErrNotFound
	}
	return fbdata.Account{Name: "Alice", Type: 4, Members: []string{"m"}}, nil
}

func (f *fakeService) AccountBy(context.Context, fbdata.Index, string) (fbdata.Account, error) {
	f.enter()
	return fbdata.Account{Name: "Alice"}, nil
}

func (f *fakeService) GetDID(_ context.Context, number string) (fbdata.DID, error) {
	f.enter()
	if number != "100" {
		return fbdata.DID{}, fbdata.ErrNotFound
	}
	one := uint32(1)
	return fbdata.DID{Number: "100", Account: "Alice", LineNum: &one}, nil
}

func (f *fakeService) Route(ctx context.Context, number string) (dids.Route, error) {
	d, err := f.GetDID(ctx, number)
	if err != nil {
		return dids.Route{}, err
	}
	return dids.Route{DID: d, Account: fbdata.Account{Name: "Alice", Type: 4, Members: []string{"m"}}, HasAccount: true}, nil
}

func (f *fakeService) DIDsForAccount(context.Context, string) ([]fbdata.DID, error) {
	f.enter()
	return nil, nil
}

func (f *fakeService) CalledNumber(context.Context, string) (fbdata.CalledNumber, error) {
	f.enter()
	return fbdata.CalledNumber{}, nil
}

// cached is a cache in front of a fake service, its accounts and DIDs.
type cached struct {
	*Cache
	accounts Accounts
	dids     DIDs
}

func newCached(o Options) (cached, *fakeService) {
	f := &fakeService{}
	c := New(o, prometheus.NewRegistry())
	return cached{c, c.Accounts(f), c.DIDs(f)}, f
}

// newLive returns a cache in front of a fake service, live as if its watch
// had just begun, and a clock the test moves.
func newLive(t testing.TB, o Options) (cached, *fakeService, *time.Time) {
	t.Helper()
	c, f := newCached(o)
	now := time.Unix(1e9, 0)
	c.now = func() time.Time { return now }
	c.notice(fbdata.Change{All: true})
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

func login(c cached, name, pw string) func() error {
	return func() error {
		a, err := c.accounts.Authenticate(context.Background(), name, pw)
		if err == nil && a.Name != "Alice" {
			return fmt.Errorf("answered %q", a.Name)
		}
		return err
	}
}

func get(c cached, name string) func() error {
	return func() error {
		_, err := c.accounts.Get(context.Background(), name)
		return err
	}
}

func route(c cached, number string) func() error {
	return func() error {
		r, err := c.dids.Route(context.Background(), number)
		if err == nil && (r.Account.Name != "Alice" || !r.HasAccount || r.DID.Number != number) {
			return fmt.Errorf("answered %+v", r)
		}
		return err
	}
}

func TestLoginsAnsweredFromCache(t *testing.T) {
	c, f, _ := newLive(t, defaults)
	expect(t, f, 1, "first login", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "second login", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "login in other case", login(c, "ALICE", "secret"), nil)
	expect(t, f, 0, "Get of a kept account", get(c, "Alice"), nil)
	expect(t, f, 1, "AccountBy", func() error { _, err := c.accounts.AccountBy(context.Background(), fbdata.IndexMAC, "x"); return err }, nil)
}

// TestOnlySuccessesAreKept: a Reject is always the service's.
func TestOnlySuccessesAreKept(t *testing.T) {
	c, f, _ := newLive(t, defaults)
	expect(t, f, 1, "login", login(c, "alice", "secret"), nil)
	for range 2 {
		expect(t, f, 1, "wrong password", login(c, "alice", "guess"), accounts.ErrWrongPassword)
		expect(t, f, 1, "unknown account", login(c, "bob", "secret"), fbdata.ErrNotFound)
		expect(t, f, 1, "Get of an unknown account", get(c, "bob"), fbdata.ErrNotFound)
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
	c.notice(fbdata.Change{Accounts: []string{"bob"}})
	expect(t, f, 0, "login after a notice naming another account", login(c, "alice", "secret"), nil)
	c.notice(fbdata.Change{Accounts: []string{"alice"}})
	expect(t, f, 1, "login after a notice naming alice", login(c, "alice", "secret"), nil)
	c.notice(fbdata.Change{All: true})
	expect(t, f, 1, "login after a notice of all", login(c, "alice", "secret"), nil)
}

// TestAnswerOlderThanNoticeNotKept: an answer fetched while a notice
// arrived may be from before the change, and must not be kept.
func TestAnswerOlderThanNoticeNotKept(t *testing.T) {
	for _, tc := range []struct {
		name   string
		call   func(cached) func() error
		notice fbdata.Change
	}{
		{"login", func(c cached) func() error { return login(c, "alice", "secret") }, fbdata.Change{Accounts: []string{"alice"}}},
		{"route", func(c cached) func() error { return route(c, "100") }, fbdata.Change{DIDs: []string{"100"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f, _ := newLive(t, defaults)
			f.gate = make(chan struct{})
			done := make(chan error)
			go func() { done <- tc.call(c)() }()
			eventually.True(t, "the call at the service", func() bool { return f.count() == 1 })
			c.notice(tc.notice)
			close(f.gate)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			f.gate = nil
			expect(t, f, 1, tc.name+" after an answer that raced a notice", tc.call(c), nil)
		})
	}
}

func TestNothingKeptWithoutLiveWatch(t *testing.T) {
	c, f := newCached(defaults)
	expect(t, f, 1, "login before any watch", login(c, "alice", "secret"), nil)
	expect(t, f, 1, "again", login(c, "alice", "secret"), nil)

	c.notice(fbdata.Change{All: true})
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
		c.keepAccount(fmt.Sprintf("user%d", i), c.generation(), fbdata.Account{Name: fmt.Sprintf("user%d", i)}, nil)
		c.keepDID(fmt.Sprint(i), c.generation(), fbdata.DID{Number: fmt.Sprint(i)})
	}
	if accounts, dids := c.sizes(); accounts != 2 || dids != 2 {
		t.Errorf("cache of 2 holds %d accounts and %d DIDs", accounts, dids)
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
		a, err := c.accounts.Authenticate(context.Background(), "alice", "secret")
		if err != nil {
			t.Fatal(err)
		}
		if a.Members[0] != "m" {
			t.Fatalf("members = %v: an earlier caller's change leaked", a.Members)
		}
		a.Members[0] = "changed"
		r, err := c.dids.Route(context.Background(), "100")
		if err != nil {
			t.Fatal(err)
		}
		if *r.DID.LineNum != 1 || r.Account.Members[0] != "m" {
			t.Fatalf("route = %+v: an earlier caller's change leaked", r)
		}
		*r.DID.LineNum = 2
		r.Account.Members[0] = "changed"
	}
}

// TestRun: the cache serves while Run's watch is live, forgets when it
// ends, and watches again.
func TestRun(t *testing.T) {
	c, f := newCached(defaults)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type watchCall struct {
		fn  func(fbdata.Change)
		end chan error
	}
	watches := make(chan watchCall)
	go c.Run(ctx, func(ctx context.Context, fn func(fbdata.Change)) error {
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
	w.fn(fbdata.Change{All: true})
	expect(t, f, 1, "login", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "again", login(c, "alice", "secret"), nil)
	w.end <- errors.New("stream reset")
	w = <-watches // the next watch, after Run forgot
	if accounts, _ := c.sizes(); c.isLive() || accounts != 0 {
		t.Fatalf("after the watch ended: live %v, %d kept; want neither", c.isLive(), accounts)
	}
	expect(t, f, 1, "login between watches", login(c, "alice", "secret"), nil)
	w.fn(fbdata.Change{All: true})
	expect(t, f, 1, "login on the new watch", login(c, "alice", "secret"), nil)
	expect(t, f, 0, "again", login(c, "alice", "secret"), nil)
}

// TestRoutesAnsweredFromCache: a route is the DID and its account, each
// kept, each forgotten by its own notice.
func TestRoutesAnsweredFromCache(t *testing.T) {
	c, f, _ := newLive(t, defaults)
	expect(t, f, 1, "first route", route(c, "100"), nil)
	expect(t, f, 0, "second route", route(c, "100"), nil)
	expect(t, f, 0, "Get of the account a route kept", get(c, "alice"), nil)
	expect(t, f, 1, "login: a route keeps no password", login(c, "alice", "secret"), nil)
	for range 2 {
		expect(t, f, 1, "unknown DID", route(c, "200"), fbdata.ErrNotFound)
		expect(t, f, 1, "DIDsForAccount", func() error { _, err := c.dids.DIDsForAccount(context.Background(), "alice"); return err }, nil)
		expect(t, f, 1, "CalledNumber", func() error { _, err := c.dids.CalledNumber(context.Background(), "100"); return err }, nil)
	}

	c.notice(fbdata.Change{DIDs: []string{"100"}})
	expect(t, f, 1, "route after a notice naming the DID", route(c, "100"), nil)
	expect(t, f, 0, "again", route(c, "100"), nil)
	c.notice(fbdata.Change{Accounts: []string{"alice"}})
	expect(t, f, 1, "route after a notice naming its account", route(c, "100"), nil)
	expect(t, f, 0, "again", route(c, "100"), nil)
	c.notice(fbdata.Change{All: true})
	expect(t, f, 1, "route after a notice of all", route(c, "100"), nil)
}

func TestRouteTTL(t *testing.T) {
	c, f, now := newLive(t, defaults)
	expect(t, f, 1, "route", route(c, "100"), nil)
	*now = now.Add(defaults.TTL)
	expect(t, f, 1, "route at the TTL", route(c, "100"), nil)
}

// TestRunAgainstServiceThatCannotWatch: an accounts service without the
// feed leaves the cache off, and is not asked again at once (it is asked
// once a minute, for a rollout may replace it).
func TestRunAgainstServiceThatCannotWatch(t *testing.T) {
	c, f := newCached(defaults)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	calls := 0
	var logged lockedBuffer
	go c.Run(ctx, func(context.Context, func(fbdata.Change)) error {
		mu.Lock()
		calls++
		mu.Unlock()
		return fmt.Errorf("watch changes: %w", accounts.ErrCannotWatch)
	}, slog.New(slog.NewTextHandler(&logged, nil)))
	// Run says when it asks again as it starts to wait; no second call can
	// come before then.
	eventually.True(t, "the next ask put off", func() bool {
		return strings.Contains(logged.String(), "edge cache off") && strings.Contains(logged.String(), "retry_in="+cannotWatchRetry.String())
	})
	mu.Lock()
	n := calls
	mu.Unlock()
	if n != 1 {
		t.Errorf("asked a service that cannot watch %d times, want once", n)
	}
	expect(t, f, 1, "login", login(c, "alice", "secret"), nil)
	expect(t, f, 1, "again: nothing kept", login(c, "alice", "secret"), nil)
}

// lockedBuffer is a log destination a test reads while Run writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
