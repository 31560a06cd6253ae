package e2e

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/nas/faxback/fbattr"
)

// The limits of RFC 2865's framing, each met by a FaxBack port server's
// login from the demo's 127.0.0.1 client: a defined answer, a counter, and
// the server still answering after it.

const (
	typeNASIdentifier = 32 // a string the profiles ignore: room to fill a packet
	typeProxyState    = 33
	typeVendor        = 26
	faxbackVendor     = 30694
	// limitsSilence is how long a dropped request's test listens for a
	// reply it must not get; the drop counter is what proves the drop.
	limitsSilence = time.Second
)

// limitsLogin is the demo account's login, encoded, with extra attributes
// appended raw after the ones layeh encodes, so that a test can build what
// layeh would refuse to (a length of 0 or 1).
func limitsLogin(t *testing.T, user string, extra ...[]byte) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte("testing123"))
	rfc2865.UserName_SetString(p, user)
	rfc2865.UserPassword_SetString(p, "password")
	fbattr.FBCommand_Set(p, fbattr.FBCommand_Value_GetAccount)
	fbattr.FBContext_Set(p, fbattr.FBContext_Value_AccountLogin)
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range extra {
		b = append(b, a...)
	}
	if len(b) <= 0xffff {
		b[2], b[3] = byte(len(b)>>8), byte(len(b))
	}
	return b
}

// attr is one raw attribute: type, the length it claims, then value.
func attr(typ byte, value []byte) []byte {
	return append([]byte{typ, byte(2 + len(value))}, value...)
}

// filler is attributes of type typ adding up to exactly n bytes (n >= 3).
func filler(typ byte, n int) [][]byte {
	var out [][]byte
	for n > 0 {
		size := min(n, 255)
		if rest := n - size; rest > 0 && rest < 3 {
			size -= 3 - rest // leave room for a last attribute of at least 3
		}
		out = append(out, attr(typ, bytes.Repeat([]byte{'x'}, size-2)))
		n -= size
	}
	return out
}

// exchangeRaw sends b from 127.0.0.1 and returns the reply, or nil when none
// comes within wait.
func exchangeRaw(t *testing.T, addr string, b []byte, wait time.Duration) []byte {
	t.Helper()
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.1")}, mustResolve(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65536)
	n, err := conn.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// TestLimits: each edge case of the framing gets its defined answer.
func TestLimits(t *testing.T) {
	s := start(t)
	malformed := `kradius_edge_drops_total{listener="auth",reason="malformed"}`
	accepted := func(t *testing.T, b []byte) *radius.Packet {
		t.Helper()
		reply := exchangeRaw(t, s.auth, b, 10*time.Second)
		if reply == nil {
			t.Fatal("no reply")
		}
		p, err := radius.Parse(reply, []byte("testing123"))
		if err != nil {
			t.Fatalf("reply: %v", err)
		}
		if !radius.IsAuthenticResponse(reply, b, []byte("testing123")) {
			t.Fatal("the reply's authenticator does not match")
		}
		if p.Code != radius.CodeAccessAccept {
			t.Fatalf("%v, want Access-Accept", p.Code)
		}
		return p
	}
	dropped := func(t *testing.T, b []byte, counter string, want float64) {
		t.Helper()
		if reply := exchangeRaw(t, s.auth, b, limitsSilence); reply != nil {
			t.Errorf("a %d-byte reply, want none", len(reply))
		}
		s.waitMetric(counter, want)
	}

	t.Run("a packet of 4096 bytes is answered", func(t *testing.T) {
		base := limitsLogin(t, "account")
		b := limitsLogin(t, "account", filler(typeNASIdentifier, 4096-len(base))...)
		if len(b) != 4096 {
			t.Fatalf("built %d bytes", len(b))
		}
		accepted(t, b)
	})
	t.Run("a packet of 4097 bytes is malformed", func(t *testing.T) {
		base := limitsLogin(t, "account")
		b := limitsLogin(t, "account", filler(typeNASIdentifier, 4097-len(base))...)
		dropped(t, b, malformed, 1)
	})
	t.Run("an attribute of length 0 is malformed", func(t *testing.T) {
		dropped(t, limitsLogin(t, "account", []byte{typeNASIdentifier, 0}), malformed, 2)
	})
	t.Run("an attribute of length 1 is malformed", func(t *testing.T) {
		dropped(t, limitsLogin(t, "account", []byte{typeNASIdentifier, 1, 'x'}), malformed, 3)
	})
	t.Run("an attribute of length 255 is answered", func(t *testing.T) {
		accepted(t, limitsLogin(t, "account", attr(typeNASIdentifier, bytes.Repeat([]byte{'x'}, 253))))
	})
	t.Run("255 Proxy-States are answered, echoed in order", func(t *testing.T) {
		// RFC 2865 §5.33: a proxy on the way matches the reply by them.
		var states [][]byte
		for i := range 255 {
			states = append(states, attr(typeProxyState, []byte(fmt.Sprintf("p%03d", i))))
		}
		p := accepted(t, limitsLogin(t, "account", states...))
		var got []string
		for _, a := range p.Attributes {
			if a.Type == typeProxyState {
				got = append(got, string(a.Attribute))
			}
		}
		if len(got) != 255 || got[0] != "p000" || got[254] != "p254" {
			t.Errorf("%d Proxy-States in the reply (first %q), want the 255 sent, in order", len(got), strings.Join(got[:min(3, len(got))], ","))
		}
	})
	t.Run("a Vendor-Specific of 50 sub-attributes is answered", func(t *testing.T) {
		// One FaxBack VSA: the command and context, then 48 FB-CDR-Info
		// (type 3), which a login ignores. 6 + 2×6 + 48×3 = 162 bytes.
		v := []byte{0, 0, faxbackVendor >> 8, faxbackVendor & 0xff}
		v = append(v, 1, 6, 0, 0, 0, 1, 2, 6, 0, 0, 0, 1)
		for range 48 {
			v = append(v, 3, 3, 'i')
		}
		p := radius.New(radius.CodeAccessRequest, []byte("testing123"))
		rfc2865.UserName_SetString(p, "account")
		rfc2865.UserPassword_SetString(p, "password")
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, attr(typeVendor, v)...)
		b[2], b[3] = byte(len(b)>>8), byte(len(b))
		accepted(t, b)
	})
	t.Run("a User-Name of 253 bytes is rejected as unknown", func(t *testing.T) {
		// Longer than any FaxBack account name (16 bytes, or 64
		// characters with UUID mode): no such account.
		name := strings.Repeat("n", 253)
		reply := exchangeRaw(t, s.auth, limitsLogin(t, name), 10*time.Second)
		if reply == nil {
			t.Fatal("no reply")
		}
		p, err := radius.Parse(reply, []byte("testing123"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Code != radius.CodeAccessReject {
			t.Errorf("%v, want Access-Reject", p.Code)
		}
		s.waitMetricFunc(`kradius_edge_requests_total{kind="Get-Account/Account-Login",listener="auth",profile="faxback",result="reject"}`, "1", func(v float64) bool { return v >= 1 })
	})
	// After all of it, the server still answers.
	if out := radclient(t, s.auth, "testing123", `User-Name = "account", User-Password = "password", `+login); !strings.Contains(out, "Access-Accept") {
		t.Errorf("after the limits: %s", out)
	}
}
