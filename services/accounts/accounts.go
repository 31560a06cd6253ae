// Package accounts answers the questions NAS profiles ask about accounts, DIDs
// and called numbers. It runs in-process today; its method set is the future
// gRPC surface.
package accounts

import (
	"context"
	"errors"
	"fmt"

	"kradius.dev/services/password"
	"kradius.dev/services/store"
)

// ErrWrongPassword means the account exists and the password does not match,
// or the account has no password and cannot log in.
// With store.ErrNotFound it is one of the only two errors that may become an
// Access-Reject; anything else must leave the request unanswered.
var ErrWrongPassword = errors.New("wrong password")

// Service authenticates and looks up accounts in a store.
type Service struct {
	store    store.Store
	verifier *password.Verifier
}

// New returns a Service over s that checks passwords with v. A nil v checks
// every password with a full argon2 run.
func New(s store.Store, v *password.Verifier) *Service {
	if v == nil {
		v = password.NewVerifier(0, 0)
	}
	return &Service{store: s, verifier: v}
}

// Authenticate returns the account when pw is its password. An unknown
// account yields an error wrapping store.ErrNotFound, and a wrong password,
// or an account without one, an error wrapping ErrWrongPassword; every other
// error (backend down, malformed stored hash, cancelled context) wraps
// neither.
func (s *Service) Authenticate(ctx context.Context, name, pw string) (store.Account, error) {
	a, err := s.store.GetAccount(ctx, name)
	if err != nil {
		return store.Account{}, fmt.Errorf("authenticate %q: %w", name, err)
	}
	// The NAS may have given up while the store answered; argon2 is too
	// expensive to run for nobody.
	if err := ctx.Err(); err != nil {
		return store.Account{}, fmt.Errorf("authenticate %q: %w", name, err)
	}
	if a.PasswordHash == "" {
		// The account cannot log in (a load-balance group, say). That is a
		// definite no, and there is nothing for argon2 to check.
		return store.Account{}, fmt.Errorf("authenticate %q: account has no password: %w", name, ErrWrongPassword)
	}
	ok, err := s.verifier.Verify(a.PasswordHash, pw)
	if err != nil {
		return store.Account{}, fmt.Errorf("authenticate %q: stored hash: %w", name, err)
	}
	if !ok {
		return store.Account{}, fmt.Errorf("authenticate %q: %w", name, ErrWrongPassword)
	}
	return a, nil
}

// Get returns an account by name, case-insensitively.
func (s *Service) Get(ctx context.Context, name string) (store.Account, error) {
	a, err := s.store.GetAccount(ctx, name)
	if err != nil {
		return store.Account{}, fmt.Errorf("accounts: %w", err)
	}
	return a, nil
}

// AccountBy returns the account holding value in idx (a UUID, MAC address,
// serial number or sender e-mail, in any spelling store.IndexKey accepts). A
// value that cannot be in idx is not found.
func (s *Service) AccountBy(ctx context.Context, idx store.Index, value string) (store.Account, error) {
	a, err := s.store.AccountBy(ctx, idx, value)
	if err != nil {
		return store.Account{}, fmt.Errorf("accounts: %w", err)
	}
	return a, nil
}
