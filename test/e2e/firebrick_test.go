package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/nas/firebrick/nonce"
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
	return firebrickRadclientOf(t, "auth", addr, secret, attrs)
}

// firebrickRadclientOf is firebrickRadclient for a request of kind (auth,
// acct).
func firebrickRadclientOf(t *testing.T, kind, addr, secret, attrs string) string {
	t.Helper()
	path, err := exec.LookPath("radclient")
	if err != nil {
		t.Fatal("radclient not found: run `make test`, which installs freeradius-utils, or apt-get install freeradius-utils")
	}
	dict := filepath.Join(repoRoot, "services/nas/firebrick/radclient")
	cmd := exec.Command(path, "-D", dict, "-d", dict, "-x", "-r", "1", "-t", replyWait, addr, kind, secret)
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

// TestFireBrickCarriersAndRegistrations: "@name" is checked against the
// carriers kind (its networks by the requestor's NAS-IP-Address), and a
// user without a number registers with kradius, whose route's user: leg
// then rings the contact.
func TestFireBrickCarriersAndRegistrations(t *testing.T) {
	s := start(t)
	fromCarrier := func(name, addr string) string {
		return fmt.Sprintf(`User-Name = %q, Digest-Method = "INVITE", Called-Station-Id = "201", NAS-IP-Address = %s`, name, addr) + fromFireBrick
	}
	register := func(expires int) string {
		return sipDigestByName("roamer", "REGISTER", "r0am") + fmt.Sprintf(`, SIP-AOR = "sip:roamer@192.0.2.44:5062", Session-Timeout = %d`, expires) + fromFireBrick
	}
	for _, tc := range []struct {
		name, attrs string
		want        []string
		lacks       string
	}{
		{"a known carrier", fromCarrier("@carrierA", "198.51.100.7"),
			[]string{"Received Access-Accept", `SIP-AOR = "tel:201"`}, ""},
		{"a carrier from its network: its CUI first", fromCarrier("@carrierB", "192.0.2.10"),
			[]string{"Received Access-Accept", `Chargeable-User-Identity = 0x636172726965722d62`}, ""},
		{"a carrier from elsewhere: its message", fromCarrier("@carrierB", "203.0.113.9"),
			[]string{"Received Access-Reject", `Reply-Message = "Call barred by carrier policy"`}, ""},
		{"an unknown carrier", fromCarrier("@nobody", "198.51.100.7"),
			[]string{"Received Access-Reject"}, "Reply-Message"},
		{"a call to roamer before it registers", fromLocalPhone + `, Called-Station-Id = "300"` + fromFireBrick,
			[]string{"Received Access-Reject"}, ""},
		{"roamer registers: no tel: binding", register(300),
			[]string{"Received Access-Accept", "Session-Timeout = 300"}, "tel:"},
		{"a call to roamer rings its contact", fromLocalPhone + `, Called-Station-Id = "300"` + fromFireBrick,
			[]string{"Received Access-Accept", `SIP-AOR = "sip:roamer@192.0.2.44:5062"`}, ""},
		{"roamer unregisters", register(0),
			[]string{"Received Access-Accept"}, ""},
		{"a call to roamer after", fromLocalPhone + `, Called-Station-Id = "300"` + fromFireBrick,
			[]string{"Received Access-Reject"}, ""},
	} {
		out := firebrickRadclient(t, s.auth, "testing123", tc.attrs)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: radclient output lacks %q:\n%s", tc.name, w, out)
			}
		}
		if reply, _, _ := strings.Cut(out[strings.Index(out, "Received")+1:], "Sent"); tc.lacks != "" && strings.Contains(reply, tc.lacks) {
			t.Errorf("%s: the reply has %q:\n%s", tc.name, tc.lacks, out)
		}
	}
	s.waitMetric(`kradius_firebrick_requests_total{kind="invite",result="unknown_carrier"}`, 1)
	s.waitMetric(`kradius_firebrick_requests_total{kind="invite",result="carrier_source"}`, 1)
	s.waitMetric(`kradius_firebrick_requests_total{kind="invite",result="unregistered"}`, 2)
}

// TestFireBrickCallCDR: the three legs of one call, accounted leg by leg
// through radclient, give one CDR, the call's, once the last leg stops.
func TestFireBrickCallCDR(t *testing.T) {
	s := start(t)
	const call = "a84b4c76e66710@office1.sip.example"
	acct := func(status, session string, extra string) {
		t.Helper()
		attrs := fmt.Sprintf(`Acct-Status-Type = %s, Acct-Session-Id = %q, Acct-Multi-Session-Id = %q, Event-Timestamp = 1800000000, NAS-Identifier = "fb2700"%s, Packet-Src-IP-Address = 127.0.0.3`, status, session, call, extra)
		if out := firebrickRadclientOf(t, "acct", s.addr("acct"), "testing123", attrs); !strings.Contains(out, "Received Accounting-Response") {
			t.Fatalf("%s of %s: %s", status, session, out)
		}
	}
	acct("Start", "leg-a", `, User-Name = "sip:office1@fb", Calling-Station-Id = "201", Called-Station-Id = "300", Chargeable-User-Identity = "cust-9"`)
	acct("Start", "leg-b1", `, Callback-Id = "sip:roamer@192.0.2.44"`)
	acct("Stop", "leg-b1", `, Acct-Session-Time = 0, Acct-Terminate-Cause = 302`)
	acct("Start", "leg-b2", `, Callback-Id = "sip:voicemail@vm.example"`)
	acct("Interim-Update", "leg-b2", `, Acct-Session-Time = 4`)
	acct("Interim-Update", "leg-a", `, Acct-Session-Time = 19`)
	acct("Stop", "leg-b2", `, Acct-Session-Time = 42`)
	s.waitMetric(`kradius_cdr_records_total{result="applied",status="STATUS_TYPE_STOP"}`, 2)
	if out := cdrCLI(t, 0, "tail", "-admin", s.admin, "-reader", "billing"); out != "" {
		t.Fatalf("a CDR before the call's last leg stopped: %s", out)
	}
	acct("Stop", "leg-a", `, Acct-Session-Time = 42`)
	s.waitMetric(`kradius_cdr_effects_total{effect="cdr",result="applied"}`, 1)
	out := cdrCLI(t, 0, "tail", "-admin", s.admin, "-reader", "billing")
	var c struct {
		SessionID string `json:"sessionId"`
		Firebrick struct {
			CallID           string `json:"callId"`
			RingSeconds      int    `json:"ringSeconds"`
			ConnectedSeconds int    `json:"connectedSeconds"`
			Cui              string `json:"cui"`
			Legs             []struct {
				SessionID      string `json:"sessionId"`
				TerminateCause int    `json:"terminateCause"`
			} `json:"legs"`
		} `json:"firebrick"`
	}
	if lines := strings.Count(out, "\n"); lines != 1 {
		t.Fatalf("%d CDRs, want one:\n%s", lines, out)
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b := c.Firebrick
	if c.SessionID != call || b.CallID != call || len(b.Legs) != 3 || b.RingSeconds != 19 || b.ConnectedSeconds != 42 || b.Cui != "cust-9" {
		t.Errorf("call CDR %+v, from %s", c, out)
	}
	if len(b.Legs) == 3 && (b.Legs[0].SessionID != "leg-a" || b.Legs[1].TerminateCause != 302) {
		t.Errorf("legs %+v: want leg-a first, and leg-b1's 302 as a plain integer", b.Legs)
	}
}

// TestDistributedFireBrick: two edges on one accounts, dids and Redis.
// With kradius issuing the challenge, a nonce from one edge is accepted by
// the other (they share the key), an expired one is challenged again as
// stale, and a forged one is refused; a registration recorded through one
// edge routes a call through the other; carriers are checked through the
// accounts target.
func TestDistributedFireBrick(t *testing.T) {
	key := filepath.Join(t.TempDir(), "nonce.key")
	secret := []byte(strings.Repeat("k", nonce.MinKeyBytes))
	if err := os.WriteFile(key, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	c := startClusterOf(t, &cluster{accountingYAML: "  log: none\n", clientsYAML: fmt.Sprintf(`    - name: firebrick-kradius-challenge
      cidrs: [127.0.0.4/32]
      secret: testing123
      profile: firebrick
      firebrick:
        challenge: kradius
        realm: sip.example
        nonce_key_file: %s
`, key)})
	other := c.addEdge()
	const from = `, Message-Authenticator = 0x00, Packet-Src-IP-Address = 127.0.0.4`
	answer := func(n string) string {
		r := digest.Request{Method: "REGISTER", URI: "sip:sip.example", Nonce: n}
		r.Response = digest.Response(digest.HA1("office1", "sip.example", "s3cret"), r)
		return fmt.Sprintf(`User-Name = "office1", Digest-Method = "REGISTER", Digest-URI = %q, Digest-Realm = "sip.example", Digest-Nonce = %q, Digest-Response = %q`, r.URI, n, r.Response) + from
	}

	out := firebrickRadclient(t, c.edge.auth, "testing123", `User-Name = "office1", Digest-Method = "REGISTER", Digest-URI = "sip:sip.example"`+from)
	_, rest, ok := strings.Cut(out, `Digest-Nonce = "`)
	issued, _, _ := strings.Cut(rest, `"`)
	if !ok || !strings.Contains(out, "Received Access-Challenge") || !strings.Contains(out, `Digest-Realm = "sip.example"`) {
		t.Fatalf("no challenge with kradius's realm and nonce:\n%s", out)
	}
	if out := firebrickRadclient(t, other.auth, "testing123", answer(issued)); !strings.Contains(out, "Received Access-Accept") {
		t.Errorf("the first edge's nonce, answered to the second: want an Accept:\n%s", out)
	}
	signer, err := nonce.New(secret, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	old, err := signer.Issue(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if out := firebrickRadclient(t, other.auth, "testing123", answer(old)); !strings.Contains(out, "Received Access-Challenge") || !strings.Contains(out, `Digest-Stale = "true"`) {
		t.Errorf("an expired nonce: want a new challenge, stale:\n%s", out)
	}
	forged := issued[:len(issued)-2] + "AA"
	if forged == issued {
		forged = issued[:len(issued)-2] + "BB"
	}
	if out := firebrickRadclient(t, other.auth, "testing123", answer(forged)); !strings.Contains(out, "Received Access-Reject") {
		t.Errorf("a forged nonce: want a Reject:\n%s", out)
	}
	other.waitMetric(`kradius_firebrick_requests_total{kind="register",result="forged_nonce"}`, 1)
	other.waitMetric(`kradius_firebrick_requests_total{kind="register",result="stale"}`, 1)

	// A registration kept by kradius, written through one edge to the
	// accounts target, read by the other.
	register := sipDigestByName("roamer", "REGISTER", "r0am") + `, SIP-AOR = "sip:roamer@192.0.2.44:5062", Session-Timeout = 300` + fromFireBrick
	if out := firebrickRadclient(t, c.edge.auth, "testing123", register); !strings.Contains(out, "Received Access-Accept") {
		t.Fatalf("roamer's REGISTER:\n%s", out)
	}
	call := fromLocalPhone + `, Called-Station-Id = "300"` + fromFireBrick
	if out := firebrickRadclient(t, other.auth, "testing123", call); !strings.Contains(out, `SIP-AOR = "sip:roamer@192.0.2.44:5062"`) {
		t.Errorf("a call to roamer through the other edge:\n%s", out)
	}
	carrier := `User-Name = "@carrierB", Digest-Method = "INVITE", Called-Station-Id = "201", NAS-IP-Address = 203.0.113.9` + fromFireBrick
	if out := firebrickRadclient(t, other.auth, "testing123", carrier); !strings.Contains(out, `Reply-Message = "Call barred by carrier policy"`) {
		t.Errorf("carrierB from outside its network:\n%s", out)
	}
}
