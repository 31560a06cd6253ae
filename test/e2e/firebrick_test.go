package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kradius.dev/services/nas/firebrick/digest"
)

// fromFireBrick makes radclient send from 127.0.0.3, the demo
// configuration's FireBrick, with the Message-Authenticator it requires.
const fromFireBrick = `, Message-Authenticator = 0x00, Packet-Src-IP-Address = 127.0.0.3`

// firebrickRadclient sends one Access-Request with radclient and the
// firebrick profile's dictionary directory (services/nas/firebrick/radclient),
// which names the RFC 5090 attributes and SIP-AOR (121), waits for a reply
// and returns radclient's output. The directory is radclient's main
// dictionary (-D), in place of FreeRADIUS's, whose own Digest-* names clash
// with RFC 5090's, and its user dictionary (-d).
func firebrickRadclient(t *testing.T, addr, secret, attrs string) string {
	t.Helper()
	path, err := exec.LookPath("radclient")
	if err != nil {
		t.Fatal("radclient not found: run `make test`, which installs freeradius-utils, or apt-get install freeradius-utils")
	}
	dict := filepath.Join(repoRoot, "services/nas/firebrick/radclient")
	cmd := exec.Command(path, "-D", dict, "-d", dict, "-x", "-r", "1", "-t", replyWait, addr, "auth", secret)
	cmd.Stdin = strings.NewReader(attrs)
	out, _ := cmd.CombinedOutput() // exit status 1 on Reject or no reply: the output tells
	return string(out)
}

// sipAttr is one RFC 5090 attribute of a request: its name in the firebrick
// dictionary and its number, for radclient with FreeRADIUS's dictionaries.
type sipAttr struct {
	name   string
	number int
	value  string
}

// sipDigestAttrs is what a phone answers to the FireBrick's challenge, as
// the FireBrick passes it on (RFC 5090), after User-Name.
func sipDigestAttrs(user, method, password string) []sipAttr {
	r := digest.Request{Method: method, URI: "sip:sip.example", Nonce: "fb-nonce-1", NonceCount: "00000001", CNonce: "c0ffee", QOP: "auth"}
	r.Response = digest.Response(digest.HA1(user, "sip.example", password), r)
	return []sipAttr{
		{"Digest-Method", 108, method}, {"Digest-URI", 109, r.URI}, {"Digest-Realm", 104, "sip.example"},
		{"Digest-Nonce", 105, r.Nonce}, {"Digest-Nonce-Count", 114, r.NonceCount}, {"Digest-CNonce", 113, r.CNonce},
		{"Digest-Qop", 110, "auth"}, {"Digest-Response", 103, r.Response},
	}
}

// sipDigestByName is the request for firebrickRadclient, its attributes by
// name.
func sipDigestByName(user, method, password string) string {
	parts := []string{fmt.Sprintf("User-Name = %q", user)}
	for _, a := range sipDigestAttrs(user, method, password) {
		parts = append(parts, fmt.Sprintf("%s = %q", a.name, a.value))
	}
	return strings.Join(parts, ", ")
}

// sipDigest is the same request for radclient with FreeRADIUS's own
// dictionaries (the radclient helper, as distributed_test.go uses it),
// which cannot name the RFC 5090 attributes: each goes by number, as
// octets (Attr-108 = 0x…), and a reply's SIP-AOR comes back as Attr-121.
func sipDigest(user, method, password string) string {
	parts := []string{fmt.Sprintf("User-Name = %q", user)}
	for _, a := range sipDigestAttrs(user, method, password) {
		parts = append(parts, fmt.Sprintf("Attr-%d = 0x%x", a.number, a.value))
	}
	return strings.Join(parts, ", ")
}

// fromLocalPhone is an INVITE from a phone configured on the FireBrick,
// which sends its CUI.
const fromLocalPhone = `User-Name = "reception", Chargeable-User-Identity = "cust-9", Digest-Method = "INVITE"`

// TestFireBrickWithRadclient: the demo configuration's FireBrick client,
// REGISTER with a digest and calls routed, through radclient with the
// firebrick dictionary: every attribute by name, SIP-AOR (121) included.
func TestFireBrickWithRadclient(t *testing.T) {
	s := start(t)
	for _, tc := range []struct {
		name, attrs string
		want        []string
	}{
		{"REGISTER", sipDigestByName("office1", "REGISTER", "s3cret") + `, Session-Timeout = 600` + fromFireBrick,
			[]string{"Received Access-Accept", `Called-Station-Id = "tel:201"`, "Session-Timeout = 600"}},
		{"REGISTER, wrong password", sipDigestByName("office1", "REGISTER", "guess") + fromFireBrick,
			[]string{"Received Access-Reject"}},
		{"REGISTER without a response: challenged", `User-Name = "office1", Digest-Method = "REGISTER", Digest-URI = "sip:sip.example"` + fromFireBrick,
			[]string{"Received Access-Challenge"}},
		// A local phone (a CUI, validated by the FireBrick): routed with no
		// digest and no carrier.
		{"INVITE from a local phone, routed to two legs", fromLocalPhone + `, Called-Station-Id = "201"` + fromFireBrick,
			[]string{"Received Access-Accept", `SIP-AOR = "tel:201"`, `SIP-AOR = "20+sip:voicemail@vm.example"`}},
		{"INVITE to any other number: the catch-all", fromLocalPhone + `, Called-Station-Id = "999"` + fromFireBrick,
			[]string{"Received Access-Accept", `SIP-AOR = "@carrierA"`}},
		{"no Message-Authenticator: dropped", sipDigestByName("office1", "REGISTER", "s3cret") + `, Packet-Src-IP-Address = 127.0.0.3`,
			[]string{"No reply from server"}},
	} {
		out := firebrickRadclient(t, s.auth, "testing123", tc.attrs)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: radclient output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}
	s.waitMetric(`kradius_firebrick_requests_total{kind="register",result="accept"}`, 1)
	s.waitMetric(`kradius_firebrick_requests_total{kind="invite",result="routed"}`, 2)
}
