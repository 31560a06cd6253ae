package accounts

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
)

// batchStore reads batches through a store's single reads, counting both.
type batchStore struct {
	fbdata.Store
	batches, singles atomic.Int32
}

func (b *batchStore) GetAccount(ctx context.Context, name string) (fbdata.Account, error) {
	b.singles.Add(1)
	return b.Store.GetAccount(ctx, name)
}

func (b *batchStore) GetAccounts(ctx context.Context, names []string) ([]fbdata.Account, []error) {
	b.batches.Add(1)
	accounts := make([]fbdata.Account, len(names))
	errs := make([]error, len(names))
	for i, name := range names {
		accounts[i], errs[i] = b.Store.GetAccount(ctx, name)
	}
	return accounts, errs
}

func (b *batchStore) GetDIDs(context.Context, []string) ([]fbdata.DID, []error) {
	panic("not used")
}

// TestAuthenticateManyIsAuthenticate: every item of one batch gets what
// Authenticate answers it alone, through the embedded store's batch read and
// through one built on single reads that counts them.
func TestAuthenticateManyIsAuthenticate(t *testing.T) {
	base, _ := newService(t)
	bs := &batchStore{Store: base.store}
	logins := []Login{
		{"FaxUser", "secret"}, {"FAXUSER", "secret"}, {"FaxUser", "Secret"}, {"FaxUser", ""},
		{"nobody", "secret"}, {"broken", "plain-text-by-mistake"}, {"lb", ""}, {"lb", "secret"},
		{"FaxUser", "secret"},
	}
	for name, s := range map[string]*Service{
		"one at a time": base,
		"batch reader":  New(bs, password.NewVerifier(16, time.Minute), HashParams(cheap)),
	} {
		// Round 0 runs argon2 for every item, round 1 finds them cached.
		for round := range 2 {
			t.Run(fmt.Sprintf("%s/round %d", name, round), func(t *testing.T) {
				checkAuthenticateMany(t, s, logins)
			})
		}
	}
	// One round trip per batch; the comparisons are the single reads.
	if b, s := bs.batches.Load(), bs.singles.Load(); b != 2 || int(s) != 2*len(logins) {
		t.Errorf("batch reader: %d batch reads and %d single reads, want 2 and %d", b, s, 2*len(logins))
	}
}

func checkAuthenticateMany(t *testing.T, s *Service, logins []Login) {
	t.Helper()
	got, errs := s.AuthenticateMany(t.Context(), logins)
	if len(got) != len(logins) || len(errs) != len(logins) {
		t.Fatalf("AuthenticateMany of %d: %d accounts, %d errors", len(logins), len(got), len(errs))
	}
	for i, l := range logins {
		want, wantErr := s.Authenticate(t.Context(), l.Name, l.Password)
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("item %d (%q, %q) = %+v, Authenticate %+v", i, l.Name, l.Password, got[i], want)
		}
		if (errs[i] == nil) != (wantErr == nil) || errs[i] != nil && errs[i].Error() != wantErr.Error() {
			t.Errorf("item %d (%q, %q) error = %v, Authenticate's %v", i, l.Name, l.Password, errs[i], wantErr)
		}
		for _, sentinel := range []error{fbdata.ErrNotFound, ErrWrongPassword, password.ErrMalformed} {
			if errors.Is(errs[i], sentinel) != errors.Is(wantErr, sentinel) {
				t.Errorf("item %d (%q, %q): errors.Is(%v) = %t, Authenticate's %t", i, l.Name, l.Password, sentinel, errors.Is(errs[i], sentinel), errors.Is(wantErr, sentinel))
			}
		}
	}
}

func TestGetMany(t *testing.T) {
	base, _ := newService(t)
	bs := &batchStore{Store: base.store}
	names := []string{"faxuser", "nobody", "LB", "faxuser"}
	for name, s := range map[string]*Service{"one at a time": base, "batch reader": New(bs, nil)} {
		got, errs := s.GetMany(t.Context(), names)
		for i, n := range names {
			want, wantErr := s.Get(t.Context(), n)
			if !reflect.DeepEqual(got[i], want) || (errs[i] == nil) != (wantErr == nil) || errors.Is(errs[i], fbdata.ErrNotFound) != errors.Is(wantErr, fbdata.ErrNotFound) {
				t.Errorf("%s: item %d (%q) = %q, %v; Get %q, %v", name, i, n, got[i].Name, errs[i], want.Name, wantErr)
			}
		}
	}
	if n := bs.batches.Load(); n != 1 {
		t.Errorf("%d batch reads, want 1", n)
	}
}

func TestAuthenticateManyBackendDown(t *testing.T) {
	down := errors.New("redis: connection refused")
	s := New(failingStore{err: down}, nil)
	_, errs := s.AuthenticateMany(t.Context(), []Login{{"FaxUser", "secret"}, {"nobody", ""}})
	for i, err := range errs {
		if !errors.Is(err, down) {
			t.Errorf("item %d: %v, want it to wrap %v", i, err, down)
		}
		assertRejectOnlyFor(t, err, nil)
	}
}

// TestAuthenticateManyAnswersByDeadline: a slow password check does not hold
// the batch past ctx: it fails with ctx's error, no Reject, while the others
// keep their answers.
func TestAuthenticateManyAnswersByDeadline(t *testing.T) {
	st := openStore(t)
	// Far slower than answering the others, on any machine.
	slow, err := password.Hash("slow", password.Params{Memory: 32 * 1024, Time: 3, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := password.Hash("fast", cheap)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Apply(t.Context(), fbdata.Batch{Accounts: []fbdata.Account{{Name: "slow", PasswordHash: slow}, {Name: "fast", PasswordHash: fast}}})
	if err != nil {
		t.Fatal(err)
	}
	v := password.NewVerifier(16, time.Minute)
	s := New(st, v, HashParams(cheap))
	if _, err := s.Authenticate(t.Context(), "fast", "fast"); err != nil {
		t.Fatal(err)
	}
	// An unknown name waits for its decoy check as a known one waits for
	// its hash's; only a cached one is answered at once.
	if _, err := s.Authenticate(t.Context(), "nobody", ""); !errors.Is(err, fbdata.ErrNotFound) {
		t.Fatal(err)
	}
	// The NAS gives up once the batch waits for the slow check, rather than
	// at a deadline that a busy machine could reach before the others are
	// answered.
	ctx := newWaitWatch(t.Context())
	type result struct {
		got  []fbdata.Account
		errs []error
	}
	answered := make(chan result, 1)
	go func() {
		got, errs := s.AuthenticateMany(ctx, []Login{{"slow", "slow"}, {"fast", "fast"}, {"nobody", ""}})
		answered <- result{got, errs}
	}()
	<-ctx.waiting
	ctx.cancel()
	r := <-answered
	got, errs := r.got, r.errs
	if !errors.Is(errs[0], context.Canceled) {
		t.Errorf("slow item: %v, want context.Canceled", errs[0])
	}
	assertRejectOnlyFor(t, errs[0], nil)
	if errs[1] != nil || got[1].Name != "fast" {
		t.Errorf("fast item = %q, %v; want account fast", got[1].Name, errs[1])
	}
	if !errors.Is(errs[2], fbdata.ErrNotFound) {
		t.Errorf("unknown item: %v, want ErrNotFound", errs[2])
	}
}

// waitWatch is a context that says when a caller first waits on Done.
// AuthenticateMany does so only once it has answered what needs no argon2
// run and started the checks that do.
type waitWatch struct {
	context.Context
	cancel  context.CancelFunc
	waiting chan struct{}
	once    sync.Once
}

func newWaitWatch(parent context.Context) *waitWatch {
	ctx, cancel := context.WithCancel(parent)
	return &waitWatch{Context: ctx, cancel: cancel, waiting: make(chan struct{})}
}

func (w *waitWatch) Done() <-chan struct{} {
	w.once.Do(func() { close(w.waiting) })
	return w.Context.Done()
}
