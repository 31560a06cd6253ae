package edge

import (
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// withMessageAuthenticator encodes p with a valid Message-Authenticator, the
// way a BlastRADIUS-hardened NAS sends it.
func withMessageAuthenticator(t *testing.T, p *radius.Packet) []byte {
	t.Helper()
	q := *p
	p = &q
	p.Attributes = append(radius.Attributes(nil), q.Attributes...)
	p.Add(radius.Type(typeMessageAuthenticator), make(radius.Attribute, 16))
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	pkt, off, err := checkFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	zeroAuth := p.Code == radius.CodeAccountingRequest
	copy(pkt[off+2:], messageAuthenticator(pkt, off, p.Secret, zeroAuth))
	if zeroAuth { // the Request Authenticator covers the Message-Authenticator
		q, err := radius.Parse(pkt, p.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if pkt, err = q.Encode(); err != nil {
			t.Fatal(err)
		}
	}
	return pkt
}

func TestVerifyRequest(t *testing.T) {
	secret := []byte("s3cret")
	access := radius.New(radius.CodeAccessRequest, secret)
	rfc2865.UserName_SetString(access, "account")
	acct := radius.New(radius.CodeAccountingRequest, secret)
	rfc2865.UserName_SetString(acct, "account")
	acctBytes, _ := acct.Encode()

	for _, tc := range []struct {
		name   string
		pkt    []byte
		secret string
		ok     bool
	}{
		{"access with MA", withMessageAuthenticator(t, access), "s3cret", true},
		{"access with MA, wrong secret", withMessageAuthenticator(t, access), "other", false},
		{"accounting", acctBytes, "s3cret", true},
		{"accounting, wrong secret", acctBytes, "other", false},
		{"accounting with MA", withMessageAuthenticator(t, acct), "s3cret", true},
		{"accounting with MA, wrong secret", withMessageAuthenticator(t, acct), "other", false},
	} {
		pkt, off, err := checkFrame(tc.pkt)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = verifyRequest(pkt, off, []byte(tc.secret))
		if (err == nil) != tc.ok {
			t.Errorf("%s: verifyRequest = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestCheckFrame(t *testing.T) {
	good := radius.New(radius.CodeAccessRequest, []byte("s"))
	rfc2865.UserName_SetString(good, "account")
	b, _ := good.Encode()
	padded := append(append([]byte{}, b...), 0, 0, 0)
	if pkt, _, err := checkFrame(padded); err != nil || len(pkt) != len(b) {
		t.Fatalf("trailing padding: len %d, err %v", len(pkt), err)
	}
	bad := func(mutate func([]byte) []byte) []byte { return mutate(append([]byte{}, b...)) }
	for name, pkt := range map[string][]byte{
		"truncated header":    b[:19],
		"length over payload": bad(func(p []byte) []byte { p[3] += 10; return p }),
		"length under header": bad(func(p []byte) []byte { p[2], p[3] = 0, 19; return p }),
		"attribute length 1":  bad(func(p []byte) []byte { p[21] = 1; return p }),
		"attribute overruns":  bad(func(p []byte) []byte { p[21] = 200; return p }),
		"MA length 10":        append(bad(func(p []byte) []byte { p[3] += 10; return p }), 80, 10, 0, 0, 0, 0, 0, 0, 0, 0),
	} {
		if _, _, err := checkFrame(pkt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestEncodeReply(t *testing.T) {
	secret := []byte("s3cret")
	req := radius.New(radius.CodeAccessRequest, secret)
	reqBytes, _ := req.Encode()
	reply := req.Response(radius.CodeAccessAccept)
	rfc2865.ReplyMessage_SetString(reply, "welcome")
	for _, withMA := range []bool{false, true} {
		b, err := encodeReply(reply, withMA)
		if err != nil {
			t.Fatal(err)
		}
		if !radius.IsAuthenticResponse(b, reqBytes, secret) {
			t.Errorf("withMA=%v: Response Authenticator does not verify", withMA)
		}
		_, off, err := checkFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		if (off >= 0) != withMA {
			t.Fatalf("withMA=%v: Message-Authenticator offset %d", withMA, off)
		}
		if withMA {
			// A reply's Message-Authenticator is keyed on the request authenticator.
			check := append([]byte{}, b...)
			copy(check[4:20], req.Authenticator[:])
			if got := messageAuthenticator(check, off, secret, false); string(got) != string(b[off+2:off+18]) {
				t.Error("reply Message-Authenticator does not verify")
			}
		}
	}
}

func BenchmarkMessageAuthenticator(b *testing.B) {
	pkt := make([]byte, 120)
	pkt[20], pkt[21] = typeMessageAuthenticator, messageAuthenticatorLen
	secret := []byte("testing123")
	b.ReportAllocs()
	for b.Loop() {
		messageAuthenticator(pkt, 20, secret, false)
	}
}
