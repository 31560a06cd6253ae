package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
)

// TestRejectsCostTheSame: a login refused because the name is unknown or
// the account has no password runs the verifier exactly as one refused for
// a wrong password does, call for call, through Authenticate and through
// AuthenticateMany: one argon2 run for a new name and password, a cache hit
// for a repeat, in any spelling of the name, and a run again for a password
// another name has tried.
func TestRejectsCostTheSame(t *testing.T) {
	authenticate := map[string]func(*Service, context.Context, string, string) error{
		"Authenticate": func(s *Service, ctx context.Context, name, pw string) error {
			_, err := s.Authenticate(ctx, name, pw)
			return err
		},
		"AuthenticateMany": func(s *Service, ctx context.Context, name, pw string) error {
			_, errs := s.AuthenticateMany(ctx, []Login{{name, pw}})
			return errs[0]
		},
	}
	type step struct {
		name, pw string
		hit      bool // answered from the cache, else one argon2 run
	}
	for how, auth := range authenticate {
		for _, tc := range []struct {
			name, other string // two names refused for the same reason
			want        error
		}{
			{"FaxUser", "", ErrWrongPassword}, // the reference: a known name, a wrong password
			{"nobody", "nemo", fbdata.ErrNotFound},
			{"lb", "", ErrWrongPassword},
		} {
			t.Run(how+"/"+tc.name, func(t *testing.T) {
				s, v := newService(t)
				steps := []step{
					{tc.name, "guess", false},
					{tc.name, "guess", true},
					{strings.ToUpper(tc.name), "guess", true},
					{tc.name, "other guess", false},
				}
				if tc.other != "" {
					steps = append(steps, step{tc.other, "guess", false})
				}
				for i, st := range steps {
					hits, misses := v.Stats()
					if err := auth(s, t.Context(), st.name, st.pw); !errors.Is(err, tc.want) {
						t.Fatalf("step %d (%q, %q): %v, want %v", i, st.name, st.pw, err, tc.want)
					}
					h, m := v.Stats()
					want := fmt.Sprintf("%d hits, %d misses", hits, misses+1)
					if st.hit {
						want = fmt.Sprintf("%d hits, %d misses", hits+1, misses)
					}
					if got := fmt.Sprintf("%d hits, %d misses", h, m); got != want {
						t.Errorf("step %d (%q, %q): verifier at %s, want %s", i, st.name, st.pw, got, want)
					}
				}
			})
		}
	}
}

// TestDecoyVerdictIsIgnored: even a verifier that accepts everything lets no
// one in through the decoy, and one that fails on it turns no Reject into
// silence.
func TestDecoyVerdictIsIgnored(t *testing.T) {
	s, _ := newService(t)
	lb, err := s.Get(t.Context(), "lb")
	if err != nil {
		t.Fatal(err)
	}
	notFound := fmt.Errorf("lookup: %w", fbdata.ErrNotFound)
	for _, tc := range []struct {
		what      string
		a         fbdata.Account
		lookupErr error
		want      error
	}{
		{"unknown name", fbdata.Account{}, notFound, fbdata.ErrNotFound},
		{"account without a password", lb, nil, ErrWrongPassword},
	} {
		for verdict, verify := range map[string]func(string, string) (bool, error){
			"accepts": func(encoded, _ string) (bool, error) {
				if p, err := password.ParseParams(encoded); err != nil || p != cheap {
					t.Errorf("%s: decoy %q has parameters %+v, %v; want %+v", tc.what, encoded, p, err, cheap)
				}
				return true, nil
			},
			"fails": func(string, string) (bool, error) { return false, password.ErrMalformed },
		} {
			a, err := s.check(t.Context(), Login{"x", "pw"}, tc.a, tc.lookupErr, verify)
			if !errors.Is(err, tc.want) || a.Name != "" {
				t.Errorf("%s, verifier %s: %+v, %v; want %v", tc.what, verdict, a, err, tc.want)
			}
			assertRejectOnlyFor(t, err, tc.want)
		}
	}
}

// TestDecoyParams: the decoy costs what the configured hashes cost, and the
// usual cost when nothing, or nothing usable, is configured.
func TestDecoyParams(t *testing.T) {
	for _, tc := range []struct {
		what string
		opts []Option
		want password.Params
	}{
		{"configured", []Option{HashParams(cheap)}, cheap},
		{"not configured", nil, password.DefaultParams},
		{"unusable", []Option{HashParams(password.Params{})}, password.DefaultParams},
	} {
		s := New(openStore(t), nil, tc.opts...)
		if got, err := password.ParseParams(s.decoy.Hash("x")); err != nil || got != tc.want {
			t.Errorf("%s: decoy parameters %+v, %v; want %+v", tc.what, got, err, tc.want)
		}
	}
}

// TestUnmadeCheckIsNoReject: a password check the verifier did not make
// (overloaded, or the request's time up) refuses no one, whether the name
// exists or not: an unknown name refused while a known one got no answer
// would tell the names apart, and a correct password must never be
// refused.
func TestUnmadeCheckIsNoReject(t *testing.T) {
	s, _ := newService(t)
	known, err := s.Get(t.Context(), "FaxUser")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := s.Get(t.Context(), "lb")
	if err != nil {
		t.Fatal(err)
	}
	notFound := fmt.Errorf("lookup: %w", fbdata.ErrNotFound)
	for _, unmade := range []error{password.ErrOverloaded, context.DeadlineExceeded} {
		verify := func(string, string) (bool, error) { return false, unmade }
		for _, tc := range []struct {
			what      string
			l         Login
			a         fbdata.Account
			lookupErr error
		}{
			{"unknown name", Login{"nobody", "pw"}, fbdata.Account{}, notFound},
			{"account without a password", Login{"lb", "pw"}, lb, nil},
			{"wrong password", Login{"FaxUser", "guess"}, known, nil},
			{"right password", Login{"FaxUser", "secret"}, known, nil},
		} {
			_, err := s.check(t.Context(), tc.l, tc.a, tc.lookupErr, verify)
			if !errors.Is(err, unmade) {
				t.Errorf("%s, %v: %v, want it wrapped", tc.what, unmade, err)
			}
			assertRejectOnlyFor(t, err, nil)
		}
	}
}
