package e2e

import (
	"fmt"
	"strings"
	"testing"

	"kradius.dev/services/nas/firebrick/digest"
)

// fromFireBrick makes radclient send from 127.0.0.3, the demo
// configuration's FireBrick, with the Message-Authenticator it requires.
const fromFireBrick = `, Message-Authenticator = 0x00, Packet-Src-IP-Address = 127.0.0.3`

// The RFC 5090 attributes go by number (Attr-N, octets): FreeRADIUS's own
// dictionaries, which radclient loads, name Digest-Response 206
// (draft-sterman) and Digest-Method and the others as internal
// attributes, so dictionary.rfc5090 cannot be loaded beside them.
const (
	digestResponse   = 103
	digestRealm      = 104
	digestNonce      = 105
	digestMethod     = 108
	digestURI        = 109
	digestQop        = 110
	digestCNonce     = 113
	digestNonceCount = 114
)

func attr(n int, v string) string { return fmt.Sprintf("Attr-%d = 0x%x", n, v) }

// sipDigest is what a phone answers to the FireBrick's challenge, as the
// FireBrick passes it on (RFC 5090).
func sipDigest(user, method, password string) string {
	r := digest.Request{Method: method, URI: "sip:sip.example", Nonce: "fb-nonce-1", NonceCount: "00000001", CNonce: "c0ffee", QOP: "auth"}
	r.Response = digest.Response(digest.HA1(user, "sip.example", password), r)
	return strings.Join([]string{fmt.Sprintf("User-Name = %q", user), attr(digestMethod, method), attr(digestURI, r.URI),
		attr(digestRealm, "sip.example"), attr(digestNonce, r.Nonce), attr(digestNonceCount, r.NonceCount),
		attr(digestCNonce, r.CNonce), attr(digestQop, "auth"), attr(digestResponse, r.Response)}, ", ")
}

// TestFireBrickWithRadclient: the demo configuration's FireBrick client,
// REGISTER with a digest and calls routed, through radclient.
func TestFireBrickWithRadclient(t *testing.T) {
	s := start(t)
	for _, tc := range []struct {
		name, attrs string
		want        []string
	}{
		{"REGISTER", sipDigest("office1", "REGISTER", "s3cret") + `, Session-Timeout = 600` + fromFireBrick,
			[]string{"Received Access-Accept", `Called-Station-Id = "tel:201"`, "Session-Timeout = 600"}},
		{"REGISTER, wrong password", sipDigest("office1", "REGISTER", "guess") + fromFireBrick,
			[]string{"Received Access-Reject"}},
		{"REGISTER without a response: challenged", `User-Name = "office1", ` + attr(digestMethod, "REGISTER") + ", " + attr(digestURI, "sip:sip.example") + fromFireBrick,
			[]string{"Received Access-Challenge"}},
		// SIP-AOR 121 comes back by number too.
		{"INVITE from a carrier, routed to two legs", `User-Name = "@carrierB", ` + attr(digestMethod, "INVITE") + `, Called-Station-Id = "201"` + fromFireBrick,
			[]string{"Received Access-Accept", "Attr-121 = " + fmt.Sprintf("0x%x", "tel:201"), "Attr-121 = " + fmt.Sprintf("0x%x", "20+sip:voicemail@vm.example")}},
		{"INVITE to any other number: the catch-all", `User-Name = "@carrierB", ` + attr(digestMethod, "INVITE") + `, Called-Station-Id = "999"` + fromFireBrick,
			[]string{"Received Access-Accept", "Attr-121 = " + fmt.Sprintf("0x%x", "@carrierA")}},
		{"no Message-Authenticator: dropped", sipDigest("office1", "REGISTER", "s3cret") + `, Packet-Src-IP-Address = 127.0.0.3`,
			[]string{"No reply from server"}},
	} {
		out := radclient(t, s.auth, "testing123", tc.attrs)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: radclient output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}
	s.waitMetric(`kradius_firebrick_requests_total{kind="register",result="accept"}`, 1)
	s.waitMetric(`kradius_firebrick_requests_total{kind="invite",result="routed"}`, 2)
}
