package acctlog

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TraceHeader is the record header (Kafka) that carries the trace context
// of the request that appended a record: W3C trace context, which other
// Kafka tools read too.
const TraceHeader = "traceparent"

var traceContext propagation.TraceContext

// TraceParent is the W3C traceparent of the span in ctx, "" when ctx holds
// none that was sampled (tracing off, or a request not traced): a consumer
// links its span to it, and a link to a span never exported leads nowhere.
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ""
	}
	c := propagation.MapCarrier{}
	traceContext.Inject(ctx, c)
	return c[TraceHeader]
}

// ParseTraceParent reads a traceparent back; an invalid one gives the
// zero SpanContext.
func ParseTraceParent(v string) trace.SpanContext {
	if v == "" {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(traceContext.Extract(context.Background(), propagation.MapCarrier{TraceHeader: v}))
}
