package digest

import (
	"crypto/md5" //nolint:gosec // RFC 2617's test vectors
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// rfc2617 is the worked example of RFC 2617 section 3.5.
var rfc2617 = Request{
	Method: "GET", URI: "/dir/index.html", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
	NonceCount: "00000001", CNonce: "0a4f113b", QOP: "auth",
	Response: "6629fae49393a05397450978507c4ef1",
}

func TestRFC2617Example(t *testing.T) {
	ha1 := HA1("Mufasa", "testrealm@host.com", "Circle Of Life")
	if ha1 != "939e7578ed9e3c518a452acee763bce9" {
		t.Fatalf("HA1 = %s, want RFC 2617's 939e7578ed9e3c518a452acee763bce9", ha1)
	}
	if err := Verify(ha1, rfc2617); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	upper := rfc2617
	upper.Response = strings.ToUpper(upper.Response)
	if err := Verify(strings.ToUpper(ha1), upper); err != nil {
		t.Errorf("hex in upper case: %v", err)
	}
	wrong := rfc2617
	wrong.Response = "6629fae49393a05397450978507c4ef2"
	if err := Verify(ha1, wrong); !errors.Is(err, ErrWrongResponse) {
		t.Errorf("a wrong response: %v", err)
	}
	if err := Verify(HA1("Mufasa", "testrealm@host.com", "circle of life"), rfc2617); !errors.Is(err, ErrWrongResponse) {
		t.Errorf("another password: %v", err)
	}
}

// h is MD5 in hex, written out here apart from the package's own.
func h(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:])
}

// The variants, each against a response computed from RFC 2617's formulas
// written out here.
func TestVariants(t *testing.T) {
	ha1 := h("alice:sip.example:secret")
	base := Request{Method: "REGISTER", URI: "sip:sip.example", Nonce: "abc123", NonceCount: "0000000a", CNonce: "xyz"}
	body := h("v=0 body")
	for _, tc := range []struct {
		name string
		mod  func(*Request)
		want string
	}{
		{"no qop (RFC 2069)", func(r *Request) { r.NonceCount, r.CNonce = "", "" },
			h(ha1 + ":abc123:" + h("REGISTER:sip:sip.example"))},
		{"qop auth, algorithm MD5", func(r *Request) { r.QOP, r.Algorithm = "auth", "MD5" },
			h(ha1 + ":abc123:0000000a:xyz:auth:" + h("REGISTER:sip:sip.example"))},
		{"qop auth-int", func(r *Request) { r.QOP, r.BodyHash = "auth-int", body },
			h(ha1 + ":abc123:0000000a:xyz:auth-int:" + h("REGISTER:sip:sip.example:"+body))},
		{"MD5-sess", func(r *Request) { r.QOP, r.Algorithm = "auth", "MD5-sess" },
			h(h(ha1+":abc123:xyz") + ":abc123:0000000a:xyz:auth:" + h("REGISTER:sip:sip.example"))},
	} {
		r := base
		tc.mod(&r)
		r.Response = tc.want
		if err := Verify(ha1, r); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// Bad input: each a defined error naming the attribute.
func TestBadInput(t *testing.T) {
	ha1 := HA1("Mufasa", "testrealm@host.com", "Circle Of Life")
	for _, tc := range []struct {
		name string
		mod  func(*Request)
		want error
		says string
	}{
		{"no method", func(r *Request) { r.Method = "" }, ErrMalformed, "Digest-Method"},
		{"no URI", func(r *Request) { r.URI = "" }, ErrMalformed, "Digest-URI"},
		{"no nonce", func(r *Request) { r.Nonce = "" }, ErrMalformed, "Digest-Nonce"},
		{"short response", func(r *Request) { r.Response = "6629fae4" }, ErrMalformed, "Digest-Response"},
		{"response not hex", func(r *Request) { r.Response = strings.Repeat("z", 32) }, ErrMalformed, "Digest-Response"},
		{"unknown algorithm", func(r *Request) { r.Algorithm = "SHA-256" }, ErrUnsupported, "Digest-Algorithm"},
		{"unknown qop", func(r *Request) { r.QOP = "auth-conf" }, ErrUnsupported, "Digest-Qop"},
		{"qop without cnonce", func(r *Request) { r.CNonce = "" }, ErrMalformed, "Digest-CNonce"},
		{"bad nonce count", func(r *Request) { r.NonceCount = "1" }, ErrMalformed, "Digest-Nonce-Count"},
		{"auth-int without a body hash", func(r *Request) { r.QOP = "auth-int" }, ErrMalformed, "Digest-Entity-Body-Hash"},
	} {
		r := rfc2617
		tc.mod(&r)
		err := Verify(ha1, r)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %v naming %s", tc.name, err, tc.want, tc.says)
		}
	}
	if err := Verify("not-an-ha1", rfc2617); !errors.Is(err, ErrMalformed) {
		t.Errorf("a stored HA1 that is not hex: %v", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	ha1 := HA1("Mufasa", "testrealm@host.com", "Circle Of Life")
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(ha1, rfc2617); err != nil {
			b.Fatal(err)
		}
	}
}
