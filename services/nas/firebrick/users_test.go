package firebrick

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records"
	"kradius.dev/services/store/records/embedded"
)

// service is the records service with the SIP users kind, on a real
// embedded store, as the accounts target will serve it once the profile
// is registered.
func service(t testing.TB) *recordsvc.Service {
	t.Helper()
	kinds := recordsvc.Kinds([]nas.Plugin{Plugin})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return recordsvc.New(rs, kinds, password.NewVerifier(10, time.Minute), password.Params{Memory: 64, Time: 1, Threads: 1})
}

// answer is what a phone sends for user in realm with pw: RFC 2617 with
// qop auth.
func answer(user, realm, pw string) *recordsv1.Credential {
	r := digest.Request{Method: "REGISTER", URI: "sip:" + realm, Nonce: "n0nce", NonceCount: "00000001", CNonce: "c1", QOP: "auth"}
	r.Response = digest.Response(digest.HA1(user, realm, pw), r)
	return &recordsv1.Credential{Method: &recordsv1.Credential_Digest{Digest: &recordsv1.Digest{
		Realm: realm, Method: r.Method, Uri: r.URI, Nonce: r.Nonce, NonceCount: r.NonceCount, Cnonce: r.CNonce, Qop: r.QOP, Response: r.Response,
	}}}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s := service(t)
	u, err := importUser(map[string]any{
		"name": "Office1", "extension": "201", "ddi": []any{"+441632960001"},
		"passwords": map[string]any{"sip.example": "s3cret", "other.example": "0ther"},
	}, password.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if got := u.(*firebrickv1.User).GetHa1()["sip.example"]; got != digest.HA1("Office1", "sip.example", "s3cret") {
		t.Fatalf("imported HA1 %q", got)
	}
	if err := s.Put(ctx, []recordsvc.Write{{Kind: KindUsers, Value: u}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, KindUsers, "office1")
	if err != nil || got.(*firebrickv1.User).GetHa1() != nil || got.(*firebrickv1.User).GetExtension() != "201" {
		t.Fatalf("Get: %v, %v; want the user without its HA1s", got, err)
	}

	for _, tc := range []struct {
		name string
		cred *recordsv1.Credential
		want error
	}{
		{"right password", answer("Office1", "sip.example", "s3cret"), nil},
		{"the other realm", answer("Office1", "other.example", "0ther"), nil},
		{"wrong password", answer("Office1", "sip.example", "guess"), nas.ErrWrongCredential},
		{"a realm with no password", answer("Office1", "third.example", "s3cret"), nas.ErrWrongCredential},
		{"PAP", &recordsv1.Credential{Method: &recordsv1.Credential_Pap{Pap: &recordsv1.Pap{Password: "s3cret"}}}, nas.ErrWrongCredential},
		{"malformed response", func() *recordsv1.Credential {
			c := answer("Office1", "sip.example", "s3cret")
			c.GetDigest().Response = "short"
			return c
		}(), records.ErrInvalid},
	} {
		_, err := s.Verify(ctx, KindUsers, "OFFICE1", tc.cred)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestUserRules(t *testing.T) {
	ha1 := map[string]string{"r": digest.HA1("a", "r", "p")}
	for _, tc := range []struct {
		name string
		u    *firebrickv1.User
		want string
	}{
		{"no name", &firebrickv1.User{Ha1: ha1}, "name: required"},
		{"a colon in the name", &firebrickv1.User{Name: "a:b", Ha1: ha1}, "not a SIP user name"},
		{"no realm", &firebrickv1.User{Name: "a"}, "at least one realm"},
		{"HA1 not hex", &firebrickv1.User{Name: "a", Ha1: map[string]string{"r": "xyz"}}, `ha1["r"]: not 32 hex digits`},
		{"a DDI not a number", &firebrickv1.User{Name: "a", Ha1: ha1, Ddi: []string{"01632 960"}}, "ddi[0]"},
		{"a method in lower case", &firebrickv1.User{Name: "a", Ha1: ha1, Methods: []string{"invite"}}, "methods[0]"},
	} {
		if _, err := indexUser(tc.u); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := importUser(map[string]any{"name": "a", "passwords": map[string]any{"r": "p"}, "ha1": map[string]any{"r": digest.HA1("a", "r", "p")}}, password.Params{}); err == nil || !strings.Contains(err.Error(), "give one, not both") {
		t.Errorf("a password and an HA1 for one realm: %v", err)
	}
}
