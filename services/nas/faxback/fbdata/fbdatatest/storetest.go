// Package fbdatatest is the conformance suite for fbdata.Store backends. Every
// backend runs the same Run so that swapping bbolt for Redis cannot change what
// a NAS profile sees.
package fbdatatest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
)

// Open returns a fresh, empty store that validates writes under o. Run closes
// it when the subtest ends, so Open must not register its own Close.
type Open func(t *testing.T, o fbdata.Options) fbdata.Store

// test is one conformance check. o is what the store was opened with, for the
// checks whose outcome depends on it.
type test struct {
	name string
	run  func(t *testing.T, s fbdata.Store, o fbdata.Options)
}

// Run checks a backend against the store contract, once with each setting of
// fbdata.Options.
func Run(t *testing.T, open Open) {
	t.Helper()
	run(t, open, accountTests, indexTests, groupTests, didTests, applyTests, calledNumberTests, concurrencyTests, listTests, batchTests)
}

// RunChanges checks a backend that is a fbdata.ChangeWatcher against that
// contract too.
func RunChanges(t *testing.T, open Open) {
	t.Helper()
	t.Run("Changes", func(t *testing.T) { run(t, open, changeTests) })
}

func run(t *testing.T, open Open, groups ...[]test) {
	t.Helper()
	var tests []test
	for _, group := range groups {
		tests = append(tests, group...)
	}
	for _, o := range []fbdata.Options{{}, {LongNames: true}} {
		t.Run(fmt.Sprintf("LongNames=%t", o.LongNames), func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s := open(t, o)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					tt.run(t, s, o)
				})
			}
		})
	}
}

// hash stands in for a PHC string: the store treats it as opaque text.
func hash(n int) string { return fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$salt%d$key%d", n, n) }

// account is a valid plain account; its login group makes a lost field show.
func account(name string) fbdata.Account {
	return fbdata.Account{Name: name, PasswordHash: hash(len(name)), Type: 4, LoginGroup: "*FAX"}
}

func mustPutAccount(t *testing.T, s fbdata.Store, a fbdata.Account) {
	t.Helper()
	if err := s.PutAccount(t.Context(), a); err != nil {
		t.Fatalf("PutAccount(%q): %v", a.Name, err)
	}
}

func mustPutDID(t *testing.T, s fbdata.Store, d fbdata.DID) {
	t.Helper()
	if err := s.PutDID(t.Context(), d); err != nil {
		t.Fatalf("PutDID(%q): %v", d.Number, err)
	}
}

func mustGetAccount(t *testing.T, s fbdata.Store, name string) fbdata.Account {
	t.Helper()
	a, err := s.GetAccount(t.Context(), name)
	if err != nil {
		t.Fatalf("GetAccount(%q): %v", name, err)
	}
	return a
}

func mustAccountBy(t *testing.T, s fbdata.Store, idx fbdata.Index, value string) fbdata.Account {
	t.Helper()
	a, err := s.AccountBy(t.Context(), idx, value)
	if err != nil {
		t.Fatalf("AccountBy(%s, %q): %v", idx, value, err)
	}
	return a
}

func assertAccountAbsent(t *testing.T, s fbdata.Store, name string) {
	t.Helper()
	if a, err := s.GetAccount(t.Context(), name); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("GetAccount(%q) = %+v, %v; want ErrNotFound", name, a, err)
	}
}

func assertAccountByAbsent(t *testing.T, s fbdata.Store, idx fbdata.Index, value string) {
	t.Helper()
	if a, err := s.AccountBy(t.Context(), idx, value); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("AccountBy(%s, %q) = %+v, %v; want ErrNotFound", idx, value, a, err)
	}
}

func assertDIDAbsent(t *testing.T, s fbdata.Store, number string) {
	t.Helper()
	if d, err := s.GetDID(t.Context(), number); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("GetDID(%q) = %+v, %v; want ErrNotFound", number, d, err)
	}
}

func assertDIDs(t *testing.T, s fbdata.Store, name string, want ...string) {
	t.Helper()
	dids, err := s.DIDsForAccount(t.Context(), name)
	if err != nil {
		t.Fatalf("DIDsForAccount(%q): %v", name, err)
	}
	got := make([]string, 0, len(dids))
	for _, d := range dids {
		got = append(got, d.Number)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("DIDsForAccount(%q) numbers = %q, want %q", name, got, want)
	}
}

// assertError checks err wraps want and no other of the store's sentinels, so
// that, say, a conflict cannot also read as not found (a Reject).
func assertError(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
		return
	}
	for _, other := range []error{fbdata.ErrNotFound, fbdata.ErrInvalid, fbdata.ErrConflict} {
		if other != want && errors.Is(err, other) {
			t.Errorf("%s: err = %v wraps %v as well as %v", what, err, other, want)
		}
	}
}

// assertMentions checks an error message names what the operator must fix.
func assertMentions(t *testing.T, what string, err error, words ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not mention %q", what, err, w)
		}
	}
}

// sameAccount compares everything but LastModified, which the store owns. A
// want without a UUID accepts any canonical UUID, since the store assigns one.
func sameAccount(t *testing.T, what string, got, want fbdata.Account) {
	t.Helper()
	if want.UUID == "" {
		assertCanonicalUUID(t, what, got.UUID)
		want.UUID = got.UUID
	}
	got.LastModified, want.LastModified = time.Time{}, time.Time{}
	if len(got.Members) == 0 && len(want.Members) == 0 {
		got.Members, want.Members = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func assertCanonicalUUID(t *testing.T, what, u string) {
	t.Helper()
	parsed, err := fbdata.ParseUUID(u)
	if err != nil || fbdata.FormatUUID(parsed) != u {
		t.Errorf("%s UUID = %q, want a UUID in canonical form", what, u)
	}
}

// sameDID compares the values LineNum points to, not the pointers.
func sameDID(t *testing.T, what string, got, want fbdata.DID) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %s, want %s", what, didString(got), didString(want))
	}
}

func didString(d fbdata.DID) string {
	line := "nil"
	if d.LineNum != nil {
		line = fmt.Sprint(*d.LineNum)
	}
	return fmt.Sprintf("{Number:%q Account:%q Disabled:%t LineNum:%s LineID:%q QueueProfile:%q ANI:%q}",
		d.Number, d.Account, d.Disabled, line, d.LineID, d.QueueProfile, d.ANI)
}

func lineNum(n uint32) *uint32 { return &n }

// assertRecent allows a second of slack either side so that backends storing
// whole seconds (Redis hashes, say) still conform.
func assertRecent(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Before(before.Add(-time.Second)) || got.After(after.Add(time.Second)) {
		t.Errorf("%s = %v, want between %v and %v", what, got, before, after)
	}
}
