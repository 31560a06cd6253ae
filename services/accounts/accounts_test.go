package accounts

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"kradius.dev/services/password"
	"kradius.dev/services/store"
	"kradius.dev/services/store/embedded"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// newService returns a Service over a real bbolt store holding account
// "FaxUser" (password "secret", with DID 5551231234) and account "broken",
// whose stored hash is not a PHC string.
func newService(t *testing.T) *Service {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := password.Hash("secret", cheap)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	err = st.Apply(t.Context(), store.Batch{
		Accounts: []store.Account{
			{Name: "FaxUser", PasswordHash: h, Type: 4, LoginGroup: "g"},
			{Name: "broken", PasswordHash: "plain-text-by-mistake"},
		},
		DIDs: []store.DID{{Number: "5551231234", Account: "faxuser", Enabled: true}},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return New(st, password.NewVerifier(16, time.Minute))
}

func TestAuthenticate(t *testing.T) {
	s := newService(t)
	tests := []struct {
		name, account, pw string
		wantErr           error // nil: success
	}{
		{"right password", "FaxUser", "secret", nil},
		{"name folds case", "FAXUSER", "secret", nil},
		{"wrong password", "FaxUser", "Secret", ErrWrongPassword},
		{"empty password", "FaxUser", "", ErrWrongPassword},
		{"unknown account", "nobody", "secret", store.ErrNotFound},
		{"malformed stored hash", "broken", "plain-text-by-mistake", password.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := s.Authenticate(t.Context(), tt.account, tt.pw)
			if tt.wantErr == nil {
				if err != nil || a.Name != "FaxUser" || a.Type != 4 {
					t.Errorf("Authenticate = %+v, %v; want account FaxUser", a, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Authenticate error = %v, want %v", err, tt.wantErr)
			}
			if a != (store.Account{}) {
				t.Errorf("Authenticate returned %+v with an error, want the zero Account", a)
			}
			assertRejectOnlyFor(t, err, tt.wantErr)
		})
	}
}

// assertRejectOnlyFor checks err wraps at most the one Reject-worthy sentinel
// it should: an error that matched both, or matched one it should not, would
// make the RADIUS layer reject a login it should have left unanswered.
func assertRejectOnlyFor(t *testing.T, err, want error) {
	t.Helper()
	for _, sentinel := range []error{store.ErrNotFound, ErrWrongPassword} {
		if sentinel != want && errors.Is(err, sentinel) {
			t.Errorf("error %v wraps %v, which would turn it into a Reject", err, sentinel)
		}
	}
}

// failingStore answers every lookup with err; only the methods Service uses
// are implemented.
type failingStore struct {
	store.Store
	err error
}

func (f failingStore) GetAccount(context.Context, string) (store.Account, error) {
	return store.Account{}, f.err
}

func (f failingStore) GetDID(context.Context, string) (store.DID, error) {
	return store.DID{}, f.err
}

func TestBackendErrorsAreNotRejects(t *testing.T) {
	down := errors.New("redis: connection refused")
	s := New(failingStore{err: down}, nil)
	ctx := t.Context()

	_, err := s.Authenticate(ctx, "FaxUser", "secret")
	if !errors.Is(err, down) {
		t.Errorf("Authenticate error = %v, want it to wrap %v", err, down)
	}
	assertRejectOnlyFor(t, err, nil)

	_, err = s.Get(ctx, "FaxUser")
	if !errors.Is(err, down) {
		t.Errorf("Get error = %v, want it to wrap %v", err, down)
	}
	assertRejectOnlyFor(t, err, nil)

	_, err = s.GetDID(ctx, "5551231234")
	if !errors.Is(err, down) {
		t.Errorf("GetDID error = %v, want it to wrap %v", err, down)
	}
	assertRejectOnlyFor(t, err, nil)
}

// cancellingStore finds the account, but the caller's context is cancelled
// by the time it answers.
type cancellingStore struct {
	store.Store
	cancel context.CancelFunc
	hash   string
}

func (c cancellingStore) GetAccount(_ context.Context, name string) (store.Account, error) {
	c.cancel()
	return store.Account{Name: name, PasswordHash: c.hash}, nil
}

func TestAuthenticateSkipsArgon2AfterCancel(t *testing.T) {
	h, err := password.Hash("secret", cheap)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	v := password.NewVerifier(16, time.Minute)
	s := New(cancellingStore{cancel: cancel, hash: h}, v)
	_, err = s.Authenticate(ctx, "FaxUser", "secret")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Authenticate error = %v, want context.Canceled", err)
	}
	assertRejectOnlyFor(t, err, nil)
	if hits, misses := v.Stats(); hits+misses != 0 {
		t.Errorf("verifier ran %d times after the context was cancelled, want 0", hits+misses)
	}
}

func TestAuthenticateUsesCache(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := password.Hash("secret", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutAccount(t.Context(), store.Account{Name: "a", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	v := password.NewVerifier(16, time.Minute)
	s := New(st, v)
	for range 3 {
		if _, err := s.Authenticate(t.Context(), "a", "secret"); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
	}
	if hits, misses := v.Stats(); hits != 2 || misses != 1 {
		t.Errorf("verifier stats = %d hits, %d misses; want 2, 1", hits, misses)
	}
}

func TestGet(t *testing.T) {
	s := newService(t)
	a, err := s.Get(t.Context(), "faxuser")
	if err != nil || a.Name != "FaxUser" || a.LoginGroup != "g" {
		t.Errorf("Get(faxuser) = %+v, %v; want account FaxUser", a, err)
	}
	if _, err := s.Get(t.Context(), "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(nobody) error = %v, want ErrNotFound", err)
	}
}

func TestGetDID(t *testing.T) {
	s := newService(t)
	want := store.DID{Number: "5551231234", Account: "faxuser", Enabled: true}
	if d, err := s.GetDID(t.Context(), "5551231234"); err != nil || d != want {
		t.Errorf("GetDID = %+v, %v; want %+v", d, err, want)
	}
	if _, err := s.GetDID(t.Context(), "0000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDID(0000) error = %v, want ErrNotFound", err)
	}
}
