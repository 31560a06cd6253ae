package edge

import (
	"context"
	"crypto/hmac"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/eventually"
	"kradius.dev/services/tracing"
)

// statusServer is an encoded Status-Server, with a Message-Authenticator
// under secret when withMA.
func statusServer(t *testing.T, secret string, withMA bool) []byte {
	t.Helper()
	p := radius.New(radius.CodeStatusServer, []byte(secret))
	p.Identifier = byte(nextIdentifier.Add(1))
	// A probe may name a user; it is still no login.
	rfc2865.UserName_SetString(p, "account")
	if withMA {
		return withMessageAuthenticator(t, p)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// probe sends pkt to the listener's port from 127.0.0.1, or from laddr
// when given, and returns the reply, or nil after wait.
func (h *harness) probe(listener string, pkt []byte, wait time.Duration, laddr ...string) []byte {
	h.t.Helper()
	to := h.srv.AuthAddr()
	if listener == listenerAcct {
		to = h.srv.AcctAddr()
	}
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	if len(laddr) > 0 {
		from = &net.UDPAddr{IP: net.ParseIP(laddr[0])}
	}
	conn, err := net.DialUDP("udp", from, to.(*net.UDPAddr))
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	return roundTrip(h.t, conn, pkt, wait)
}

func (h *harness) dropsOn(listener, reason string) float64 {
	return testutil.ToFloat64(h.srv.metrics.drops.WithLabelValues(listener, reason))
}

func (h *harness) statusRequests(listener, result string) float64 {
	return testutil.ToFloat64(h.srv.metrics.requests.WithLabelValues(listener, "stub", kindStatusServer, result))
}

// checkStatusReply fails t unless reply answers req with want, with an
// authentic Response Authenticator and Message-Authenticator.
func checkStatusReply(t *testing.T, reply, req []byte, want radius.Code) {
	t.Helper()
	secret := []byte("s3cret")
	if reply == nil {
		t.Fatalf("no reply, want %v", want)
	}
	if got := radius.Code(reply[0]); got != want {
		t.Fatalf("reply %v, want %v", got, want)
	}
	if !radius.IsAuthenticResponse(reply, req, secret) {
		t.Fatal("Response Authenticator does not match")
	}
	pkt, off, err := checkFrame(reply)
	if err != nil || off < 0 {
		t.Fatalf("reply without Message-Authenticator (%v)", err)
	}
	// Computed over the Request Authenticator, as for an Access-Accept.
	signed := append([]byte(nil), pkt...)
	copy(signed[4:20], req[4:20])
	if !hmac.Equal(messageAuthenticator(signed, off, secret, false), pkt[off+2:off+messageAuthenticatorLen]) {
		t.Fatal("reply's Message-Authenticator does not match")
	}
}

// A known client's Status-Server with a valid Message-Authenticator gets an
// Access-Accept on the auth port and an Accounting-Response on the
// accounting port: no login, no record, nothing cached.
func TestStatusServerAnswered(t *testing.T) {
	log := &memLog{}
	h := start(t, Config{Log: log}, PolicyOff, &stubProfile{})
	for _, c := range []struct {
		listener string
		want     radius.Code
	}{{listenerAuth, radius.CodeAccessAccept}, {listenerAcct, radius.CodeAccountingResponse}} {
		req := statusServer(t, "s3cret", true)
		checkStatusReply(t, h.probe(c.listener, req, replyWait), req, c.want)
		// The same datagram again is decided again, not served from the
		// reply cache.
		checkStatusReply(t, h.probe(c.listener, req, replyWait), req, c.want)
		eventually.True(t, c.listener+": two status-server requests counted as serving", func() bool {
			return h.statusRequests(c.listener, resultServing) == 2
		})
		if got := testutil.ToFloat64(h.srv.metrics.retransmits.WithLabelValues(c.listener, cacheLocal)); got != 0 {
			t.Errorf("%s: %v retransmits counted", c.listener, got)
		}
	}
	if n := h.profile.calls.Load(); n != 0 {
		t.Errorf("the profile decided %d Status-Servers", n)
	}
	if got := log.appended(); len(got) != 0 {
		t.Errorf("Status-Server appended %v to the accounting log", got)
	}
	if n := h.srv.cache.len(time.Now().UnixNano()); n != 0 {
		t.Errorf("%d reply cache entries, want none", n)
	}
}

// RFC 5997: a Status-Server without a valid Message-Authenticator is
// silently discarded, whatever the client's policy for Access-Requests; so
// is one from an unknown address.
func TestStatusServerDrops(t *testing.T) {
	h := start(t, Config{Log: &memLog{}}, PolicyOff, &stubProfile{})
	for _, tc := range []struct {
		name, listener, from, reason string
		pkt                          []byte
	}{
		{"no Message-Authenticator", listenerAuth, "127.0.0.1", ReasonMissingMessageAut, statusServer(t, "s3cret", false)},
		{"no Message-Authenticator", listenerAcct, "127.0.0.1", ReasonMissingMessageAut, statusServer(t, "s3cret", false)},
		{"wrong secret", listenerAuth, "127.0.0.1", ReasonBadAuthenticator, statusServer(t, "wrong", true)},
		{"wrong secret", listenerAcct, "127.0.0.1", ReasonBadAuthenticator, statusServer(t, "wrong", true)},
		{"unknown client", listenerAuth, "127.0.0.2", ReasonUnknownClient, statusServer(t, "s3cret", true)},
		{"unknown client", listenerAcct, "127.0.0.2", ReasonUnknownClient, statusServer(t, "s3cret", true)},
	} {
		name := tc.listener + ": " + tc.name
		before := h.dropsOn(tc.listener, tc.reason)
		if r := h.probe(tc.listener, tc.pkt, silenceWait, tc.from); r != nil {
			t.Errorf("%s: answered %v", name, radius.Code(r[0]))
		}
		eventually.True(t, name+" counted as "+tc.reason, func() bool { return h.dropsOn(tc.listener, tc.reason) == before+1 })
	}
	for _, l := range []string{listenerAuth, listenerAcct} {
		// The known client's, by kind; the unknown one's is counted only
		// among the drops.
		eventually.True(t, l+": two status-server requests counted dropped", func() bool { return h.statusRequests(l, resultDropped) == 2 })
	}
}

// A client under the auto policy that signs its Status-Servers (as it
// must) is not thereby taken to sign its Access-Requests.
func TestStatusServerLeavesAutoPolicyAlone(t *testing.T) {
	h := start(t, Config{}, PolicyAuto, &stubProfile{})
	req := statusServer(t, "s3cret", true)
	checkStatusReply(t, h.probe(listenerAuth, req, replyWait), req, radius.CodeAccessAccept)
	if r := h.exchange("127.0.0.1:0", accessRequest(t, "s3cret"), replyWait); r == nil {
		t.Fatal("an Access-Request without Message-Authenticator dropped after a signed Status-Server")
	}
}

// The port's Health decides: while it says the backends cannot serve, a
// Status-Server is dropped as not_serving, and the same datagram is
// answered once they can, and not answered once they cannot again.
func TestStatusServerFollowsHealth(t *testing.T) {
	var down atomic.Bool
	state := func() error {
		if down.Load() {
			return errors.New("accounts backend not ready")
		}
		return nil
	}
	h := start(t, Config{AuthHealth: Health{State: state}}, PolicyOff, &stubProfile{})
	req := statusServer(t, "s3cret", true)

	down.Store(true)
	if r := h.probe(listenerAuth, req, silenceWait); r != nil {
		t.Fatal("answered while the backends were down")
	}
	eventually.True(t, "not_serving counted", func() bool { return h.dropsOn(listenerAuth, ReasonNotServing) == 1 })
	down.Store(false)
	checkStatusReply(t, h.probe(listenerAuth, req, replyWait), req, radius.CodeAccessAccept)
	down.Store(true)
	if r := h.probe(listenerAuth, req, silenceWait); r != nil {
		t.Fatal("a retransmit answered from the reply cache while the backends were down")
	}
	eventually.True(t, "the retransmit counted as not_serving", func() bool { return h.dropsOn(listenerAuth, ReasonNotServing) == 2 })

	// No accounting log: the accounting port never serves.
	if r := h.probe(listenerAcct, statusServer(t, "s3cret", true), silenceWait); r != nil {
		t.Fatal("the accounting port answered with no log to append to")
	}
	eventually.True(t, "acct not_serving counted", func() bool { return h.dropsOn(listenerAcct, ReasonNotServing) == 1 })
}

// A backend can be reachable and still fail every request: a request that
// failed for it makes the port not serve until one succeeds.
func TestStatusServerFollowsFailedRequests(t *testing.T) {
	log := &memLog{}
	profile := &stubProfile{}
	h := start(t, Config{Log: log}, PolicyOff, profile)
	unanswered := func(listener string, want float64) {
		t.Helper()
		if r := h.probe(listener, statusServer(t, "s3cret", true), silenceWait); r != nil {
			t.Fatalf("%s: answered after a failed request", listener)
		}
		eventually.True(t, listener+": not_serving counted", func() bool { return h.dropsOn(listener, ReasonNotServing) == want })
	}
	answered := func(listener string, code radius.Code) {
		t.Helper()
		req := statusServer(t, "s3cret", true)
		checkStatusReply(t, h.probe(listener, req, replyWait), req, code)
	}

	profile.fail.Store(true)
	login := accessRequest(t, "s3cret")
	if r := h.probe(listenerAuth, login, silenceWait); r != nil {
		t.Fatal("answered with the backend failing")
	}
	eventually.True(t, "backend_error drop", func() bool { return h.drops(ReasonBackend) == 1 })
	unanswered(listenerAuth, 1)
	answered(listenerAcct, radius.CodeAccountingResponse) // the log did not fail
	profile.fail.Store(false)
	if r := h.probe(listenerAuth, login, replyWait); r == nil {
		t.Fatal("the login's retransmit was not answered once the backend recovered")
	}
	answered(listenerAuth, radius.CodeAccessAccept)

	log.fail(true)
	stop := accountingRequest(t, "s3cret", "session-1")
	if r := h.probe(listenerAcct, stop, silenceWait); r != nil {
		t.Fatal("accounting answered with the log failing")
	}
	eventually.True(t, "accounting_log_error drop", func() bool { return h.dropsOn(listenerAcct, ReasonLogUnavailable) == 1 })
	unanswered(listenerAcct, 1)
	answered(listenerAuth, radius.CodeAccessAccept)
	log.fail(false)
	if r := h.probe(listenerAcct, stop, replyWait); r == nil {
		t.Fatal("the Stop's retransmit was not answered once the log recovered")
	}
	answered(listenerAcct, radius.CodeAccountingResponse)
}

// A failure is remembered for FailureMemory when nothing succeeds after it,
// as once the NAS have moved away.
func TestPortHealthRemembersFailures(t *testing.T) {
	const memory = 10 * time.Second
	p := newPortHealth(Health{}, memory)
	t0 := time.Now().UnixNano()
	cause := errors.New("redis down")
	if err := p.serving(t0); err != nil {
		t.Fatalf("nothing failed: %v", err)
	}
	p.succeeded(t0)
	if p.recovered.Load() != 0 {
		t.Error("a success with no failure to clear was written")
	}
	p.failed(t0+1, cause)
	if err := p.serving(t0 + 2); !errors.Is(err, cause) {
		t.Fatalf("after a failure: %v, want %v", err, cause)
	}
	p.succeeded(t0 + 3)
	if err := p.serving(t0 + 4); err != nil {
		t.Fatalf("a success after the failure: %v", err)
	}
	p.failed(t0+5, cause)
	if err := p.serving(t0 + 5 + int64(memory) - 1); err == nil {
		t.Fatal("the failure forgotten before FailureMemory")
	}
	if err := p.serving(t0 + 5 + int64(memory)); err != nil {
		t.Fatalf("the failure still held after FailureMemory: %v", err)
	}
}

// A Check is a round trip: it runs in the background at its interval,
// however many Status-Servers arrive, and until its first outcome nothing
// is answered.
func TestStatusServerCheck(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	check := func(ctx context.Context) error {
		calls.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h := start(t, Config{Log: &memLog{}, AcctHealth: Health{Check: check}, HealthInterval: time.Hour, RequestTimeout: time.Hour}, PolicyOff, &stubProfile{})
	if r := h.probe(listenerAcct, statusServer(t, "s3cret", true), silenceWait); r != nil {
		t.Fatal("answered before the first check")
	}
	eventually.True(t, "not_serving counted", func() bool { return h.dropsOn(listenerAcct, ReasonNotServing) == 1 })
	close(release)
	acct := h.srv.conns[1].health
	eventually.True(t, "the first check done", func() bool { return acct.checked.Load().err == nil })
	for range 50 {
		req := statusServer(t, "s3cret", true)
		checkStatusReply(t, h.probe(listenerAcct, req, replyWait), req, radius.CodeAccountingResponse)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d checks for 51 Status-Servers within one interval, want 1", n)
	}
}

// A failing Check makes the port not serve, and its recovery serves again.
func TestStatusServerCheckRecovers(t *testing.T) {
	var down atomic.Bool
	check := func(context.Context) error {
		if down.Load() {
			return errors.New("broker unreachable")
		}
		return nil
	}
	h := start(t, Config{Log: &memLog{}, AcctHealth: Health{Check: check}, HealthInterval: 10 * time.Millisecond}, PolicyOff, &stubProfile{})
	acct := h.srv.conns[1].health
	eventually.True(t, "the first check done", func() bool { return acct.checked.Load().err == nil })
	down.Store(true)
	eventually.True(t, "the failure seen", func() bool { return acct.checked.Load().err != nil })
	if r := h.probe(listenerAcct, statusServer(t, "s3cret", true), silenceWait); r != nil {
		t.Fatal("answered with the broker unreachable")
	}
	down.Store(false)
	eventually.True(t, "the recovery seen", func() bool { return acct.checked.Load().err == nil })
	req := statusServer(t, "s3cret", true)
	checkStatusReply(t, h.probe(listenerAcct, req, replyWait), req, radius.CodeAccountingResponse)
}

// A Status-Server's span is named for it, with its kind and result.
func TestStatusServerSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(tracing.Sampler(0)))
	h := start(t, Config{Tracer: tp.Tracer("test"), SampleRatio: 1}, PolicyOff, &stubProfile{})
	req := statusServer(t, "s3cret", true)
	checkStatusReply(t, h.probe(listenerAuth, req, replyWait), req, radius.CodeAccessAccept)
	eventually.True(t, "the span ended", func() bool { return len(rec.Ended()) == 1 })
	s := rec.Ended()[0]
	a := attrs(s)
	if s.Name() != "radius Status-Server" || a["radius.code"] != "Status-Server" || a["radius.kind"] != kindStatusServer || a["radius.result"] != resultServing {
		t.Errorf("span %q: %v", s.Name(), a)
	}
}
