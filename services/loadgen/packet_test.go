package loadgen

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"net"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc4372"

	"kradius.dev/services/nas/dialogic/dlgattr"
	"kradius.dev/services/nas/firebrick/sipattr"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoginPacket(t *testing.T) {
	tests := []struct {
		name, user, password string
		length               int
	}{
		// The seed's Account-Login request is 108 bytes: one VSA of 18 for
		// command and context, so the generator's must be too.
		{"seed account", "account", "password", 108},
		{"empty password", "alice", "", 20 + 18 + 7 + 18 + 43},
		{"16-byte password", "alice", strings.Repeat("x", 16), 20 + 18 + 7 + 18 + 43},
		{"two-block password", "alice", strings.Repeat("y", 17), 20 + 18 + 7 + 34 + 43},
		{"longest password", "alice", strings.Repeat("z", maxPasswordLen), 20 + 18 + 7 + 130 + 43},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := loginTemplate(Account{tt.user, tt.password})
			if err != nil {
				t.Fatal(err)
			}
			enc := newEncoder([]byte(testSecret), len(tpl.raw))
			b := enc.encode(&tpl, 0x83, 0)
			if len(b) != tt.length {
				t.Errorf("length %d, want %d", len(b), tt.length)
			}
			// FB-Command=1 and FB-Context=1 as two sub-attributes of one VSA.
			want := mustHex(t, "1a 12 00 00 77 e6 01 06 00 00 00 01 02 06 00 00 00 01")
			if !bytes.Equal(b[20:38], want) {
				t.Errorf("first attribute % x, want % x", b[20:38], want)
			}
			p, err := radius.Parse(b, []byte(testSecret))
			if err != nil {
				t.Fatal(err)
			}
			if p.Code != radius.CodeAccessRequest || p.Identifier != 0x83 {
				t.Errorf("code %v, Identifier %#x", p.Code, p.Identifier)
			}
			if vsas := len(p.Attributes); vsas != 4 {
				t.Errorf("%d attributes, want VSA, User-Name, User-Password, FB-Client-Info", vsas)
			}
			if got := rfc2865.UserName_GetString(p); got != tt.user {
				t.Errorf("User-Name %q, want %q", got, tt.user)
			}
			if got, err := rfc2865.UserPassword_LookupString(p); err != nil || got != tt.password {
				t.Errorf("User-Password decodes to %q (%v), want %q", got, err, tt.password)
			}
		})
	}
}

func TestRequestAuthenticatorsDiffer(t *testing.T) {
	tpl, err := loginTemplate(Account{"account", "password"})
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder([]byte(testSecret), len(tpl.raw))
	first := append([]byte(nil), enc.encode(&tpl, 1, 0)...)
	second := enc.encode(&tpl, 1, 0)
	if bytes.Equal(first[4:20], second[4:20]) || bytes.Equal(first, second) {
		t.Error("two requests share an authenticator")
	}
}

func TestDIDPacket(t *testing.T) {
	tpl, err := didTemplate("5551231234")
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder([]byte(testSecret), len(tpl.raw))
	b := enc.encode(&tpl, 7, 0x0123456789abcdef)
	want := mustHex(t, "1a 12 00 00 77 e6 01 06 00 00 00 02 02 06 00 00 00 04")
	if !bytes.Equal(b[20:38], want) {
		t.Errorf("first attribute % x, want % x", b[20:38], want)
	}
	p, err := radius.Parse(b, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if got := rfc2865.UserName_GetString(p); got != "5551231234" {
		t.Errorf("User-Name %q", got)
	}
	if got := rfc2866.AcctSessionID_GetString(p); got != "0123456789abcdef" {
		t.Errorf("Acct-Session-Id %q, want the session in hex", got)
	}
}

func TestAccountingPacket(t *testing.T) {
	for _, stop := range []bool{false, true} {
		tpl, err := acctTemplate(Account{"alice", "wonderland"}, "5551231234", stop)
		if err != nil {
			t.Fatal(err)
		}
		enc := newEncoder([]byte(testSecret), len(tpl.raw))
		for session := range uint64(3) {
			b := enc.encode(&tpl, byte(session), session)
			if !radius.IsAuthenticRequest(b, []byte(testSecret)) {
				t.Errorf("stop=%v session %d: authenticator does not verify", stop, session)
			}
			if radius.IsAuthenticRequest(b, []byte("other")) {
				t.Errorf("stop=%v: verifies under another secret", stop)
			}
			p, err := radius.Parse(b, []byte(testSecret))
			if err != nil {
				t.Fatal(err)
			}
			want := rfc2866.AcctStatusType_Value_Start
			if stop {
				want = rfc2866.AcctStatusType_Value_Stop
			}
			if got := rfc2866.AcctStatusType_Get(p); got != want {
				t.Errorf("Acct-Status-Type %v, want %v", got, want)
			}
		}
	}
}

func TestBuildTemplatesOnlyForTheMix(t *testing.T) {
	cfg := testConfig("127.0.0.1:1812")
	cfg.Mix = []Weight{{KindDID, 1}}
	tpl, err := buildTemplates(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.login) != 0 || len(tpl.start) != 0 || len(tpl.did) != 1 {
		t.Errorf("%d login, %d acct, %d did templates; want 0, 0, 1", len(tpl.login), len(tpl.start), len(tpl.did))
	}
}

// md5Hex is MD5 in hex, for the digest written out apart from the package's.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestRegisterPacket(t *testing.T) {
	tpl, err := registerTemplate(Account{"office1", "s3cret"}, "sip.example", "abc123")
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder([]byte(testSecret), len(tpl.raw))
	b := enc.encode(&tpl, 9, 0)
	// Message-Authenticator first, where hardened servers look for it.
	if b[20] != byte(rfc2869.MessageAuthenticator_Type) || b[21] != 18 {
		t.Errorf("first attribute type %d length %d, want Message-Authenticator (80, 18)", b[20], b[21])
	}
	if !validMessageAuthenticator(b) {
		t.Error("Message-Authenticator does not verify")
	}
	p, err := radius.Parse(b, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	// RFC 2617 for qop none: MD5(HA1:nonce:MD5(method:uri)).
	ha1 := md5Hex("office1:sip.example:s3cret")
	wantResponse := md5Hex(ha1 + ":abc123:" + md5Hex("REGISTER:sip:sip.example"))
	for _, a := range []struct{ name, got, want string }{
		{"User-Name", rfc2865.UserName_GetString(p), "office1"},
		{"Digest-Method", sipattr.DigestMethod_GetString(p), "REGISTER"},
		{"Digest-URI", sipattr.DigestURI_GetString(p), "sip:sip.example"},
		{"Digest-Realm", sipattr.DigestRealm_GetString(p), "sip.example"},
		{"Digest-Nonce", sipattr.DigestNonce_GetString(p), "abc123"},
		{"Digest-Username", sipattr.DigestUsername_GetString(p), "office1"},
		{"Digest-Response", sipattr.DigestResponse_GetString(p), wantResponse},
	} {
		if a.got != a.want {
			t.Errorf("%s %q, want %q", a.name, a.got, a.want)
		}
	}
	if got := rfc2865.SessionTimeout_Get(p); got != registerExpires {
		t.Errorf("Session-Timeout %d, want %d", got, registerExpires)
	}
}

func TestInvitePacket(t *testing.T) {
	tpl, err := inviteTemplate("office1", "441234567890")
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder([]byte(testSecret), len(tpl.raw))
	b := enc.encode(&tpl, 9, 0)
	if !validMessageAuthenticator(b) {
		t.Error("Message-Authenticator does not verify")
	}
	p, err := radius.Parse(b, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ name, got, want string }{
		{"User-Name", rfc2865.UserName_GetString(p), "office1"},
		{"Chargeable-User-Identity", rfc4372.ChargeableUserIdentity_GetString(p), "cui-office1"},
		{"Digest-Method", sipattr.DigestMethod_GetString(p), "INVITE"},
		{"Called-Station-Id", rfc2865.CalledStationID_GetString(p), "441234567890"},
		// A validated phone is not challenged: no digest.
		{"Digest-Response", sipattr.DigestResponse_GetString(p), ""},
	} {
		if a.got != a.want {
			t.Errorf("%s %q, want %q", a.name, a.got, a.want)
		}
	}
}

// The Message-Authenticator covers the Request Authenticator, so each
// request needs its own: one computed once per template would fail on all
// but the first.
func TestMessageAuthenticatorPerRequest(t *testing.T) {
	tpl, err := inviteTemplate("office1", "201")
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder([]byte(testSecret), len(tpl.raw))
	first := append([]byte(nil), enc.encode(&tpl, 1, 0)...)
	second := enc.encode(&tpl, 2, 0)
	if !validMessageAuthenticator(first) || !validMessageAuthenticator(second) {
		t.Fatal("a Message-Authenticator does not verify")
	}
	ma := tpl.maOff
	if bytes.Equal(first[ma:ma+16], second[ma:ma+16]) {
		t.Error("two requests share a Message-Authenticator")
	}
	other := newEncoder([]byte("other"), len(tpl.raw))
	if validMessageAuthenticator(other.encode(&tpl, 1, 0)) {
		t.Error("verifies under another secret")
	}
}

func TestBuildTemplatesSIP(t *testing.T) {
	cfg := testConfig("127.0.0.1:1812")
	cfg.Mix = []Weight{{KindRegister, 1}, {KindInvite, 1}}
	cfg.SIPUsers = []Account{{"office1", "s3cret"}, {"office2", "hunter2"}}
	cfg.Realm = "sip.example"
	cfg.Dialled = []string{"441", "442", "443"}
	tpl, err := buildTemplates(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.login) != 0 || len(tpl.register) != 2 || len(tpl.invite) != 3 {
		t.Fatalf("%d login, %d register, %d invite templates; want 0, 2, 3", len(tpl.login), len(tpl.register), len(tpl.invite))
	}
	// Each dialled number has a template, its callers the SIP users in turn.
	var callers []string
	for i := range tpl.invite {
		p, err := radius.Parse(tpl.invite[i].raw, []byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		callers = append(callers, rfc2865.UserName_GetString(p)+">"+rfc2865.CalledStationID_GetString(p))
	}
	if want := "office1>441 office2>442 office1>443"; strings.Join(callers, " ") != want {
		t.Errorf("invites %v, want %s", callers, want)
	}
}

// dialogicVSAs are the vendor-3028 sub-attributes of a raw request by
// number, read apart from dlgattr: each must be the only one of its VSA.
func dialogicVSAs(t *testing.T, b []byte) map[byte][]byte {
	t.Helper()
	out := map[byte][]byte{}
	for off := 20; off+2 <= len(b); off += int(b[off+1]) {
		if b[off] != byte(rfc2865.VendorSpecific_Type) {
			continue
		}
		v := b[off+2 : off+int(b[off+1])]
		if len(v) < 6 || binary.BigEndian.Uint32(v) != 3028 || int(v[5]) != len(v)-4 {
			t.Fatalf("VSA % x: want vendor 3028 and one sub-attribute", v)
		}
		out[v[4]] = v[6:]
	}
	return out
}

func TestDialogicPacket(t *testing.T) {
	start := time.Unix(1700000000, 0)
	for _, stop := range []bool{false, true} {
		tpl, err := dialogicTemplate("441234567890", start, stop)
		if err != nil {
			t.Fatal(err)
		}
		if tpl.maOff != 0 || tpl.pwOff != 0 || tpl.sessOff == 0 {
			t.Errorf("stop=%v: offsets of Message-Authenticator %d, User-Password %d, Acct-Session-Id %d; want 0, 0, set", stop, tpl.maOff, tpl.pwOff, tpl.sessOff)
		}
		enc := newEncoder([]byte(testSecret), len(tpl.raw))
		b := enc.encode(&tpl, 5, 0x0123456789abcdef)
		if !radius.IsAuthenticRequest(b, []byte(testSecret)) {
			t.Errorf("stop=%v: authenticator does not verify", stop)
		}
		p, err := radius.Parse(b, []byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		wantStatus, wantKind := rfc2866.AcctStatusType_Value_Start, reqDialogicStart
		if stop {
			wantStatus, wantKind = rfc2866.AcctStatusType_Value_Stop, reqDialogicStop
		}
		if p.Code != radius.CodeAccountingRequest || rfc2866.AcctStatusType_Get(p) != wantStatus || tpl.kind != wantKind {
			t.Errorf("stop=%v: code %v, Acct-Status-Type %v, kind %v", stop, p.Code, rfc2866.AcctStatusType_Get(p), tpl.kind)
		}
		for _, a := range []struct{ name, got, want string }{
			{"Acct-Session-Id", rfc2866.AcctSessionID_GetString(p), "0123456789abcdef"},
			{"NAS-IP-Address", rfc2865.NASIPAddress_Get(p).String(), "10.0.0.1"},
			{"Calling-Station-Id", rfc2865.CallingStationID_GetString(p), "01632960001"},
			{"Called-Station-Id", rfc2865.CalledStationID_GetString(p), "441234567890"},
			{"Dialogic-Call-Direction", dlgattr.DialogicCallDirection_GetString(p), "O"},
			{"Dialogic-trunk-grp-in", dlgattr.DialogicTrunkGrpIn_GetString(p), "7"},
			{"Dialogic-voip-dst-sig-ip-in", dlgattr.DialogicVoipDstSigIPIn_GetString(p), "10.0.0.2"},
		} {
			if a.got != a.want {
				t.Errorf("stop=%v: %s %q, want %q", stop, a.name, a.got, a.want)
			}
		}
		_, hasTime := p.Lookup(rfc2866.AcctSessionTime_Type)
		if hasTime != stop || (stop && rfc2866.AcctSessionTime_Get(p) != 61) {
			t.Errorf("stop=%v: Acct-Session-Time present %v (%d)", stop, hasTime, rfc2866.AcctSessionTime_Get(p))
		}
		if _, ok := p.Lookup(rfc2869.MessageAuthenticator_Type); ok {
			t.Errorf("stop=%v: a Message-Authenticator", stop)
		}
		// The wire form the profile reads (services/nas/dialogic/vsa.go).
		vsas := dialogicVSAs(t, b)
		for n, want := range map[byte]string{
			201: "4f", // Call Direction "O"
			44:  "37", // trunk "7"
			23:  hex.EncodeToString([]byte("10.0.0.2")),
			202: "00000002", // start type 2, a call start
			203: "6553f100", // 1700000000
		} {
			if got := hex.EncodeToString(vsas[n]); got != want {
				t.Errorf("stop=%v: VSA %d = %s, want %s", stop, n, got, want)
			}
		}
		if len(vsas) != 5 {
			t.Errorf("stop=%v: %d Dialogic VSAs, want 5", stop, len(vsas))
		}
	}
}

func TestBuildTemplatesDialogic(t *testing.T) {
	cfg := dialogicConfig("127.0.0.1:1812")
	before := time.Now().Unix()
	tpl, err := buildTemplates(cfg)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Unix()
	if len(tpl.start) != 0 || len(tpl.dialogicStart) != 3 || len(tpl.dialogicStop) != 3 {
		t.Fatalf("%d acct, %d dialogic Start, %d dialogic Stop templates; want 0, 3, 3", len(tpl.start), len(tpl.dialogicStart), len(tpl.dialogicStop))
	}
	for i, d := range cfg.Dialled {
		for _, tp := range []template{tpl.dialogicStart[i], tpl.dialogicStop[i]} {
			p, err := radius.Parse(tp.raw, []byte(testSecret))
			if err != nil {
				t.Fatal(err)
			}
			st, err := dlgattr.DialogicStartTime_Lookup(p)
			if called := rfc2865.CalledStationID_GetString(p); called != d || err != nil || int64(st) < before || int64(st) > after {
				t.Errorf("template %d: Called-Station-Id %q, Start Time %d (%v); want %q, the run's start in [%d, %d]", i, called, st, err, d, before, after)
			}
			if !rfc2865.NASIPAddress_Get(p).Equal(net.IPv4(10, 0, 0, 1)) {
				t.Errorf("template %d: NAS-IP-Address %v", i, rfc2865.NASIPAddress_Get(p))
			}
		}
	}
}
