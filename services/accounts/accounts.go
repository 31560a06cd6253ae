// Package accounts answers the questions NAS profiles ask about accounts and
// DIDs. It runs in-process today; its method set is the future gRPC surface.
package accounts

import (
	"context"
	"errors"
	"fmt"

	"kradius.dev/services/password"
	"kradius.dev/services/store"
)

// ErrWrongPassword means the account exists and the password does not match.
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
// account yields an error wrapping store.ErrNotFound and a wrong password one
// wrapping ErrWrongPassword; every other error (backend down, malformed stored
// hash, cancelled context) wraps neither.
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

// GetDID returns a DID by number.
func (s *Service) GetDID(ctx context.Context, number string) (store.DID, error) {
	d, err := s.store.GetDID(ctx, number)
	if err != nil {
		return store.DID{}, fmt.Errorf("accounts: %w", err)
	}
	return d, nil
}
