package provision

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"kradius.dev/services/fieldtest"
)

// inverted pairs the booleans the file says positively (default true) with
// the store's negated ones, by JSON name: file field → store field.
var (
	accountInverted = map[string]string{
		"saveCDR":        "noSaveCDR",
		"sendEnabled":    "sendDisabled",
		"receiveEnabled": "receiveDisabled",
	}
	didInverted = map[string]string{"enabled": "disabled"}
)

// accountJSONOnly are the fields, by JSON name, that account() does not copy
// from a field of the same name.
var accountJSONOnly = fieldtest.Exceptions{
	"password":        "check hashes it into PasswordHash once every record is known good",
	"passwordHash":    "check judges it beside password and then sets PasswordHash; account() leaves it",
	"lastModified":    "set by the store on every write",
	"saveCDR":         "inverted, into noSaveCDR: see accountInverted",
	"sendEnabled":     "inverted, into sendDisabled: see accountInverted",
	"receiveEnabled":  "inverted, into receiveDisabled: see accountInverted",
	"noSaveCDR":       "from saveCDR, inverted: see accountInverted",
	"sendDisabled":    "from sendEnabled, inverted: see accountInverted",
	"receiveDisabled": "from receiveEnabled, inverted: see accountInverted",
}

// accountUnset are the fields of fbdata.Account account() leaves to others.
var accountUnset = fieldtest.Exceptions{
	"PasswordHash": "check sets it, from password or passwordHash",
	"LastModified": "set by the store on every write",
}

var didJSONOnly = fieldtest.Exceptions{
	"enabled":  "inverted, into disabled: see didInverted",
	"disabled": "from enabled, inverted: see didInverted",
}

// Every field of a file's account reaches fbdata.Account under its own name,
// or inverted, and every field of fbdata.Account comes from the file: a
// field added to one of them alone fails here.
func TestAccountRecordFields(t *testing.T) {
	var r accountRecord
	fieldtest.Fill(t, &r)
	// The filled true is the default; only false reaches the store.
	for file := range accountInverted {
		r = withJSON(t, r, file, false)
	}
	a := r.account()
	fieldtest.RequireSet(t, "account()", a, accountUnset)
	fieldtest.RequireSameJSON(t, "account()", r, a, accountJSONOnly)
	requireInverted(t, accountInverted, func(r accountRecord) any { return r.account() })
}

func TestDIDRecordFields(t *testing.T) {
	var r didRecord
	fieldtest.Fill(t, &r)
	for file := range didInverted {
		r = withJSON(t, r, file, false)
	}
	d := r.did()
	fieldtest.RequireSet(t, "did()", d, nil)
	fieldtest.RequireSameJSON(t, "did()", r, d, didJSONOnly)
	requireInverted(t, didInverted, func(r didRecord) any { return r.did() })
}

// requireInverted checks each pair alone: with only that file field false,
// only its store field is true.
func requireInverted[T any](t *testing.T, pairs map[string]string, convert func(T) any) {
	t.Helper()
	for file, kept := range pairs {
		var r T
		fieldtest.Fill(t, &r)
		got := fieldtest.JSONFields(t, convert(withJSON(t, r, file, false)))
		for _, other := range pairs {
			if want := other == kept; (got[other] == true) != want {
				t.Errorf("with %s false, %s is %v, want %v", file, other, got[other], want)
			}
		}
	}
}

// withJSON returns r with its field of that JSON name set to v; a name the
// file does not have fails the test.
func withJSON[T any](t *testing.T, r T, name string, v any) T {
	t.Helper()
	m := fieldtest.JSONFields(t, r)
	if _, ok := m[name]; !ok {
		t.Fatalf("%T has no field %q", r, name)
	}
	m[name] = v
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A YAML file and a JSON file spell every field alike. The kinds'
// sections are the exception: decodeJSONSections reads them by name.
func TestRecordTagsAgree(t *testing.T) {
	for _, v := range []any{file{}, accountRecord{}, didRecord{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			f := rt.Field(i)
			if f.Name == "Kinds" && rt == reflect.TypeOf(file{}) {
				continue
			}
			y, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			j, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if y == "" || y != j {
				t.Errorf("%s.%s: yaml name %q, json name %q", rt.Name(), f.Name, y, j)
			}
		}
	}
}
