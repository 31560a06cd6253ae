package accounts

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
	"kradius.dev/services/password"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newService returns a Service over a real bbolt store holding account
// "FaxUser" (password "secret", a fax ATA with DIDs 5551231234 and
// 5551230000), account "broken", whose stored hash is not a PHC string, and
// load-balance group "lb", which has no password.
func newService(t *testing.T) (*Service, *password.Verifier) {
	t.Helper()
	st := openStore(t)
	h, err := password.Hash("secret", cheap)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	err = st.Apply(t.Context(), fbdata.Batch{
		Accounts: []fbdata.Account{
			{Name: "FaxUser", PasswordHash: h, Type: 4, LoginGroup: "G", MACAddress: "00908F1D37F0",
				SerialNumber: "27482734", SndEmail: "fax@example.org"},
			{Name: "broken", PasswordHash: "plain-text-by-mistake"},
			{Name: "lb", Type: 8, Members: []string{"FaxUser"}},
		},
		DIDs: []fbdata.DID{
			{Number: "5551231234", Account: "faxuser"},
			{Number: "5551230000", Account: "FaxUser", Disabled: true},
		},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	v := password.NewVerifier(16, time.Minute)
	return New(st, v, HashParams(cheap)), v
}

func TestAuthenticate(t *testing.T) {
	s, _ := newService(t)
	tests := []struct {
		name, account, pw string
		wantErr           error // nil: success
	}{
		{"right password", "FaxUser", "secret", nil},
		{"name folds case", "FAXUSER", "secret", nil},
		{"wrong password", "FaxUser", "Secret", ErrWrongPassword},
		{"empty password", "FaxUser", "", ErrWrongPassword},
		{"unknown account", "nobody", "secret", fbdata.ErrNotFound},
		{"malformed stored hash", "broken", "plain-text-by-mistake", password.ErrMalformed},
		{"account without a password", "lb", "", ErrWrongPassword},
		{"account without a password, given one", "lb", "secret", ErrWrongPassword},
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
			if !reflect.DeepEqual(a, fbdata.Account{}) {
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
	for _, sentinel := range []error{fbdata.ErrNotFound, ErrWrongPassword} {
		if sentinel != want && errors.Is(err, sentinel) {
			t.Errorf("error %v wraps %v, which would turn it into a Reject", err, sentinel)
		}
	}
}

// failingStore answers every call with err; only the methods Service uses
// are implemented.
type failingStore struct {
	fbdata.Store
	err error
}

func (f failingStore) GetAccount(context.Context, string) (fbdata.Account, error) {
	return fbdata.Account{}, f.err
}

// GetAccounts fails the whole read, as a backend down does.
func (f failingStore) GetAccounts(_ context.Context, names []string) ([]fbdata.Account, []error) {
	errs := make([]error, len(names))
	for i := range errs {
		errs[i] = f.err
	}
	return make([]fbdata.Account, len(names)), errs
}

func (f failingStore) AccountBy(context.Context, fbdata.Index, string) (fbdata.Account, error) {
	return fbdata.Account{}, f.err
}

func (f failingStore) GetDID(context.Context, string) (fbdata.DID, error) {
	return fbdata.DID{}, f.err
}

func (f failingStore) DIDsForAccount(context.Context, string) ([]fbdata.DID, error) {
	return nil, f.err
}

func (f failingStore) GetCalledNumber(context.Context, string) (fbdata.CalledNumber, error) {
	return fbdata.CalledNumber{}, f.err
}

func (f failingStore) RecordCalledNumber(context.Context, string, fbdata.CallResult) error {
	return f.err
}

func TestBackendErrorsAreNotRejects(t *testing.T) {
	down := errors.New("redis: connection refused")
	s := New(failingStore{err: down}, nil)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
	}{
		{"Authenticate", func() error { _, err := s.Authenticate(ctx, "FaxUser", "secret"); return err }},
		{"Get", func() error { _, err := s.Get(ctx, "FaxUser"); return err }},
		{"AccountBy", func() error { _, err := s.AccountBy(ctx, fbdata.IndexMAC, "00908F1D37F0"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, down) {
				t.Errorf("error = %v, want it to wrap %v", err, down)
			}
			assertRejectOnlyFor(t, err, nil)
		})
	}
}

// cancellingStore finds the account, but the caller's context is cancelled
// by the time it answers.
type cancellingStore struct {
	fbdata.Store
	cancel context.CancelFunc
	hash   string
}

func (c cancellingStore) GetAccount(_ context.Context, name string) (fbdata.Account, error) {
	c.cancel()
	return fbdata.Account{Name: name, PasswordHash: c.hash}, nil
}

func TestAuthenticateSkipsArgon2AfterCancel(t *testing.T) {
	h, err := password.Hash("secret", cheap)
	if err != nil {
		t.Fatal(err)
	}
	for _, stored := range []string{h, ""} {
		ctx, cancel := context.WithCancel(t.Context())
		v := password.NewVerifier(16, time.Minute)
		s := New(cancellingStore{cancel: cancel, hash: stored}, v)
		_, err = s.Authenticate(ctx, "FaxUser", "secret")
		// Not even a wrong-password Reject for a hash-less account: the
		// NAS has given up, and nobody should act on an answer.
		if !errors.Is(err, context.Canceled) {
			t.Errorf("hash %q: Authenticate error = %v, want context.Canceled", stored, err)
		}
		assertRejectOnlyFor(t, err, nil)
		if hits, misses := v.Stats(); hits+misses != 0 {
			t.Errorf("verifier ran %d times after the context was cancelled, want 0", hits+misses)
		}
	}
}

func TestAuthenticateUsesCache(t *testing.T) {
	st := openStore(t)
	h, err := password.Hash("secret", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutAccount(t.Context(), fbdata.Account{Name: "a", PasswordHash: h}); err != nil {
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
	s, _ := newService(t)
	a, err := s.Get(t.Context(), "faxuser")
	if err != nil || a.Name != "FaxUser" || a.LoginGroup != "G" {
		t.Errorf("Get(faxuser) = %+v, %v; want account FaxUser", a, err)
	}
	if _, err := s.Get(t.Context(), "nobody"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("Get(nobody) error = %v, want ErrNotFound", err)
	}
}

func TestAccountBy(t *testing.T) {
	s, _ := newService(t)
	fax, err := s.Get(t.Context(), "FaxUser")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		idx   fbdata.Index
		value string
		found bool
	}{
		{fbdata.IndexUUID, fax.UUID, true},
		{fbdata.IndexMAC, "00:90:8f:1d:37:f0", true},
		{fbdata.IndexSerial, "27482734", true},
		{fbdata.IndexSenderEmail, "FAX@example.org", true},
		{fbdata.IndexMAC, "00908F1D37F1", false},
		{fbdata.IndexMAC, "garbage", false},
		{fbdata.IndexSenderEmail, "nobody@example.org", false},
	}
	for _, tt := range tests {
		a, err := s.AccountBy(t.Context(), tt.idx, tt.value)
		switch {
		case tt.found && (err != nil || a.Name != "FaxUser"):
			t.Errorf("AccountBy(%s, %q) = %q, %v; want FaxUser", tt.idx, tt.value, a.Name, err)
		case !tt.found && !errors.Is(err, fbdata.ErrNotFound):
			t.Errorf("AccountBy(%s, %q) = %q, %v; want ErrNotFound", tt.idx, tt.value, a.Name, err)
		}
	}
}
