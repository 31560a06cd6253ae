package provision

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	genericv1 "kradius.dev/proto/kradius/generic/v1"
	"kradius.dev/services/fieldtest"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
	"kradius.dev/services/nas/generic"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// kinds are the kinds whose sections the tests' files may hold.
var kinds = recordsvc.Kinds([]nas.Plugin{generic.Plugin})

const refHash = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"

func load(doc string) (fbdata.Batch, error) {
	d, err := Load(strings.NewReader(doc), cheap, fbdata.Options{}, kinds...)
	return d.Batch, err
}

// wantFiles is what testdata/accounts.yaml and accounts.json hold, with the
// clear-text passwords in clearText instead of hashes.
func wantFiles() (b fbdata.Batch, clearText map[string]string) {
	line1 := uint32(1)
	b = fbdata.Batch{
		Accounts: []fbdata.Account{
			{
				Name: "FaxUser", UUID: "05a32765-c400-4993-90d8-35289f96988a", Type: 4,
				LoginGroup: "*NIGHT-SHIFT", RuleGroup: "PRIORITY",
				CDRInfo: "cost centre 7", Customer: "ACME Corp", Source: "crm",
				RcvEmail: "faxes@acme.example", SndEmail: "Sender@Acme.example", RcvFormat: "pdf",
				RcvCSID: "+1 503 555 0100", SndTSID: "ACME FAX", SndANI: "5035550100",
				RcvFailoverAccount: "lb", RcvFailoverMode: "load-balance-group-member",
				QueueProfile:  `<QPXml Rf="0" Dn="1" Ndn="1" Ea="" Ef="" Ln="en-US" Tz="Pacific*" />`,
				CallAheadMode: "dynamic", UploadLogs: "after-errors",
				MACAddress: "00908F1D37F0", SerialNumber: "27482734", ProvisioningArg: "basecfg=remote-admin.ini",
			},
			{Name: "legacy", UUID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", PasswordHash: refHash},
			{
				Name: "expired", Type: 1,
				NoSaveCDR: true, SendDisabled: true, ReceiveDisabled: true,
				SendTimeExpired: true, ReceiveTimeExpired: true, SendOnBehalfOf: true,
				CallAheadMode: "never", UploadLogs: "never",
				RcvFailoverAccount: "MailGW", RcvFailoverMode: "always",
			},
			{Name: "MailGW", RcvFormat: "tiff"},
			{Name: "lb", Type: 9, Members: []string{"FaxUser", "LEGACY"}},
		},
		DIDs: []fbdata.DID{
			{Number: "5551231234", Account: "faxuser"},
			{Number: "5559990000", Account: "FaxUser", Disabled: true},
			{Number: "5550000001", Account: "legacy"},
			{Number: "2222", Account: "FaxUser", LineNum: &line1, LineID: "Front desk",
				QueueProfile: `<QPXml Op="1" Rf="0" Dn="1" Ndn="1" Ea="" Ef="" />`, ANI: "5035550101"},
			{Number: "3333", Account: "lb"},
		},
		CalledNumbers: []fbdata.CalledNumber{
			{Number: "5035550142", FaxVerified: true},
			{Number: "5035550143", VoiceError: true},
			{Number: "5035550144", FaxVerified: true, VoiceError: true},
		},
	}
	return b, map[string]string{"FaxUser": "s3cret", "expired": "n0-credit", "MailGW": "gateway"}
}

func TestLoadFiles(t *testing.T) {
	for _, name := range []string{"accounts.yaml", "accounts.json"} {
		t.Run(name, func(t *testing.T) {
			got, err := LoadFile(filepath.Join("testdata", name), cheap, fbdata.Options{}, kinds...)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			want, clearText := wantFiles()
			if len(got.Accounts) != len(want.Accounts) {
				t.Fatalf("got %d accounts, want %d", len(got.Accounts), len(want.Accounts))
			}
			for i, a := range got.Accounts {
				if pw, ok := clearText[a.Name]; ok {
					if ok, err := password.Verify(a.PasswordHash, pw); !ok || err != nil {
						t.Errorf("accounts[%d] hash %q does not verify %q: %v, %v", i, a.PasswordHash, pw, ok, err)
					}
					if params, _ := password.ParseParams(a.PasswordHash); params != cheap {
						t.Errorf("accounts[%d] hashed with %+v, want the params passed to Load %+v", i, params, cheap)
					}
					a.PasswordHash = ""
				}
				if !reflect.DeepEqual(a, want.Accounts[i]) {
					t.Errorf("accounts[%d] =\n%+v\nwant\n%+v", i, a, want.Accounts[i])
				}
			}
			if !reflect.DeepEqual(got.DIDs, want.DIDs) {
				t.Errorf("DIDs =\n%+v\nwant\n%+v", got.DIDs, want.DIDs)
			}
			if !reflect.DeepEqual(got.CalledNumbers, want.CalledNumbers) {
				t.Errorf("called numbers =\n%+v\nwant\n%+v", got.CalledNumbers, want.CalledNumbers)
			}
			checkGenericUsers(t, got.Records)
		})
	}
}

// checkGenericUsers checks the fixtures' generic.users section, read
// through the generic profile's Schema: the clear password hashed with the
// params given to Load.
func checkGenericUsers(t *testing.T, recs []recordsvc.Write) {
	t.Helper()
	if len(recs) != 2 || recs[0].Kind != "generic.users" || recs[1].Kind != "generic.users" {
		t.Fatalf("records %v, want the two generic.users", recs)
	}
	u := recs[0].Value.(*genericv1.User)
	if ok, err := password.Verify(u.GetPasswordHash(), "dial-in"); !ok || err != nil {
		t.Errorf("Dialup1's hash %q does not verify: %v", u.GetPasswordHash(), err)
	}
	if params, _ := password.ParseParams(u.GetPasswordHash()); params != cheap {
		t.Errorf("Dialup1 hashed with %+v, want %+v", params, cheap)
	}
	u.PasswordHash = ""
	if want := (&genericv1.User{Name: "Dialup1", ReplyMessage: "Welcome"}); !proto.Equal(u, want) {
		t.Errorf("users[0] = %v, want %v", u, want)
	}
	if want := (&genericv1.User{Name: "chapuser", ChapPassword: "chap-secret"}); !proto.Equal(recs[1].Value, want) {
		t.Errorf("users[1] = %v, want %v", recs[1].Value, want)
	}
}

func TestKindSections(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown section", "generic.userz: []\n", `"generic.userz": unknown section; the sections are accounts, dids, calledNumbers, generic.users`},
		{"unknown field", "generic.users:\n  - {name: a, chapPasword: x}\n", `generic.users[0]: `},
		{"invalid record", "generic.users:\n  - {name: a}\n", `generic.users[0]: user "a": passwordHash or chapPassword: one is required`},
		{"duplicate key", "generic.users:\n  - {name: a, chapPassword: x}\n  - {name: A, chapPassword: y}\n", `generic.users[1] (key "a"): duplicates generic.users[0]`},
		{"unknown JSON section", `{"generic.userz": []}`, `"generic.userz": unknown section`},
		{"unknown JSON field", `{"accounts": [{"nme": "a"}]}`, `decode: accounts: json: unknown field "nme"`},
	} {
		_, err := Load(strings.NewReader(tc.doc), cheap, fbdata.Options{}, kinds...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, fbdata.ErrInvalid) && !strings.HasPrefix(err.Error(), "decode") {
			t.Errorf("%s: %v, want an error containing %s", tc.name, err, tc.want)
		}
	}
}

func TestLoadedBatchApplies(t *testing.T) {
	b, err := LoadFile(filepath.Join("testdata", "accounts.yaml"), cheap, fbdata.Options{}, kinds...)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Apply(t.Context(), b.Batch); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	dids, err := st.DIDsForAccount(t.Context(), "FAXUSER")
	if err != nil || len(dids) != 3 {
		t.Errorf("DIDsForAccount(FaxUser) = %+v, %v; want 3 DIDs", dids, err)
	}
	if a, err := st.AccountBy(t.Context(), fbdata.IndexMAC, "00908F1D37F0"); err != nil || a.Name != "FaxUser" {
		t.Errorf("AccountBy(mac) = %+v, %v; want FaxUser", a, err)
	}
	if a, err := st.GetAccount(t.Context(), "lb"); err != nil || len(a.Members) != 2 {
		t.Errorf("GetAccount(lb) = %+v, %v; want the group with 2 members", a, err)
	}
	if c, err := st.GetCalledNumber(t.Context(), "5035550143"); err != nil || !c.VoiceError || c.FaxVerified {
		t.Errorf("GetCalledNumber(5035550143) = %+v, %v; want a voice error", c, err)
	}
}

func TestLoadDefaults(t *testing.T) {
	b, err := load(`
accounts:
  - name: minimal
    passwordHash: "` + refHash + `"
  - name: nologin
dids:
  - number: "1"
    account: minimal
`)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// Every default is the zero value: true-by-default booleans are stored
	// negated, and an unset enumeration or string is simply not sent.
	if want := (fbdata.Account{Name: "minimal", PasswordHash: refHash}); !reflect.DeepEqual(b.Accounts[0], want) {
		t.Errorf("account defaults = %+v, want %+v", b.Accounts[0], want)
	}
	if want := (fbdata.Account{Name: "nologin"}); !reflect.DeepEqual(b.Accounts[1], want) {
		t.Errorf("account without a password = %+v, want %+v", b.Accounts[1], want)
	}
	if want := (fbdata.DID{Number: "1", Account: "minimal"}); !reflect.DeepEqual(b.DIDs[0], want) {
		t.Errorf("DID defaults = %+v, want %+v", b.DIDs[0], want)
	}
}

func TestLoadBooleans(t *testing.T) {
	tests := []struct {
		field string
		value string
		check func(fbdata.Account) bool
	}{
		{"saveCDR", "false", func(a fbdata.Account) bool { return a.NoSaveCDR }},
		{"saveCDR", "true", func(a fbdata.Account) bool { return !a.NoSaveCDR }},
		{"saveCDR", "null", func(a fbdata.Account) bool { return !a.NoSaveCDR }},
		{"sendEnabled", "false", func(a fbdata.Account) bool { return a.SendDisabled }},
		{"sendEnabled", "true", func(a fbdata.Account) bool { return !a.SendDisabled }},
		{"receiveEnabled", "false", func(a fbdata.Account) bool { return a.ReceiveDisabled }},
		{"receiveEnabled", "true", func(a fbdata.Account) bool { return !a.ReceiveDisabled }},
		{"sendTimeExpired", "true", func(a fbdata.Account) bool { return a.SendTimeExpired }},
		{"receiveTimeExpired", "true", func(a fbdata.Account) bool { return a.ReceiveTimeExpired }},
		{"sendOnBehalfOf", "true", func(a fbdata.Account) bool { return a.SendOnBehalfOf }},
	}
	for _, tt := range tests {
		b, err := load("accounts:\n  - name: x\n    " + tt.field + ": " + tt.value + "\n")
		if err != nil {
			t.Errorf("%s: %s: %v", tt.field, tt.value, err)
			continue
		}
		if !tt.check(b.Accounts[0]) {
			t.Errorf("%s: %s loaded as %+v", tt.field, tt.value, b.Accounts[0])
		}
	}
}

func TestLoadLongNames(t *testing.T) {
	doc := "accounts:\n  - name: a-name-of-twenty-six-bytes\n  - name: lb\n    type: 8\n    members: [a-name-of-twenty-six-bytes]\n"
	if _, err := Load(strings.NewReader(doc), cheap, fbdata.Options{LongNames: true}); err != nil {
		t.Errorf("Load with long names: %v", err)
	}
	_, err := Load(strings.NewReader(doc), cheap, fbdata.Options{})
	want := strings.Join([]string{
		`accounts[0] (name "a-name-of-twenty-six-bytes"): name: "a-name-of-twenty-six-bytes" is 26 bytes, the limit is 16; UUID mode (store.long_names) allows 64 characters`,
		`accounts[1] (name "lb"): members: [0]: "a-name-of-twenty-six-bytes" is 26 bytes, the limit is 16; UUID mode (store.long_names) allows 64 characters`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Load without long names = %v, want\n%s", err, want)
	}
}

func TestLoadLeavesReferencesToTheStore(t *testing.T) {
	// Names that are not in the file may be in the store; Apply decides.
	b, err := load(`
accounts:
  - name: lb
    type: 8
    members: [stored-member]
  - name: primary
    rcvFailoverAccount: stored-gateway
dids:
  - number: "1"
    account: stored-account
`)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Apply(t.Context(), b); !errors.Is(err, fbdata.ErrConflict) {
		t.Errorf("Apply with names in neither the file nor the store = %v, want ErrConflict", err)
	}
	for _, name := range []string{"stored-member", "stored-gateway", "stored-account"} {
		if err := st.PutAccount(t.Context(), fbdata.Account{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Apply(t.Context(), b); err != nil {
		t.Errorf("Apply once the store holds them: %v", err)
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
	for _, doc := range []string{"", "# nothing yet\n", "---\n", "accounts: []\ndids: []\ncalledNumbers: []\n", "{}"} {
		b, err := load(doc)
		if err != nil || len(b.Accounts) != 0 || len(b.DIDs) != 0 || len(b.CalledNumbers) != 0 {
			t.Errorf("Load(%q) = %+v, %v; want an empty batch", doc, b, err)
		}
	}
}

func TestLoadRecordErrors(t *testing.T) {
	const hashLine = `    passwordHash: "` + refHash + `"` + "\n"
	const noLogin = "; leave out both password and passwordHash for an account that cannot log in"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"both passwords", "accounts:\n  - name: x\n    password: p\n" + hashLine,
			[]string{`accounts[0] (name "x"): password: set either password or passwordHash, not both`}},
		{"empty password", "accounts:\n  - name: x\n    password: \"\"\n",
			[]string{`accounts[0] (name "x"): password: must not be empty` + noLogin}},
		{"empty passwordHash", "accounts:\n  - name: x\n    passwordHash: \"\"\n",
			[]string{`accounts[0] (name "x"): passwordHash: must not be empty` + noLogin}},
		{"clear text in passwordHash", "accounts:\n  - name: x\n    passwordHash: hunter2\n",
			[]string{`accounts[0] (name "x"): passwordHash: malformed password hash: want $argon2id$v=19$m=,t=,p=$salt$key, got 0 $-separated fields`}},
		{"bcrypt passwordHash", "accounts:\n  - name: x\n    passwordHash: \"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\"\n",
			[]string{`accounts[0] (name "x"): passwordHash: malformed password hash: want $argon2id$v=19$m=,t=,p=$salt$key, got 3 $-separated fields`}},
		{"empty name", "accounts:\n  - password: p\n",
			[]string{`accounts[0] (name ""): name: must not be empty`}},
		{"17-byte name", "accounts:\n  - name: abcdefghijklmnopq\n    password: p\n",
			[]string{`accounts[0] (name "abcdefghijklmnopq"): name: "abcdefghijklmnopq" is 17 bytes, the limit is 16; UUID mode (store.long_names) allows 64 characters`}},
		{"type 3", "accounts:\n  - name: x\n    password: p\n    type: 3\n",
			[]string{`accounts[0] (name "x"): type: 3 is not an FB-Account-Type (0, 1, 4, 5, 8, 9, 10)`}},
		{"duplicate name", "accounts:\n  - name: abc\n    password: p\n  - name: other\n    password: p\n  - name: ABC\n    password: p\n",
			[]string{`accounts[2] (name "ABC"): name: duplicates accounts[0] (name "abc"); names are case-insensitive`}},
		{"bad UUID", "accounts:\n  - name: x\n    uuid: 05A32765-C400\n",
			[]string{`accounts[0] (name "x"): uuid: "05A32765-C400" is not a UUID: want 0x and 32 hex digits, or 8-4-4-4-12 hex digits; got 13 bytes`}},
		{"lower-case login group", "accounts:\n  - name: x\n    loginGroup: night-shift\n",
			[]string{`accounts[0] (name "x"): loginGroup: "night-shift": group names must use upper-case letters`}},
		{"queue profile not XML", "accounts:\n  - name: x\n    queueProfile: <QPXml Rf=\"0\">\n",
			[]string{`accounts[0] (name "x"): queueProfile: not well-formed XML: XML syntax error on line 1: unexpected EOF`}},
		{"unknown call-ahead mode", "accounts:\n  - name: x\n    callAheadMode: sometimes\n",
			[]string{`accounts[0] (name "x"): callAheadMode: "sometimes" is not one of "never", "dynamic", "always"`}},
		{"members of a type 4", "accounts:\n  - name: x\n    type: 4\n    members: [y]\n",
			[]string{`accounts[0] (name "x"): members: only load-balance groups (type 8, 9 or 10) have members, and type is 4`}},
		{"bad MAC", "accounts:\n  - name: x\n    macAddress: 00:90:8f\n",
			[]string{`accounts[0] (name "x"): macAddress: MAC address "00:90:8f": want 12 hex digits, got 6 characters besides separators`}},
		{"duplicate index values", `accounts:
  - {name: a, uuid: 05A32765-C400-4993-90D8-35289F96988A, macAddress: "00:90:8f:1d:37:f0", serialNumber: SN-1, sndEmail: a@example.org}
  - {name: b, serialNumber: SN-2}
  - {name: c, uuid: 0x05a32765c400499390d835289f96988a, macAddress: 00908F1D37F0, serialNumber: sn-1, sndEmail: A@Example.org}
`, []string{
			`accounts[2] (name "c"): uuid: duplicates accounts[0] (name "a"): both are "05a32765-c400-4993-90d8-35289f96988a"`,
			`accounts[2] (name "c"): macAddress: duplicates accounts[0] (name "a"): both are "00908F1D37F0"`,
			`accounts[2] (name "c"): serialNumber: duplicates accounts[0] (name "a"): both are "sn-1"`,
			`accounts[2] (name "c"): sndEmail: duplicates accounts[0] (name "a"): both are "a@example.org"`,
		}},
		{"empty number", "dids:\n  - account: x\n",
			[]string{`dids[0] (number ""): number: must not be empty`}},
		{"empty account", "dids:\n  - number: \"1\"\n",
			[]string{`dids[0] (number "1"): account: must not be empty`}},
		{"duplicate number", "dids:\n  - {number: \"1\", account: a}\n  - {number: \"2\", account: a}\n  - {number: \"1\", account: b}\n",
			[]string{`dids[2] (number "1"): number: duplicates dids[0]`}},
		{"DID queue profile", "dids:\n  - {number: \"1\", account: a, queueProfile: \"Op=1\"}\n",
			[]string{`dids[0] (number "1"): queueProfile: not well-formed XML: text outside the element`}},
		{"DID ANI", "dids:\n  - {number: \"1\", account: a, ani: \"123456789012345678901234567890123\"}\n",
			[]string{`dids[0] (number "1"): ani: is 33 characters, the limit is 32`}},
		{"called number without a number", "calledNumbers:\n  - faxVerified: true\n",
			[]string{`calledNumbers[0] (number ""): number: must not be empty`}},
		{"called number that says nothing", "calledNumbers:\n  - {number: \"1\", faxVerified: false}\n",
			[]string{`calledNumbers[0] (number "1"): faxVerified: neither faxVerified nor voiceError is set: such an entry says no more than an unknown number; delete the number instead`}},
		{"called number sent on behalf of", "calledNumbers:\n  - {number: \"acme;1\", voiceError: true}\n",
			[]string{`calledNumbers[0] (number "acme;1"): number: "acme;1" holds a ';': a number is stored without the "account;" of a send on behalf of`}},
		{"duplicate called number", "calledNumbers:\n  - {number: \"1\", faxVerified: true}\n  - {number: \"2\", faxVerified: true}\n  - {number: \"1\", voiceError: true}\n",
			[]string{`calledNumbers[2] (number "1"): number: duplicates calledNumbers[0]`}},
		{"every problem at once", "accounts:\n  - name: x\n    password: p\n" + hashLine + "    type: 2\n  - name: \"\"\ndids:\n  - number: \"\"\ncalledNumbers:\n  - number: \"5\"\n",
			[]string{
				`accounts[0] (name "x"): password: set either password or passwordHash, not both`,
				`accounts[0] (name "x"): type: 2 is not an FB-Account-Type (0, 1, 4, 5, 8, 9, 10)`,
				`accounts[1] (name ""): name: must not be empty`,
				`dids[0] (number ""): number: must not be empty`,
				`calledNumbers[0] (number "5"): faxVerified: neither faxVerified nor voiceError is set: such an entry says no more than an unknown number; delete the number instead`,
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
			if !errors.Is(err, fbdata.ErrInvalid) {
				t.Errorf("Load error does not wrap fbdata.ErrInvalid")
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Errorf("Load error holds no *RecordError")
			}
			if len(b.Accounts)+len(b.DIDs)+len(b.CalledNumbers) != 0 {
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
		{"unknown top-level field", "users: []\n", `"users": unknown section; the sections are accounts, dids, calledNumbers, generic.users`},
		{"snake_case field", "accounts:\n  - name: x\n    password_hash: h\n", "field password_hash not found"},
		{"negative type", "accounts:\n  - name: x\n    password: p\n    type: -1\n", "cannot unmarshal !!int `-1` into uint32"},
		{"enabled not a bool", "dids:\n  - number: \"1\"\n    account: a\n    enabled: maybe\n", "cannot unmarshal !!str `maybe` into bool"},
		{"saveCDR not a bool", "accounts:\n  - name: x\n    saveCDR: no way\n", "cannot unmarshal !!str `no way` into bool"},
		{"voiceError not a bool", "calledNumbers:\n  - number: \"1\"\n    voiceError: often\n", "cannot unmarshal !!str `often` into bool"},
		{"the store's name for a called number's time", "calledNumbers:\n  - number: \"1\"\n    faxVerified: true\n    updated: 2026-01-01T00:00:00Z\n", "field updated not found"},
		{"negative line number", "dids:\n  - number: \"1\"\n    account: a\n    lineNum: -1\n", "cannot unmarshal !!int `-1` into uint32"},
		{"members not a list", "accounts:\n  - name: x\n    type: 8\n    members: a, b\n", "cannot unmarshal !!str `a, b` into []string"},
		{"the store's name for a boolean", "accounts:\n  - name: x\n    noSaveCDR: true\n", "field noSaveCDR not found"},
		{"the store's name for DID enabled", "dids:\n  - number: \"1\"\n    account: a\n    disabled: true\n", "field disabled not found"},
		{"repeated key", "accounts:\n  - name: x\n    name: y\n", `mapping key "name" already defined`},
		{"list at top", "- name: x\n", "cannot unmarshal !!seq"},
		{"second document", "accounts: []\n---\ndids: []\n", "more than one document"},
		{"broken JSON", `{"accounts": [}`, "decode: accounts: invalid character '}'"},
		{"unknown JSON field", `{"accounts": [{"name": "x", "colour": "red"}]}`, `unknown field "colour"`},
		{"two JSON documents", `{"accounts": []} {"dids": []}`, "text after the JSON document"},
		// encoding/json would keep the last of each of these without a word.
		{"repeated JSON section", `{"accounts": [{"name": "a"}], "dids": [], "accounts": [{"name": "b"}]}`, `decode: "accounts": a second section of the name`},
		{"repeated JSON key", `{"accounts": [{"name": "a"}, {"name": "b", "type": 4, "name": "c"}]}`, `decode: accounts[1]: "name" given twice`},
		{"repeated escaped JSON key", `{"dids": [{"number": "1", "account": "a", "acco\u0075nt": "b"}]}`, `decode: dids[0]: "account" given twice`},
		{"repeated JSON key of a kind", `{"generic.users": [{"name": "a", "chapPassword": "x", "name": "b"}]}`, `decode: generic.users[0]: "name" given twice`},
		{"JSON field in another case", `{"calledNumbers": [{"Number": "1"}]}`, `decode: calledNumbers[0]: unknown field "Number": field names are case-sensitive`},
		{"JSON not UTF-8", "{\"accounts\": [{\"name\": \"a\", \"customer\": \"\xff\"}]}", "decode: accounts: not UTF-8"},
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
	_, err := Load(strings.NewReader("accounts: []\n"), password.Params{}, fbdata.Options{})
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
	if _, err := LoadFile(missing, cheap, fbdata.Options{}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadFile(missing) = %v, want fs.ErrNotExist naming %s", err, missing)
	}
	bad := filepath.Join("testdata", "accounts.yaml")
	if _, err := LoadFile(bad, password.Params{}, fbdata.Options{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadFile with bad params = %v, want an error naming %s", err, bad)
	}
}

// Every field of a file's called number reaches fbdata.CalledNumber under its
// own name, and every field of fbdata.CalledNumber but the store's own comes
// from the file.
func TestCalledNumberRecordFields(t *testing.T) {
	var r calledNumberRecord
	fieldtest.Fill(t, &r)
	c := r.calledNumber()
	fieldtest.RequireSet(t, "calledNumber()", c, fieldtest.Exceptions{"Updated": "set by the store on every write"})
	fieldtest.RequireSameJSON(t, "calledNumber()", r, c, fieldtest.Exceptions{"updated": "set by the store on every write"})
	rt := reflect.TypeOf(r)
	for i := range rt.NumField() {
		if f := rt.Field(i); f.Tag.Get("yaml") != f.Tag.Get("json") {
			t.Errorf("calledNumberRecord.%s: yaml name %q, json name %q", f.Name, f.Tag.Get("yaml"), f.Tag.Get("json"))
		}
	}
}
