package password

import (
	"errors"
	"testing"
)

// TestDecoyCostsWhatAHashCosts: a decoy hash decodes to the parameters, salt
// length and key length of one Hash makes, which are all argon2's cost
// depends on.
func TestDecoyCostsWhatAHashCosts(t *testing.T) {
	for _, p := range []Params{cheap, DefaultParams, {Memory: 256, Time: 3, Threads: 2}} {
		d, err := NewDecoy(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(d.Hash("nobody"))
		if err != nil {
			t.Fatalf("%+v: decoy does not decode: %v", p, err)
		}
		want, err := decode(mustHash(t, "pw", p))
		if err != nil {
			t.Fatal(err)
		}
		if got.params != want.params || len(got.salt) != len(want.salt) || len(got.key) != len(want.key) {
			t.Errorf("decoy: %+v, %d-byte salt, %d-byte key; Hash: %+v, %d, %d",
				got.params, len(got.salt), len(got.key), want.params, len(want.salt), len(want.key))
		}
	}
}

// TestDecoyHashPerName: one name keeps one decoy, so a verifier caches its
// checks as it caches a real hash's; different names and different decoys
// have different ones, so that one name's check is no cache hit for another.
func TestDecoyHashPerName(t *testing.T) {
	d, err := NewDecoy(cheap)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewDecoy(cheap)
	if err != nil {
		t.Fatal(err)
	}
	if first := d.Hash("nobody"); first != d.Hash("nobody") {
		t.Error("one name, two decoy hashes")
	}
	if d.Hash("nobody") == d.Hash("nemo") {
		t.Error("two names, one decoy hash")
	}
	if d.Hash("nobody") == other.Hash("nobody") {
		t.Error("two decoys, one hash for a name")
	}
	for _, pw := range []string{"", "password", "nobody"} {
		if ok, err := Verify(d.Hash("nobody"), pw); ok || err != nil {
			t.Errorf("Verify(decoy, %q) = %v, %v; want false, nil", pw, ok, err)
		}
	}
}

func TestNewDecoyRefusesBadParams(t *testing.T) {
	if _, err := NewDecoy(Params{Memory: 64, Time: 0, Threads: 1}); err == nil {
		t.Error("NewDecoy accepted t=0")
	}
}

// TestDecoyPretend: the verdict is discarded, a check not made is passed
// on, and a decoy called malformed is no error; the hash checked is the
// name's.
func TestDecoyPretend(t *testing.T) {
	d := DecoyFor(Params{Memory: 64, Time: 0, Threads: 1}) // refused: DefaultParams
	if _, err := ParseParams(d.Hash("x")); err != nil {
		t.Fatalf("DecoyFor refused parameters: %v", err)
	}
	for _, tc := range []struct {
		name    string
		verdict bool
		err     error
		want    error
	}{
		{"wrong", false, nil, nil},
		{"right by chance", true, nil, nil},
		{"malformed", false, ErrMalformed, nil},
		{"overloaded", false, ErrOverloaded, ErrOverloaded},
		{"not cached", false, ErrNotCached, ErrNotCached},
	} {
		var checked string
		err := d.Pretend(func(encoded, pw string) (bool, error) { checked = encoded; return tc.verdict, tc.err }, "alice", "pw")
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Pretend = %v, want %v", tc.name, err, tc.want)
		}
		if checked != d.Hash("alice") {
			t.Errorf("%s: checked %q, want the decoy's hash for alice", tc.name, checked)
		}
	}
}
