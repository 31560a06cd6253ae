package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/eventually"
	"kradius.dev/services/tlstest"
)

// radsecPKI is a CA the edge trusts, one it does not, and what they issued.
type radsecPKI struct {
	ca, stranger *tlstest.CA
	server       tlstest.Pair
}

func newRadSecPKI(t *testing.T) *radsecPKI {
	t.Helper()
	ca, err := tlstest.NewCA("kradius test CA")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := tlstest.NewCA("someone else's CA")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return &radsecPKI{ca: ca, stranger: stranger, server: server}
}

// startRadSec starts an edge with RadSec, whose client nas-tls is known by
// the identity nas-a.radsec.test, beside the UDP client nas1.
func startRadSec(t *testing.T, profile *stubProfile, cfg Config) (*harness, *radsecPKI) {
	t.Helper()
	pki := newRadSecPKI(t)
	return startRadSecOf(t, pki, profile, cfg), pki
}

// startRadSecOf is startRadSec with the certificates of pki, so that
// several edges serve one NAS.
func startRadSecOf(t *testing.T, pki *radsecPKI, profile *stubProfile, cfg Config) *harness {
	t.Helper()
	table, err := NewClientTable(radsecClients(profile, "NAS-A.radsec.test"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RadSec.Addr, cfg.RadSec.TLS = "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{pki.server.Cert}, ClientCAs: pki.ca.Pool(),
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	}
	return startTable(t, cfg, table, profile)
}

func radsecClients(profile *stubProfile, identities ...string) []*Client {
	return []*Client{
		{Name: "nas1", Profile: "stub", Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Secret: []byte("s3cret"), Handler: profile, Policy: PolicyOff},
		{Name: "nas-tls", Profile: "stub", RadSecIdentities: identities, Handler: profile, Policy: PolicyRequire},
	}
}

// radsecClient is a TLS connection to the edge with a certificate from ca
// naming cn and dnsNames.
type radsecClient struct {
	t    *testing.T
	conn *tls.Conn
	r    *bufio.Reader
}

func dialRadSec(t *testing.T, h *harness, pki *radsecPKI, ca *tlstest.CA, cn string, dnsNames ...string) (*radsecClient, error) {
	t.Helper()
	pair, err := ca.Client(cn, dnsNames...)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", h.srv.RadSecAddr().String(), &tls.Config{
		Certificates: []tls.Certificate{pair.Cert}, RootCAs: pki.ca.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		return nil, err
	}
	c := &radsecClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	t.Cleanup(func() { conn.Close() })
	// TLS 1.3 reports a refused client certificate on the first read.
	return c, nil
}

func (c *radsecClient) send(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next packet, or an error once the stream ends.
func (c *radsecClient) read() ([]byte, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(replyWait))
	head := make([]byte, 4)
	if _, err := io.ReadFull(c.r, head); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(head[2:]))
	copy(b, head)
	_, err := io.ReadFull(c.r, b[4:])
	return b, err
}

func (h *harness) radsecConnections(result string) float64 {
	return testutil.ToFloat64(h.srv.radsec.metrics.connections.WithLabelValues(result))
}

func (h *harness) radsecDisconnects(reason string) float64 {
	return testutil.ToFloat64(h.srv.radsec.metrics.disconnects.WithLabelValues(reason))
}

func TestRadSecAnswersWithTheRFCSecret(t *testing.T) {
	profile := &stubProfile{}
	h, pki := startRadSec(t, profile, Config{})
	c, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	// Pipelined: three requests before the first reply is read, with
	// Identifiers of their own, by which the replies are matched.
	var reqs [][]byte
	for id := range byte(3) {
		p := radius.New(radius.CodeAccessRequest, []byte(radsecSecret))
		p.Identifier = id
		rfc2865.UserName_SetString(p, "account")
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, b)
	}
	for _, b := range reqs {
		c.send(b)
	}
	got := map[byte][]byte{}
	for range reqs {
		r, err := c.read()
		if err != nil {
			t.Fatalf("reading a reply: %v", err)
		}
		got[r[1]] = r
	}
	for _, req := range reqs {
		r := got[req[1]]
		if r == nil || radius.Code(r[0]) != radius.CodeAccessAccept || !radius.IsAuthenticResponse(r, req, []byte(radsecSecret)) {
			t.Fatalf("request %d: no authentic Access-Accept under the secret %q: %x", req[1], radsecSecret, r)
		}
	}
	if n := h.radsecConnections(radsecAccepted); n != 1 {
		t.Fatalf("accepted connections: %v, want 1", n)
	}
}

// A RadSec client resends only over a new connection (RFC 6613 §2.6.1):
// the reply cache knows the request by the client, not by the TCP peer.
func TestRadSecResendOverANewConnectionIsAnsweredFromTheCache(t *testing.T) {
	profile := &stubProfile{}
	h, pki := startRadSec(t, profile, Config{})
	req := accessRequest(t, radsecSecret)
	var replies [][]byte
	for range 2 {
		c, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
		if err != nil {
			t.Fatal(err)
		}
		c.send(req)
		r, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, r)
		c.conn.Close()
	}
	if string(replies[0]) != string(replies[1]) {
		t.Fatalf("the resend got another reply:\n%x\n%x", replies[0], replies[1])
	}
	if n := profile.calls.Load(); n != 1 {
		t.Fatalf("decisions: %d, want 1", n)
	}
	if n := testutil.ToFloat64(h.srv.metrics.retransmits.WithLabelValues(listenerAuth, cacheLocal)); n != 1 {
		t.Fatalf("retransmits: %v, want 1", n)
	}
}

func TestRadSecRefusesOtherCAsAndUnknownIdentities(t *testing.T) {
	h, pki := startRadSec(t, &stubProfile{}, Config{})
	// Another CA: the handshake fails, on the client's side at its first
	// read under TLS 1.3.
	if c, err := dialRadSec(t, h, pki, pki.stranger, "nas-a", "nas-a.radsec.test"); err == nil {
		c.send(accessRequest(t, radsecSecret))
		if r, err := c.read(); err == nil {
			t.Fatalf("a certificate of an unknown CA was answered: %x", r)
		}
	}
	eventually.True(t, "handshake_failed counted", func() bool { return h.radsecConnections(radsecHandshakeFailed) == 1 })

	// The right CA, but no client has the name.
	c, err := dialRadSec(t, h, pki, pki.ca, "stranger", "stranger.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	c.send(accessRequest(t, radsecSecret))
	if r, err := c.read(); err == nil {
		t.Fatalf("a certificate naming no client was answered: %x", r)
	}
	eventually.True(t, "unknown_client counted", func() bool { return h.radsecConnections(radsecUnknownClient) == 1 })
	if n := h.profile.calls.Load(); n != 0 {
		t.Fatalf("decisions: %d, want 0", n)
	}
}

func TestRadSecIdentityFromTheCommonName(t *testing.T) {
	h, pki := startRadSec(t, &stubProfile{}, Config{})
	c, err := dialRadSec(t, h, pki, pki.ca, "nas-a.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	req := accessRequest(t, radsecSecret)
	c.send(req)
	if r, err := c.read(); err != nil || radius.Code(r[0]) != radius.CodeAccessAccept {
		t.Fatalf("reply %x, %v: want an Access-Accept", r, err)
	}
}

func TestRadSecClosesOnABadLength(t *testing.T) {
	h, pki := startRadSec(t, &stubProfile{}, Config{})
	c, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	c.send([]byte{byte(radius.CodeAccessRequest), 1, 0, 5, 0})
	if _, err := c.read(); err == nil {
		t.Fatal("the connection stayed open after a Length of 5")
	}
	eventually.True(t, "framing_error counted", func() bool { return h.radsecDisconnects(radsecFramingError) == 1 })
}

// A request with the client's UDP secret rather than RFC 6614's fails
// its Message-Authenticator and is dropped, counted; the connection stays.
func TestRadSecWrongSecretIsDropped(t *testing.T) {
	h, pki := startRadSec(t, &stubProfile{}, Config{})
	c, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	c.send(withMessageAuthenticator(t, radius.New(radius.CodeAccessRequest, []byte("s3cret"))))
	eventually.True(t, "bad_authenticator counted", func() bool { return h.drops(ReasonBadAuthenticator) == 1 })
	req := accessRequest(t, radsecSecret)
	c.send(req)
	if r, err := c.read(); err != nil || r[1] != req[1] {
		t.Fatalf("after a dropped request: %x, %v", r, err)
	}
}

func TestRadSecClientRemovedOnReload(t *testing.T) {
	profile := &stubProfile{}
	h, pki := startRadSec(t, profile, Config{})
	c, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	c.send(accessRequest(t, radsecSecret))
	if _, err := c.read(); err != nil {
		t.Fatal(err)
	}
	table, err := NewClientTable(radsecClients(profile, "nas-b.radsec.test"))
	if err != nil {
		t.Fatal(err)
	}
	h.srv.SetClients(table)
	c.send(accessRequest(t, radsecSecret))
	if r, err := c.read(); err == nil {
		t.Fatalf("a client removed from the table was answered: %x", r)
	}
	eventually.True(t, "client_removed counted", func() bool { return h.radsecDisconnects(radsecClientRemoved) == 1 })
}

// Shutdown answers the requests already read before it closes.
func TestRadSecShutdownAnswersInFlight(t *testing.T) {
	profile := &stubProfile{hold: make(chan struct{})}
	h, pki := startRadSec(t, profile, Config{})
	c, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	req := accessRequest(t, radsecSecret)
	c.send(req)
	eventually.True(t, "the request is being decided", func() bool { return profile.calls.Load() == 1 })
	h.cancel()
	close(profile.hold)
	r, err := c.read()
	if err != nil || r[1] != req[1] || radius.Code(r[0]) != radius.CodeAccessAccept {
		t.Fatalf("in-flight request at shutdown: %x, %v", r, err)
	}
	<-h.done
	if _, err := c.read(); err == nil {
		t.Fatal("the connection stayed open after shutdown")
	}
}

func TestNewClientTableRefusesADuplicateIdentity(t *testing.T) {
	p := &stubProfile{}
	_, err := NewClientTable([]*Client{
		{Name: "a", Profile: "stub", RadSecIdentities: []string{"nas.example"}, Handler: p},
		{Name: "b", Profile: "stub", RadSecIdentities: []string{"NAS.example"}, Handler: p},
	})
	if err == nil {
		t.Fatal("two clients with one RadSec identity were accepted")
	}
	if _, err := NewClientTable([]*Client{{Name: "c", Profile: "stub", Handler: p}}); err == nil {
		t.Fatal("a client with neither addresses nor identities was accepted")
	}
}

func TestRadSecNeedsClientCertificates(t *testing.T) {
	pki := newRadSecPKI(t)
	table, err := NewClientTable(radsecClients(&stubProfile{}, "nas-a.radsec.test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Config{AuthAddr: "127.0.0.1:0", AcctAddr: "127.0.0.1:0", RadSec: RadSec{Addr: "127.0.0.1:0",
		TLS: &tls.Config{Certificates: []tls.Certificate{pki.server.Cert}}}}, table, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen(); err == nil {
		srv.closeConns()
		t.Fatal("RadSec listened without verifying client certificates")
	}
}

// FuzzReadFrame feeds an arbitrary RadSec stream to readFrame until it
// ends. Nothing may panic; each packet read lies within the limits and is
// exactly the bytes its Length covers, in order; a stream ends only at a
// clean end between packets, a cut packet or a Length out of range.
func FuzzReadFrame(f *testing.F) {
	req := radius.New(radius.CodeAccessRequest, []byte(radsecSecret))
	one, err := req.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(one)
	f.Add(append(append([]byte{}, one...), one...))
	f.Add(one[:10])
	f.Add([]byte{1, 1, 0, 5, 0})
	f.Add([]byte{1, 1, 0x10, 0x01})
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		var buf [maxPacket]byte
		at := 0
		for {
			n, err := readFrame(r, &buf)
			if err != nil {
				rest := len(stream) - at
				switch {
				case errors.Is(err, io.EOF):
					if rest != 0 {
						t.Fatalf("clean end with %d bytes unread", rest)
					}
				case errors.Is(err, errFraming):
					if l := int(binary.BigEndian.Uint16(stream[at+2:])); l >= headerLen && l <= maxPacket {
						t.Fatalf("Length %d refused", l)
					}
				case errors.Is(err, io.ErrUnexpectedEOF):
				default:
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if n < headerLen || n > maxPacket || int(binary.BigEndian.Uint16(buf[2:4])) != n {
				t.Fatalf("packet of %d bytes, Length %d", n, binary.BigEndian.Uint16(buf[2:4]))
			}
			if !bytes.Equal(buf[:n], stream[at:at+n]) {
				t.Fatal("the packet is not the stream's next bytes")
			}
			at += n
		}
	})
}

// RFC 6614 §2.6 has a RadSec client probe its connection with
// Status-Server: answered as over UDP, while the edge can serve.
func TestRadSecStatusServer(t *testing.T) {
	h, pki := startRadSec(t, &stubProfile{}, Config{})
	c, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	probe := statusServer(t, radsecSecret, true)
	c.send(probe)
	r, err := c.read()
	if err != nil || radius.Code(r[0]) != radius.CodeAccessAccept || !radius.IsAuthenticResponse(r, probe, []byte(radsecSecret)) {
		t.Fatalf("Status-Server over RadSec: %x, %v", r, err)
	}
	if n := h.profile.calls.Load(); n != 0 {
		t.Fatalf("the probe reached the profile: %d decisions", n)
	}
}

// Connections beyond MaxConnections are closed at once, counted.
func TestRadSecMaxConnections(t *testing.T) {
	h, pki := startRadSec(t, &stubProfile{}, Config{RadSec: RadSec{MaxConnections: 1}})
	first, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
	if err != nil {
		t.Fatal(err)
	}
	req := accessRequest(t, radsecSecret)
	first.send(req)
	if _, err := first.read(); err != nil {
		t.Fatalf("the first connection: %v", err)
	}
	if second, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test"); err == nil {
		second.send(accessRequest(t, radsecSecret))
		if r, err := second.read(); err == nil {
			t.Fatalf("a connection beyond the limit was answered: %x", r)
		}
	}
	eventually.True(t, "over_limit counted", func() bool { return h.radsecConnections(radsecOverLimit) == 1 })
	first.send(req)
	if _, err := first.read(); err != nil {
		t.Fatalf("the first connection after the refusal: %v", err)
	}
}
