package edge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas"
)

// stubProfile accepts everyone, or fails while fail is set, counting decisions.
type stubProfile struct {
	calls    atomic.Int32
	fail     atomic.Bool
	hold     chan struct{} // when non-nil, each decision waits for it
	deadline atomic.Int64  // of the last decision's context, unix ns
	kind     string        // the request kind it names
}

func (p *stubProfile) ServeAccess(ctx context.Context, req *nas.Request) (*radius.Packet, error) {
	p.calls.Add(1)
	req.Kind = p.kind
	if d, ok := ctx.Deadline(); ok {
		p.deadline.Store(d.UnixNano())
	}
	if p.hold != nil {
		<-p.hold
	}
	if p.fail.Load() {
		return nil, errors.New("backend down")
	}
	return req.Packet.Response(radius.CodeAccessAccept), nil
}

type harness struct {
	t       *testing.T
	srv     *Server
	profile *stubProfile
	cancel  context.CancelFunc
	done    chan struct{}
}

func start(t *testing.T, cfg Config, policy Policy, profile *stubProfile) *harness {
	t.Helper()
	return startTable(t, cfg, loopbackClient(t, profile, policy), profile)
}

// loopbackClient is the table of one client, nas1: 127.0.0.1, secret
// s3cret, served by handler.
func loopbackClient(t *testing.T, handler nas.Handler, policy Policy) *ClientTable {
	t.Helper()
	client := &Client{Name: "nas1", Profile: "stub", Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Secret: []byte("s3cret"), Handler: handler, Policy: policy}
	table, err := NewClientTable([]*Client{client})
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// startTable starts an edge on loopback with the client table given.
func startTable(t *testing.T, cfg Config, table *ClientTable, profile *stubProfile) *harness {
	t.Helper()
	cfg.AuthAddr, cfg.AcctAddr = "127.0.0.1:0", "127.0.0.1:0"
	srv := New(cfg, table, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, srv: srv, profile: profile, cancel: cancel, done: make(chan struct{})}
	go func() { srv.Serve(ctx); close(h.done) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	<-h.done
}

func (h *harness) drops(reason string) float64 {
	return testutil.ToFloat64(h.srv.metrics.drops.WithLabelValues(listenerAuth, reason))
}

// exchange sends b from laddr and returns the reply, or nil after wait.
func (h *harness) exchange(laddr string, b []byte, wait time.Duration) []byte {
	h.t.Helper()
	conn, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(laddr)), h.srv.AuthAddr().(*net.UDPAddr))
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	return roundTrip(h.t, conn, b, wait)
}

func roundTrip(t *testing.T, conn *net.UDPConn, b []byte, wait time.Duration) []byte {
	t.Helper()
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, maxPacket)
	n, err := conn.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func accessRequest(t *testing.T, secret string) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	rfc2865.UserName_SetString(p, "account")
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// How long a test reads for a datagram. A reply it expects may take as
// long as the machine makes it: replyWait only bounds a hang. One it
// expects not to come gets silenceWait, and the drop counter then tells a
// dropped request from a slow one.
const (
	replyWait   = 10 * time.Second
	silenceWait = 200 * time.Millisecond
)

func TestAcceptAndRetransmit(t *testing.T) {
	h := start(t, Config{}, PolicyOff, &stubProfile{})
	req := accessRequest(t, "s3cret")
	conn, err := net.DialUDP("udp", nil, h.srv.AuthAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	first := roundTrip(t, conn, req, replyWait)
	if first == nil || !radius.IsAuthenticResponse(first, req, []byte("s3cret")) {
		t.Fatalf("no authentic reply: %x", first)
	}
	again := roundTrip(t, conn, req, replyWait)
	if string(again) != string(first) {
		t.Fatal("retransmit got a different reply")
	}
	if n := h.profile.calls.Load(); n != 1 {
		t.Fatalf("profile decided %d times, want 1", n)
	}
	if got := testutil.ToFloat64(h.srv.metrics.retransmits.WithLabelValues(listenerAuth, cacheLocal)); got != 1 {
		t.Fatalf("retransmits counter = %v", got)
	}
	// The same Identifier with a new Request Authenticator is a new request.
	next := accessRequest(t, "s3cret")
	next[1] = req[1]
	if r := roundTrip(t, conn, next, replyWait); r == nil || !radius.IsAuthenticResponse(r, next, []byte("s3cret")) {
		t.Fatal("reused Identifier: no fresh reply")
	}
	if n := h.profile.calls.Load(); n != 2 {
		t.Fatalf("profile decided %d times, want 2", n)
	}
}

func TestDrops(t *testing.T) {
	h := start(t, Config{}, PolicyRequire, &stubProfile{})
	good := accessRequest(t, "s3cret")
	withMA := func(secret string) []byte {
		p := radius.New(radius.CodeAccessRequest, []byte(secret))
		rfc2865.UserName_SetString(p, "account")
		return withMessageAuthenticator(t, p)
	}
	badLength := append([]byte{}, good...)
	badLength[3] += 40
	acctOnAuth := append([]byte{}, good...)
	acctOnAuth[0] = byte(radius.CodeAccountingRequest)

	for _, tc := range []struct {
		name, from, reason string
		pkt                []byte
	}{
		{"unknown client", "127.0.0.2:0", ReasonUnknownClient, good},
		{"truncated", "127.0.0.1:0", ReasonMalformed, good[:12]},
		{"bad length", "127.0.0.1:0", ReasonMalformed, badLength},
		{"garbage", "127.0.0.1:0", ReasonMalformed, []byte("this is not a RADIUS packet at all")},
		{"wrong secret", "127.0.0.1:0", ReasonBadAuthenticator, withMA("wrong")},
		{"no Message-Authenticator under require", "127.0.0.1:0", ReasonMissingMessageAut, good},
		{"accounting code on the auth port", "127.0.0.1:0", ReasonUnsupportedCode, acctOnAuth},
	} {
		before := h.drops(tc.reason)
		if r := h.exchange(tc.from, tc.pkt, silenceWait); r != nil {
			t.Errorf("%s: got a reply", tc.name)
		}
		eventually.True(t, tc.name+" counted as "+tc.reason, func() bool { return h.drops(tc.reason) == before+1 })
	}
	if r := h.exchange("127.0.0.1:0", withMA("s3cret"), replyWait); r == nil {
		t.Fatal("valid request with Message-Authenticator: no reply")
	} else if _, off, _ := checkFrame(r); off < 0 {
		t.Fatal("reply to a request with Message-Authenticator carries none")
	}
}

func TestAutoPolicyLatches(t *testing.T) {
	h := start(t, Config{}, PolicyAuto, &stubProfile{})
	if r := h.exchange("127.0.0.1:0", accessRequest(t, "s3cret"), replyWait); r == nil {
		t.Fatal("auto, before any Message-Authenticator: dropped")
	}
	p := radius.New(radius.CodeAccessRequest, []byte("s3cret"))
	if r := h.exchange("127.0.0.1:0", withMessageAuthenticator(t, p), replyWait); r == nil {
		t.Fatal("auto, with Message-Authenticator: dropped")
	}
	if r := h.exchange("127.0.0.1:0", accessRequest(t, "s3cret"), silenceWait); r != nil {
		t.Fatal("auto, once seen: a request without Message-Authenticator was answered")
	}
	eventually.True(t, "the request without Message-Authenticator dropped", func() bool { return h.drops(ReasonMissingMessageAut) == 1 })
}

func TestBackendErrorIsSilentAndRetried(t *testing.T) {
	profile := &stubProfile{}
	profile.fail.Store(true)
	h := start(t, Config{}, PolicyOff, profile)
	req := accessRequest(t, "s3cret")
	conn, _ := net.DialUDP("udp", nil, h.srv.AuthAddr().(*net.UDPAddr))
	defer conn.Close()
	if r := roundTrip(t, conn, req, silenceWait); r != nil {
		t.Fatalf("backend down: got code %d, want silence", r[0])
	}
	eventually.True(t, "backend_error drop", func() bool { return h.drops(ReasonBackend) == 1 })
	profile.fail.Store(false)
	if r := roundTrip(t, conn, req, replyWait); r == nil || radius.Code(r[0]) != radius.CodeAccessAccept {
		t.Fatal("retransmit after the backend recovered: no Accept")
	}
}

func TestOverload(t *testing.T) {
	profile := &stubProfile{hold: make(chan struct{})}
	h := start(t, Config{Workers: 1, QueueSize: 1}, PolicyOff, profile)
	conn, _ := net.DialUDP("udp", nil, h.srv.AuthAddr().(*net.UDPAddr))
	defer conn.Close()
	// One request occupies the worker, one waits in the queue, the rest overflow.
	for range 10 {
		conn.Write(accessRequest(t, "s3cret"))
	}
	eventually.True(t, "overload drops", func() bool { return h.drops(ReasonOverload) >= 1 })
	close(profile.hold)
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	profile := &stubProfile{hold: make(chan struct{})}
	h := start(t, Config{}, PolicyOff, profile)
	conn, _ := net.DialUDP("udp", nil, h.srv.AuthAddr().(*net.UDPAddr))
	defer conn.Close()
	req := accessRequest(t, "s3cret")
	conn.Write(req)
	eventually.True(t, "decision started", func() bool { return profile.calls.Load() == 1 })
	var wg sync.WaitGroup
	wg.Go(h.stop)
	eventually.True(t, "the server stopping", h.srv.stopping.Load)
	select {
	case <-h.done:
		t.Fatal("Serve returned with a decision in flight")
	default:
	}
	close(profile.hold)
	conn.SetReadDeadline(time.Now().Add(replyWait))
	buf := make([]byte, maxPacket)
	n, err := conn.Read(buf)
	if err != nil || !radius.IsAuthenticResponse(buf[:n], req, []byte("s3cret")) {
		t.Fatalf("in-flight request not answered during shutdown: %v", err)
	}
	wg.Wait()
}
