package edge

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"layeh.com/radius"
)

// Results of kradius_edge_requests_total and of a span's radius.result.
const (
	resultAccept     = "accept"
	resultReject     = "reject"
	resultChallenge  = "challenge"
	resultAccounted  = "accounted"
	resultDropped    = "dropped"
	resultRetransmit = "retransmit" // a span only: the reply came from the cache
	// resultServing is a Status-Server answered: the port can serve.
	resultServing = "serving"
	// kindNone is the kind of a request its profile never saw, or did not
	// name.
	kindNone = "none"
	// kindStatusServer is a Status-Server's, which no profile sees.
	kindStatusServer = "status-server"
)

var replyResults = map[radius.Code]string{
	radius.CodeAccessAccept:       resultAccept,
	radius.CodeAccessReject:       resultReject,
	radius.CodeAccessChallenge:    resultChallenge,
	radius.CodeAccountingResponse: resultAccounted,
}

// spanNames name a request's span by its code: the port's, until the
// datagram's is known.
var spanNames = map[radius.Code]string{
	radius.CodeAccessRequest:     "radius Access-Request",
	radius.CodeAccountingRequest: "radius Accounting-Request",
	radius.CodeStatusServer:      "radius Status-Server",
}

// Span attributes. Never a secret, a password, a digest response or an
// HA1: a span names who asked and what was decided, not the credentials.
const (
	attrClient  = attribute.Key("radius.client")
	attrAddress = attribute.Key("client.address")
	attrProfile = attribute.Key("radius.profile")
	attrCode    = attribute.Key("radius.code")
	attrKind    = attribute.Key("radius.kind")
	attrResult  = attribute.Key("radius.result")
	attrDrop    = attribute.Key("radius.drop_reason")
)

// sampler draws each request's lot: the SDK's own sampling would start
// (and allocate) a span for every request, to keep one in a hundred.
type sampler struct{ below uint64 } // keep a draw below it

func newSampler(ratio float64) sampler {
	switch {
	case ratio >= 1:
		return sampler{below: math.MaxUint64}
	case ratio <= 0:
		return sampler{}
	}
	return sampler{below: uint64(ratio * (1 << 64))}
}

func (s sampler) keep() bool { return s.below == math.MaxUint64 || rand.Uint64() < s.below }

// unsampled is a new trace's context, not sampled: what the backends'
// instrumentation sees as the parent of their spans, and so record none.
func (s sampler) unsampled() trace.SpanContext {
	var tid trace.TraceID
	var sid trace.SpanID
	binary.BigEndian.PutUint64(tid[:8], rand.Uint64())
	binary.BigEndian.PutUint64(tid[8:], rand.Uint64()|1) // never the invalid all-zero ID
	binary.BigEndian.PutUint64(sid[:], rand.Uint64()|1)
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})
}

// endSpan records r's outcome on its span and ends it: result, and for a
// drop its reason (a drop is the span's error, which trace search finds).
func (s *Server) endSpan(r *request, result, dropReason string) {
	if r.span == nil {
		return
	}
	if r.span.IsRecording() {
		kind := r.kind
		if kind == "" {
			kind = kindNone
		}
		if r.code != r.l.code {
			r.span.SetName(spanNames[r.code])
		}
		attrs := []attribute.KeyValue{
			attrCode.String(r.code.String()),
			attrAddress.String(r.j.src.Addr().String()),
			attrKind.String(kind),
			attrResult.String(result),
		}
		if r.client != nil {
			attrs = append(attrs, attrClient.String(r.client.Name), attrProfile.String(r.client.Profile))
		}
		if dropReason != "" {
			attrs = append(attrs, attrDrop.String(dropReason))
			r.span.SetStatus(codes.Error, dropReason)
		}
		r.span.SetAttributes(attrs...)
	}
	r.span.End()
}

// observe records r's latency, with its trace as the exemplar when it was
// sampled, so that a slow bucket in Grafana links to a trace.
func (s *Server) observe(l *listener, r *request, seconds float64) {
	if r.span != nil {
		if sc := r.span.SpanContext(); sc.IsSampled() {
			if eo, ok := l.metrics.duration.(prometheus.ExemplarObserver); ok {
				eo.ObserveWithExemplar(seconds, prometheus.Labels{"trace_id": sc.TraceID().String()})
				return
			}
		}
	}
	l.metrics.duration.Observe(seconds)
}
