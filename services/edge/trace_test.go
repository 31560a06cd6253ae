package edge

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/eventually"
	"kradius.dev/services/tracing"
)

// traceLog is an accounting log that keeps the trace context each record
// was appended under.
type traceLog struct {
	mu     sync.Mutex
	traces []trace.SpanContext
}

func (l *traceLog) Append(ctx context.Context, _, _ []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.traces = append(l.traces, trace.SpanContextFromContext(ctx))
	return nil
}

func (l *traceLog) Close() error { return nil }

func attrs(s sdktrace.ReadOnlySpan) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// Each request gets one span naming its client, profile, kind and result,
// and never its password or the shared secret; its trace reaches the
// accounting log and the latency's exemplar.
func TestRequestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(tracing.Sampler(0)))
	alog := &traceLog{}
	h := start(t, Config{Tracer: tp.Tracer("test"), SampleRatio: 1, Log: alog}, PolicyOff, &stubProfile{kind: "login"})
	ended := func(n int) []sdktrace.ReadOnlySpan {
		t.Helper()
		eventually.True(t, "spans ended", func() bool { return len(rec.Ended()) >= n })
		return rec.Ended()
	}

	p := radius.New(radius.CodeAccessRequest, []byte("s3cret"))
	rfc2865.UserName_SetString(p, "alice")
	rfc2865.UserPassword_SetString(p, "hunter2-password")
	req, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if reply := h.exchange("127.0.0.1:0", req, replyWait); reply == nil || radius.Code(reply[0]) != radius.CodeAccessAccept {
		t.Fatalf("reply %v, want an Access-Accept", reply)
	}
	s := ended(1)[0]
	a := attrs(s)
	want := map[string]string{"radius.client": "nas1", "radius.profile": "stub", "radius.kind": "login", "radius.result": "accept", "radius.code": "Access-Request", "client.address": "127.0.0.1"}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("span attribute %s = %q, want %q (all: %v)", k, a[k], v, a)
		}
	}
	for k, v := range a {
		if strings.Contains(v, "hunter2") || strings.Contains(v, "s3cret") {
			t.Errorf("span attribute %s carries a credential: %q", k, v)
		}
	}
	if s.SpanKind() != trace.SpanKindServer || s.Name() != "radius Access-Request" {
		t.Errorf("span %q of kind %v", s.Name(), s.SpanKind())
	}
	if got := testutil.ToFloat64(h.srv.metrics.requests.WithLabelValues(listenerAuth, "stub", "login", resultAccept)); got != 1 {
		t.Errorf("kradius_edge_requests_total{result=accept} = %v, want 1", got)
	}
	if id := exemplarTraceID(t, h.srv.metrics.duration.WithLabelValues(listenerAuth)); id != s.SpanContext().TraceID().String() {
		t.Errorf("latency exemplar trace_id %q, want the span's %s", id, s.SpanContext().TraceID())
	}

	// A malformed request: a dropped request's span, with the reason as
	// its error.
	bad := accessRequest(t, "s3cret")
	bad[3]++ // a length past the datagram's end
	if reply := h.exchange("127.0.0.1:0", bad, silenceWait); reply != nil {
		t.Fatal("a malformed request was answered")
	}
	s = ended(2)[1]
	if a := attrs(s); a["radius.result"] != resultDropped || a["radius.drop_reason"] != ReasonMalformed || s.Status().Code.String() != "Error" {
		t.Errorf("dropped request's span: %v, status %v", a, s.Status())
	}

	// Accounting: the log is given the span's context, for the consumer's link.
	conn, err := net.DialUDP("udp", nil, h.srv.AcctAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if reply := roundTrip(t, conn, accountingRequest(t, "s3cret", "session-1"), replyWait); reply == nil {
		t.Fatal("no Accounting-Response")
	}
	s = ended(3)[2]
	alog.mu.Lock()
	defer alog.mu.Unlock()
	if len(alog.traces) != 1 || alog.traces[0].SpanID() != s.SpanContext().SpanID() {
		t.Errorf("the log got trace contexts %v, want the span's %v", alog.traces, s.SpanContext().SpanID())
	}
	if a := attrs(s); a["radius.result"] != resultAccounted || a["radius.code"] != "Accounting-Request" {
		t.Errorf("accounting span: %v", a)
	}
}

func exemplarTraceID(t *testing.T, o prometheus.Observer) string {
	t.Helper()
	var m dto.Metric
	if err := o.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	for _, b := range m.GetHistogram().GetBucket() {
		if e := b.GetExemplar(); e != nil {
			for _, l := range e.GetLabel() {
				if l.GetName() == "trace_id" {
					return l.GetValue()
				}
			}
		}
	}
	return ""
}

// A request not drawn for tracing gets no span, but its context says "not
// sampled", so that the backends and the log start no trace of their own.
func TestUnsampledRequestsCarryTheirDecision(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(tracing.Sampler(0)))
	alog := &traceLog{}
	h := start(t, Config{Tracer: tp.Tracer("test"), SampleRatio: 0, Log: alog}, PolicyOff, &stubProfile{})
	conn, err := net.DialUDP("udp", nil, h.srv.AcctAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if reply := roundTrip(t, conn, accountingRequest(t, "s3cret", "session-2"), replyWait); reply == nil {
		t.Fatal("no Accounting-Response")
	}
	if n := len(rec.Ended()) + len(rec.Started()); n != 0 {
		t.Errorf("%d spans of an unsampled request", n)
	}
	alog.mu.Lock()
	defer alog.mu.Unlock()
	if len(alog.traces) != 1 || !alog.traces[0].IsValid() || alog.traces[0].IsSampled() {
		t.Errorf("the log got %v, want one valid, unsampled trace context", alog.traces)
	}
}
