package firebrick

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/nas/carrier"
	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/nas/firebrick/sipattr"
	"kradius.dev/services/recordsvc"
)

const realm = "sip.example"

func approverWith(t *testing.T, optionsText string, now *time.Time) *approver {
	t.Helper()
	s := service(t)
	ha1 := func(name string) map[string]string {
		return map[string]string{realm: digest.HA1(name, realm, "s3cret")}
	}
	if err := s.Put(context.Background(), []recordsvc.Write{
		{Kind: KindUsers, Value: &firebrickv1.User{Name: "office1", Extension: "201", Ha1: ha1("office1"), Methods: []string{"REGISTER", "INVITE", "OPTIONS"}}},
		{Kind: KindUsers, Value: &firebrickv1.User{Name: "moved", Ddi: []string{"+441632960002"}, Ha1: ha1("moved"), RedirectContact: "sip:moved@elsewhere.example"}},
		{Kind: carrier.KindName, Value: &carrierv1.Carrier{Name: "carrierA"}},
	}); err != nil {
		t.Fatal(err)
	}
	o, err := options(t, optionsText)
	if err != nil {
		t.Fatal(err)
	}
	return &approver{o: o, records: s, now: func() time.Time { return *now }}
}

// sipRequest is the FireBrick's Access-Request for a SIP request of user,
// answering nonce with password (no answer when password is "").
func sipRequest(user, method, nonce, password string, expires uint32) *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, []byte("secret"))
	rfc2865.UserName_SetString(p, user)
	sipattr.DigestMethod_SetString(p, method)
	sipattr.DigestURI_SetString(p, "sip:"+realm)
	if expires > 0 {
		rfc2865.SessionTimeout_Set(p, rfc2865.SessionTimeout(expires))
	}
	if password == "" {
		return p
	}
	r := digest.Request{Method: method, URI: "sip:" + realm, Nonce: nonce, NonceCount: "00000001", CNonce: "c0ffee", QOP: "auth"}
	r.Response = digest.Response(digest.HA1(user, realm, password), r)
	sipattr.DigestRealm_SetString(p, realm)
	sipattr.DigestNonce_SetString(p, nonce)
	sipattr.DigestNonceCount_SetString(p, r.NonceCount)
	sipattr.DigestCNonce_SetString(p, r.CNonce)
	sipattr.DigestQop_SetString(p, r.QOP)
	sipattr.DigestResponse_SetString(p, r.Response)
	return p
}

func TestApproveWithTheFireBricksChallenge(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := approverWith(t, "", &now)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		req     *radius.Packet
		method  string
		code    radius.Code
		result  string
		binding string
		expires uint32
	}{
		{"no response: an empty challenge", sipRequest("office1", "REGISTER", "", "", 0), "REGISTER", radius.CodeAccessChallenge, resultChallenge, "", 0},
		{"REGISTER", sipRequest("office1", "REGISTER", "fb-nonce", "s3cret", 600), "REGISTER", radius.CodeAccessAccept, resultAccept, "tel:201", 600},
		{"REGISTER asking more than the maximum", sipRequest("office1", "REGISTER", "fb-nonce", "s3cret", 86400), "REGISTER", radius.CodeAccessAccept, resultAccept, "tel:201", 3600},
		{"an @name not a known carrier", sipRequest("@carrier1", "OPTIONS", "fb-nonce", "s3cret", 0), "OPTIONS", radius.CodeAccessReject, resultCarrier, "", 0},
		{"a known carrier", sipRequest("@carrierA", "OPTIONS", "", "", 0), "OPTIONS", radius.CodeAccessAccept, resultAccept, "", 0},
		{"REGISTER without Expires: the maximum", sipRequest("office1", "REGISTER", "fb-nonce", "s3cret", 0), "REGISTER", radius.CodeAccessAccept, resultAccept, "tel:201", 3600},
		{"OPTIONS", sipRequest("office1", "OPTIONS", "fb-nonce", "s3cret", 0), "OPTIONS", radius.CodeAccessAccept, resultAccept, "", 0},
		{"a method the user may not use", sipRequest("office1", "SUBSCRIBE", "fb-nonce", "s3cret", 0), "SUBSCRIBE", radius.CodeAccessReject, resultReject, "", 0},
		{"wrong password", sipRequest("office1", "REGISTER", "fb-nonce", "guess", 0), "REGISTER", radius.CodeAccessReject, resultReject, "", 0},
		{"unknown user", sipRequest("nobody", "REGISTER", "fb-nonce", "s3cret", 0), "REGISTER", radius.CodeAccessReject, resultReject, "", 0},
	} {
		got, result, err := a.approve(ctx, tc.req, tc.method)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.Code != tc.code || result != tc.result {
			t.Errorf("%s: %v (%s), want %v (%s)", tc.name, got.Code, result, tc.code, tc.result)
		}
		if b := rfc2865.CalledStationID_GetString(got); b != tc.binding {
			t.Errorf("%s: binding %q, want %q", tc.name, b, tc.binding)
		}
		if st, err := rfc2865.SessionTimeout_Lookup(got); tc.expires > 0 && (err != nil || uint32(st) != tc.expires) {
			t.Errorf("%s: Session-Timeout %v (%v), want %d", tc.name, st, err, tc.expires)
		}
		if got.Code == radius.CodeAccessReject && rfc2865.ReplyMessage_GetString(got) != "" {
			t.Errorf("%s: a Reject with a Reply-Message", tc.name)
		}
		if got.Code == radius.CodeAccessChallenge && len(got.Attributes) != 0 {
			t.Errorf("%s: the challenge carries %d attributes, want none", tc.name, len(got.Attributes))
		}
	}

	// Bad input: a digest that cannot be checked is a Reject, counted
	// apart from a wrong password.
	for name, spoil := range map[string]func(*radius.Packet){
		"a response not 32 hex digits": func(p *radius.Packet) { sipattr.DigestResponse_Set(p, []byte("not-hex")) },
		"a response of 31 hex digits":  func(p *radius.Packet) { sipattr.DigestResponse_SetString(p, strings.Repeat("a", 31)) },
		"an unknown algorithm":         func(p *radius.Packet) { sipattr.DigestAlgorithm_SetString(p, "SHA-512-256") },
		"an unknown qop":               func(p *radius.Packet) { sipattr.DigestQop_SetString(p, "auth-conf") },
	} {
		bad := sipRequest("office1", "REGISTER", "fb-nonce", "s3cret", 0)
		spoil(bad)
		if got, result, err := a.approve(ctx, bad, "REGISTER"); err != nil || got.Code != radius.CodeAccessReject || result != resultBadDigest {
			t.Errorf("%s: %v %s %v, want a Reject counted as %s", name, got, result, err, resultBadDigest)
		}
	}
}

func TestRegisterOptions(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := approverWith(t, "register_binding: calling-station-id\nsip_aor_attribute: 122\n", &now)
	got, _, err := a.approve(context.Background(), sipRequest("moved", "REGISTER", "n", "s3cret", 0), "REGISTER")
	if err != nil || got.Code != radius.CodeAccessAccept {
		t.Fatalf("%v %v", got, err)
	}
	if b := rfc2865.CallingStationID_GetString(got); b != "tel:+441632960002" {
		t.Errorf("binding in Calling-Station-Id: %q, want the first DDI", b)
	}
	if aor, ok := got.Attributes.Lookup(122); !ok || string(aor) != "sip:moved@elsewhere.example" {
		t.Errorf("SIP-AOR 122: %q %v, want the redirect contact", aor, ok)
	}
	if _, ok := got.Attributes.Lookup(121); ok {
		t.Error("attribute 121 set with sip_aor_attribute 122")
	}
}

func TestApproveWithKradiussChallenge(t *testing.T) {
	key := filepath.Join(t.TempDir(), "nonce.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("k", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	a := approverWith(t, "challenge: kradius\nrealm: "+realm+"\nnonce_key_file: "+key+"\nnonce_ttl: 1m\n", &now)
	ctx := context.Background()

	c, result, err := a.approve(ctx, sipRequest("office1", "REGISTER", "", "", 0), "REGISTER")
	n := sipattr.DigestNonce_GetString(c)
	if err != nil || c.Code != radius.CodeAccessChallenge || result != resultChallenge || sipattr.DigestRealm_GetString(c) != realm || n == "" {
		t.Fatalf("challenge: %v %s %v", c, result, err)
	}
	// Another edge, the same key: the answer is accepted.
	b := approverWith(t, "challenge: kradius\nrealm: "+realm+"\nnonce_key_file: "+key+"\nnonce_ttl: 1m\n", &now)
	if got, _, err := b.approve(ctx, sipRequest("office1", "REGISTER", n, "s3cret", 0), "REGISTER"); err != nil || got.Code != radius.CodeAccessAccept {
		t.Errorf("the answer at another edge: %v %v", got, err)
	}
	now = now.Add(2 * time.Minute)
	got, result, err := a.approve(ctx, sipRequest("office1", "REGISTER", n, "s3cret", 0), "REGISTER")
	if err != nil || got.Code != radius.CodeAccessChallenge || result != resultStale || sipattr.DigestStale_GetString(got) != "true" || sipattr.DigestNonce_GetString(got) == n {
		t.Errorf("an expired nonce: %v %s %v, want a new challenge with Digest-Stale", got, result, err)
	}
	if got, result, _ := a.approve(ctx, sipRequest("office1", "REGISTER", "forged-nonce", "s3cret", 0), "REGISTER"); got.Code != radius.CodeAccessReject || result != resultForged {
		t.Errorf("a forged nonce: %v %s, want a Reject", got, result)
	}
}
