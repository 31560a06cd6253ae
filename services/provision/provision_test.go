package provision

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"kradius.dev/services/password"
	"kradius.dev/services/store"
	"kradius.dev/services/store/embedded"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

const refHash = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"

func load(doc string) (store.Batch, error) {
	return Load(strings.NewReader(doc), cheap)
}

func TestLoadFiles(t *testing.T) {
	for _, name := range []string{"accounts.yaml", "accounts.json"} {
		t.Run(name, func(t *testing.T) {
			b, err := LoadFile(filepath.Join("testdata", name), cheap)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if len(b.Accounts) != 2 {
				t.Fatalf("got %d accounts, want 2", len(b.Accounts))
			}
			fax, legacy := b.Accounts[0], b.Accounts[1]
			if fax.Name != "FaxUser" || fax.Type != 4 || fax.LoginGroup != "night-shift" {
				t.Errorf("accounts[0] = %+v, want FaxUser, type 4, login group night-shift", fax)
			}
			if ok, err := password.Verify(fax.PasswordHash, "s3cret"); !ok || err != nil {
				t.Errorf("accounts[0] hash %q does not verify s3cret: %v, %v", fax.PasswordHash, ok, err)
			}
			if got, _ := password.ParseParams(fax.PasswordHash); got != cheap {
				t.Errorf("accounts[0] hashed with %+v, want the params passed to Load %+v", got, cheap)
			}
			if legacy != (store.Account{Name: "legacy", PasswordHash: refHash}) {
				t.Errorf("accounts[1] = %+v, want legacy with the given hash and type 0", legacy)
			}
			want := []store.DID{
				{Number: "5551231234", Account: "faxuser", Enabled: true},
				{Number: "5559990000", Account: "FaxUser", Enabled: false},
				{Number: "5550000001", Account: "legacy", Enabled: true},
			}
			if len(b.DIDs) != len(want) {
				t.Fatalf("DIDs = %+v, want %+v", b.DIDs, want)
			}
			for i := range want {
				if b.DIDs[i] != want[i] {
					t.Errorf("dids[%d] = %+v, want %+v", i, b.DIDs[i], want[i])
				}
			}
		})
	}
}

func TestLoadedBatchApplies(t *testing.T) {
	b, err := LoadFile(filepath.Join("testdata", "accounts.yaml"), cheap)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	dids, err := st.DIDsForAccount(t.Context(), "FAXUSER")
	if err != nil || len(dids) != 2 {
		t.Errorf("DIDsForAccount(FaxUser) = %+v, %v; want 2 DIDs", dids, err)
	}
}

func TestLoadDefaults(t *testing.T) {
	b, err := load(`
accounts:
  - name: minimal
    passwordHash: "` + refHash + `"
dids:
  - number: "1"
    account: minimal
`)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if a := b.Accounts[0]; a.Type != 0 || a.LoginGroup != "" {
		t.Errorf("account defaults = type %d, login group %q; want 0 and empty", a.Type, a.LoginGroup)
	}
	if !b.DIDs[0].Enabled {
		t.Error("DID without enabled is disabled, want enabled")
	}
}

func TestLoadKeepsScalarsVerbatim(t *testing.T) {
	// Unquoted numbers must keep their spelling: a leading zero in a DID or
	// a password is significant.
	b, err := load(`
accounts:
  - name: 007
    password: 0123
dids:
  - number: 05551231234
    account: 007
`)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if b.Accounts[0].Name != "007" || b.DIDs[0].Number != "05551231234" || b.DIDs[0].Account != "007" {
		t.Errorf("batch = %+v, want names and numbers as written", b)
	}
	if ok, _ := password.Verify(b.Accounts[0].PasswordHash, "0123"); !ok {
		t.Error(`password 0123 was not hashed as the text "0123"`)
	}
}

func TestLoadEmpty(t *testing.T) {
	for _, doc := range []string{"", "# nothing yet\n", "---\n", "accounts: []\ndids: []\n", "{}"} {
		b, err := load(doc)
		if err != nil || len(b.Accounts) != 0 || len(b.DIDs) != 0 {
			t.Errorf("Load(%q) = %+v, %v; want an empty batch", doc, b, err)
		}
	}
}

func TestLoadRecordErrors(t *testing.T) {
	const hashLine = `    passwordHash: "` + refHash + `"` + "\n"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"both passwords", "accounts:\n  - name: x\n    password: p\n" + hashLine,
			[]string{`accounts[0] (name "x"): password: set either password or passwordHash, not both`}},
		{"no password", "accounts:\n  - name: x\n",
			[]string{`accounts[0] (name "x"): password: set one of password or passwordHash`}},
		{"null password", "accounts:\n  - name: x\n    password: null\n",
			[]string{`accounts[0] (name "x"): password: set one of password or passwordHash`}},
		{"empty password", "accounts:\n  - name: x\n    password: \"\"\n",
			[]string{`accounts[0] (name "x"): password: must not be empty`}},
		{"empty passwordHash", "accounts:\n  - name: x\n    passwordHash: \"\"\n",
			[]string{`accounts[0] (name "x"): passwordHash: must not be empty`}},
		{"clear text in passwordHash", "accounts:\n  - name: x\n    passwordHash: hunter2\n",
			[]string{`accounts[0] (name "x"): passwordHash: malformed password hash: want $argon2id$v=19$m=,t=,p=$salt$key, got 0 $-separated fields`}},
		{"bcrypt passwordHash", "accounts:\n  - name: x\n    passwordHash: \"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\"\n",
			[]string{`accounts[0] (name "x"): passwordHash: malformed password hash: want $argon2id$v=19$m=,t=,p=$salt$key, got 3 $-separated fields`}},
		{"empty name", "accounts:\n  - password: p\n",
			[]string{`accounts[0] (name ""): name: must not be empty`}},
		{"17-byte name", "accounts:\n  - name: abcdefghijklmnopq\n    password: p\n",
			[]string{`accounts[0] (name "abcdefghijklmnopq"): name: "abcdefghijklmnopq" is 17 bytes, the limit is 16`}},
		{"type 3", "accounts:\n  - name: x\n    password: p\n    type: 3\n",
			[]string{`accounts[0] (name "x"): type: 3 is not an FB-Account-Type (0, 1, 4, 5, 8, 9, 10)`}},
		{"duplicate name", "accounts:\n  - name: abc\n    password: p\n  - name: other\n    password: p\n  - name: ABC\n    password: p\n",
			[]string{`accounts[2] (name "ABC"): name: duplicates accounts[0] (name "abc"); names are case-insensitive`}},
		{"empty number", "dids:\n  - account: x\n",
			[]string{`dids[0] (number ""): number: must not be empty`}},
		{"empty account", "dids:\n  - number: \"1\"\n",
			[]string{`dids[0] (number "1"): account: must not be empty`}},
		{"duplicate number", "dids:\n  - {number: \"1\", account: a}\n  - {number: \"2\", account: a}\n  - {number: \"1\", account: b}\n",
			[]string{`dids[2] (number "1"): number: duplicates dids[0]`}},
		{"every problem at once", "accounts:\n  - name: x\n    password: p\n" + hashLine + "    type: 2\n  - name: \"\"\ndids:\n  - number: \"\"\n",
			[]string{
				`accounts[0] (name "x"): password: set either password or passwordHash, not both`,
				`accounts[0] (name "x"): type: 2 is not an FB-Account-Type (0, 1, 4, 5, 8, 9, 10)`,
				`accounts[1] (name ""): password: set one of password or passwordHash`,
				`accounts[1] (name ""): name: must not be empty`,
				`dids[0] (number ""): number: must not be empty`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := load(tt.doc)
			if err == nil {
				t.Fatalf("Load = %+v, want an error", b)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("Load error:\n%s\nwant:\n%s", got, want)
			}
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("Load error does not wrap store.ErrInvalid")
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Errorf("Load error holds no *RecordError")
			}
			if len(b.Accounts)+len(b.DIDs) != 0 {
				t.Errorf("Load returned records %+v alongside an error", b)
			}
		})
	}
}

func TestLoadDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"unknown account field", "accounts:\n  - name: x\n    passwrd: p\n", "line 3: field passwrd not found"},
		{"unknown top-level field", "users: []\n", "line 1: field users not found"},
		{"snake_case field", "accounts:\n  - name: x\n    password_hash: h\n", "field password_hash not found"},
		{"negative type", "accounts:\n  - name: x\n    password: p\n    type: -1\n", "cannot unmarshal !!int `-1` into uint32"},
		{"enabled not a bool", "dids:\n  - number: \"1\"\n    account: a\n    enabled: maybe\n", "cannot unmarshal !!str `maybe` into bool"},
		{"repeated key", "accounts:\n  - name: x\n    name: y\n", `mapping key "name" already defined`},
		{"list at top", "- name: x\n", "cannot unmarshal !!seq"},
		{"second document", "accounts: []\n---\ndids: []\n", "more than one document"},
		{"broken JSON", `{"accounts": [}`, "decode: yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadRejectsBadParams(t *testing.T) {
	_, err := Load(strings.NewReader("accounts: []\n"), password.Params{})
	if err == nil || !strings.Contains(err.Error(), "hash parameters") {
		t.Errorf("Load with zero Params = %v, want a hash parameters error", err)
	}
}

func TestLoadHashesEveryPassword(t *testing.T) {
	// More accounts than cores, so the hashing workers each take several.
	var doc strings.Builder
	doc.WriteString("accounts:\n")
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	for _, n := range names {
		doc.WriteString("  - {name: " + n + ", password: pw-" + n + "}\n")
	}
	b, err := load(doc.String())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for i, a := range b.Accounts {
		if a.Name != names[i] {
			t.Errorf("accounts[%d].Name = %q, want %q", i, a.Name, names[i])
		}
		if ok, err := password.Verify(a.PasswordHash, "pw-"+names[i]); !ok || err != nil {
			t.Errorf("accounts[%d] hash does not verify its password: %v, %v", i, ok, err)
		}
	}
}

func TestLoadFileErrorsNamePath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if _, err := LoadFile(missing, cheap); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadFile(missing) = %v, want fs.ErrNotExist naming %s", err, missing)
	}
	bad := filepath.Join("testdata", "accounts.yaml")
	if _, err := LoadFile(bad, password.Params{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadFile with bad params = %v, want an error naming %s", err, bad)
	}
}
