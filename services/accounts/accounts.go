// Package accounts answers the questions NAS profiles ask about accounts:
// authentication and lookups. -target=all calls it in-process;
// -target=accounts serves it over gRPC (accountsrpc), which the edge calls.
package accounts

import (
	"context"
	"errors"
	"fmt"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
)

// ErrWrongPassword means the account exists and the password does not match,
// or the account has no password and cannot log in.
// With fbdata.ErrNotFound it is one of the only two errors that may become an
// Access-Reject; anything else must leave the request unanswered.
var ErrWrongPassword = errors.New("wrong password")

// Service authenticates and looks up accounts in a store.
type Service struct {
	store    fbdata.Store
	verifier *password.Verifier
	// decoy is checked in place of a hash the login does not have, so that
	// refusing an unknown name takes as long as refusing a wrong password.
	decoy *password.Decoy
}

// An Option tunes New.
type Option func(*options)

type options struct {
	params password.Params
}

// HashParams are the argon2 parameters new password hashes are made with
// (the configuration's password section). A login with no hash to check costs
// one verification under them. Without this option, or with parameters
// password.Params.Validate refuses, New takes password.DefaultParams.
func HashParams(p password.Params) Option {
	return func(o *options) { o.params = p }
}

// New returns a Service over s that checks passwords with v. A nil v checks
// every password with a full argon2 run.
func New(s fbdata.Store, v *password.Verifier, opts ...Option) *Service {
	if v == nil {
		v = password.NewVerifier(0, 0)
	}
	o := options{params: password.DefaultParams}
	for _, opt := range opts {
		opt(&o)
	}
	return &Service{store: s, verifier: v, decoy: password.DecoyFor(o.params)}
}

// Authenticate returns the account when pw is its password. An unknown
// account yields an error wrapping fbdata.ErrNotFound, and a wrong password,
// or an account without one, an error wrapping ErrWrongPassword; every other
// error (backend down, malformed stored hash, cancelled context) wraps
// neither. An unknown account and one without a password take one password
// verification to refuse, as a wrong password does.
func (s *Service) Authenticate(ctx context.Context, name, pw string) (fbdata.Account, error) {
	a, err := s.store.GetAccount(ctx, name)
	return s.check(ctx, Login{name, pw}, a, err, s.verify(ctx))
}

// verify is the verifier's check, bounded by ctx: one that gets no argon2
// run (the verifier overloaded, or ctx ending first) fails with
// password.ErrOverloaded, which wraps neither sentinel of a Reject.
func (s *Service) verify(ctx context.Context) func(encoded, pw string) (bool, error) {
	return func(encoded, pw string) (bool, error) { return s.verifier.VerifyContext(ctx, encoded, pw) }
}

// Login is one item of AuthenticateMany.
type Login struct {
	Name, Password string
}

// AuthenticateMany is Authenticate for each of logins, item for item the
// same answers, with the accounts read in one round trip when the store can
// (fbdata.BatchReader, one round trip to Redis). The checks the verifier's cache answers are done here;
// those that need argon2 run concurrently, so that one cold run does not hold
// up the others (the verifier bounds the runs). It returns when every check
// is done or ctx is; an item still being checked then fails with ctx's
// error, which wraps neither sentinel, and its argon2 run goes on into the
// verifier's cache, for the NAS's retransmission to find.
func (s *Service) AuthenticateMany(ctx context.Context, logins []Login) ([]fbdata.Account, []error) {
	names := make([]string, len(logins))
	for i, l := range logins {
		names[i] = l.Name
	}
	found, lookups := s.store.GetAccounts(ctx, names)
	accounts := make([]fbdata.Account, len(logins))
	errs := make([]error, len(logins))
	type checked struct {
		i   int
		a   fbdata.Account
		err error
	}
	// Buffered: a check finishing after ctx is done must not block.
	done := make(chan checked, len(logins))
	var pending []int
	for i, l := range logins {
		accounts[i], errs[i] = s.check(ctx, l, found[i], lookups[i], s.verifier.Cached)
		if errors.Is(errs[i], password.ErrNotCached) {
			pending = append(pending, i)
			go func() {
				a, err := s.check(ctx, l, found[i], lookups[i], s.verify(ctx))
				done <- checked{i, a, err}
			}()
		}
	}
	for range pending {
		select {
		case c := <-done:
			accounts[c.i], errs[c.i] = c.a, c.err
		case <-ctx.Done():
			for _, i := range pending {
				// Still ErrNotCached: its check has not come back.
				if errors.Is(errs[i], password.ErrNotCached) {
					errs[i] = fmt.Errorf("authenticate %q: %w", logins[i].Name, ctx.Err())
				}
			}
			return accounts, errs
		}
	}
	return accounts, errs
}

// check is Authenticate once the store has answered the lookup of l.Name
// with a and err, verifying the password with verify.
//
// An unknown name and an account without a password are refused only after
// verify has checked l.Password against the decoy, whose verdict is ignored:
// the Reject then takes the time of a wrong password's, and the verifier
// caches it likewise. A decoy check not made is passed on as a known name's
// would be (pretend): Cached's ErrNotCached, so that AuthenticateMany runs
// it concurrently like any other miss, and an overloaded verifier's or the
// context's error, so that no unknown name is refused while a known one
// would get no answer.
func (s *Service) check(ctx context.Context, l Login, a fbdata.Account, err error, verify func(encoded, pw string) (bool, error)) (fbdata.Account, error) {
	if err != nil {
		// Once the NAS has given up nobody can time the answer, and an
		// unknown name keeps the answer it always had.
		if errors.Is(err, fbdata.ErrNotFound) && ctx.Err() == nil {
			if err := s.pretend(l, verify); err != nil {
				return fbdata.Account{}, err
			}
		}
		return fbdata.Account{}, fmt.Errorf("authenticate %q: %w", l.Name, err)
	}
	// The NAS may have given up while the store answered; argon2 is too
	// expensive to run for nobody.
	if err := ctx.Err(); err != nil {
		return fbdata.Account{}, fmt.Errorf("authenticate %q: %w", l.Name, err)
	}
	if a.PasswordHash == "" {
		// The account cannot log in (a load-balance group, say): a definite
		// no, but one that must not come sooner than a wrong password's.
		if err := s.pretend(l, verify); err != nil {
			return fbdata.Account{}, err
		}
		return fbdata.Account{}, fmt.Errorf("authenticate %q: account has no password: %w", l.Name, ErrWrongPassword)
	}
	ok, err := verify(a.PasswordHash, l.Password)
	if err != nil {
		return fbdata.Account{}, fmt.Errorf("authenticate %q: stored hash: %w", l.Name, err)
	}
	if !ok {
		return fbdata.Account{}, fmt.Errorf("authenticate %q: %w", l.Name, ErrWrongPassword)
	}
	return a, nil
}

// pretend is password.Decoy.Pretend for l, its name folded as the store
// folds names.
func (s *Service) pretend(l Login, verify func(encoded, pw string) (bool, error)) error {
	if err := s.decoy.Pretend(verify, fbdata.Fold(l.Name), l.Password); err != nil {
		return fmt.Errorf("authenticate %q: %w", l.Name, err)
	}
	return nil
}

// Get returns an account by name, case-insensitively.
func (s *Service) Get(ctx context.Context, name string) (fbdata.Account, error) {
	a, err := s.store.GetAccount(ctx, name)
	if err != nil {
		return fbdata.Account{}, fmt.Errorf("accounts: %w", err)
	}
	return a, nil
}

// GetMany is Get for each of names, item for item the same answers, read in
// once (fbdata.BatchReader).
func (s *Service) GetMany(ctx context.Context, names []string) ([]fbdata.Account, []error) {
	accounts, errs := s.store.GetAccounts(ctx, names)
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("accounts: %w", err)
		}
	}
	return accounts, errs
}

// AccountBy returns the account holding value in idx (a UUID, MAC address,
// serial number or sender e-mail, in any spelling fbdata.IndexKey accepts). A
// value that cannot be in idx is not found.
func (s *Service) AccountBy(ctx context.Context, idx fbdata.Index, value string) (fbdata.Account, error) {
	a, err := s.store.AccountBy(ctx, idx, value)
	if err != nil {
		return fbdata.Account{}, fmt.Errorf("accounts: %w", err)
	}
	return a, nil
}

// ErrCannotWatch means the store cannot report changes
// (fbdata.ChangeWatcher).
var ErrCannotWatch = errors.New("the store cannot report changes")

// WatchChanges reports the changes of accounts and DIDs as
// fbdata.ChangeWatcher does, or fails at once with ErrCannotWatch. The
// accounts service relays DID changes too: both live in one data set, and
// one feed keeps one order.
func (s *Service) WatchChanges(ctx context.Context, fn func(fbdata.Change)) error {
	w, ok := s.store.(fbdata.ChangeWatcher)
	if !ok {
		return ErrCannotWatch
	}
	return w.WatchChanges(ctx, fn)
}
