package cdr

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"kradius.dev/services/acctlog"
)

// lags gathers kradius_cdr_lag_records by partition.
func lags(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "kradius_cdr_lag_records" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "partition" {
					out[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

func sameLags(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestLag(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := NewLag(reg)
	if got := lags(t, reg); len(got) != 0 {
		t.Fatalf("before any report: %v, want no series", got)
	}
	l.Set(0, 5)
	l.Set(3, 70)
	l.Set(0, 2) // a later report replaces the earlier
	if got, want := lags(t, reg), map[string]float64{"0": 2, "3": 70}; !sameLags(got, want) {
		t.Errorf("after Set: %v, want %v", got, want)
	}
	// A rebalance takes partition 3 away: its last lag must not linger as
	// if this member still owed it, or the sum over members counts it twice.
	l.Forget([]int32{3, 9})
	if got, want := lags(t, reg), map[string]float64{"0": 2}; !sameLags(got, want) {
		t.Errorf("after Forget: %v, want %v", got, want)
	}
	l.Forget([]int32{0})
	if got := lags(t, reg); len(got) != 0 {
		t.Errorf("after forgetting all: %v, want no series", got)
	}
}

func TestJournalLag(t *testing.T) {
	var behind atomic.Int64
	behind.Store(42)
	reg := prometheus.NewRegistry()
	reg.MustRegister(JournalLag(behind.Load))
	if got, want := lags(t, reg), map[string]float64{"0": 42}; !sameLags(got, want) {
		t.Errorf("journal lag: %v, want %v", got, want)
	}
	// Read at scrape time, not when registered.
	behind.Store(7)
	if got, want := lags(t, reg), map[string]float64{"0": 7}; !sameLags(got, want) {
		t.Errorf("journal lag after it fell: %v, want %v", got, want)
	}
}

// batchSizes is the count and sum of the processor's batch-size histogram.
func batchSizes(t *testing.T, p *Processor) (uint64, float64) {
	t.Helper()
	var m dto.Metric
	if err := p.batchSize.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
}

// tracedBatch is three records of partition 0, offsets 10 to 12: the first
// and last appended by traced requests, the middle one by an untraced one.
func tracedBatch() ([]acctlog.Message, []trace.SpanContext) {
	traced := []trace.SpanContext{
		trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
			TraceFlags: trace.FlagsSampled, Remote: true,
		}),
		trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, SpanID: trace.SpanID{8, 7, 6, 5, 4, 3, 2, 1},
			TraceFlags: trace.FlagsSampled, Remote: true,
		}),
	}
	return []acctlog.Message{
		{Key: []byte("s1"), Offset: 10, Trace: traced[0]},
		{Key: []byte("s2"), Offset: 11},
		{Key: []byte("s3"), Offset: 12, Trace: traced[1]},
	}, traced
}

func TestBatchSpan(t *testing.T) {
	for _, tt := range []struct {
		name       string
		err        error
		wantStatus sdktrace.Status
	}{
		{"failed batch", errors.New("redis: connection refused"), sdktrace.Status{Code: codes.Error, Description: "redis: connection refused"}},
		{"applied batch", nil, sdktrace.Status{Code: codes.Unset}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			t.Cleanup(func() { tp.Shutdown(context.Background()) })
			f.p.SetTracer(tp.Tracer("t"), "journal")
			batch, traced := tracedBatch()

			ctx, end := f.p.batchSpan(context.Background(), batch)
			// The batch's Redis calls are made under ctx, to be its children.
			inner := trace.SpanFromContext(ctx)
			if !inner.IsRecording() {
				t.Fatal("the batch's context carries no recording span")
			}
			if n := len(rec.Ended()); n != 0 {
				t.Fatalf("%d spans ended before end was called", n)
			}
			end(tt.err)

			spans := rec.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans ended, want 1", len(spans))
			}
			s := spans[0]
			if s.Name() != "cdr batch" || s.SpanKind() != trace.SpanKindConsumer {
				t.Errorf("span %q of kind %v, want \"cdr batch\" of kind consumer", s.Name(), s.SpanKind())
			}
			if s.SpanContext().SpanID() != inner.SpanContext().SpanID() {
				t.Error("the ended span is not the one ctx carried")
			}
			// A batch has many parents: they are links, and the span is a
			// root of its own.
			if s.Parent().IsValid() {
				t.Errorf("span has parent %v, want none", s.Parent())
			}
			links := s.Links()
			if len(links) != len(traced) {
				t.Fatalf("%d links, want %d (the traced records only)", len(links), len(traced))
			}
			for i, l := range links {
				if l.SpanContext.TraceID() != traced[i].TraceID() || l.SpanContext.SpanID() != traced[i].SpanID() {
					t.Errorf("link %d = %v/%v, want %v/%v", i, l.SpanContext.TraceID(), l.SpanContext.SpanID(), traced[i].TraceID(), traced[i].SpanID())
				}
			}
			attrs := map[attribute.Key]attribute.Value{}
			for _, kv := range s.Attributes() {
				attrs[kv.Key] = kv.Value
			}
			for k, want := range map[attribute.Key]attribute.Value{
				"messaging.system":                   attribute.StringValue("journal"),
				"messaging.operation.type":           attribute.StringValue("process"),
				"messaging.batch.message_count":      attribute.IntValue(3),
				"messaging.destination.partition.id": attribute.IntValue(0),
				"kradius.first_offset":               attribute.Int64Value(10),
				"kradius.last_offset":                attribute.Int64Value(12),
			} {
				if got, ok := attrs[k]; !ok || got != want {
					t.Errorf("attribute %s = %v, want %v", k, got.String(), want.String())
				}
			}
			if s.Status() != tt.wantStatus {
				t.Errorf("status = %+v, want %+v", s.Status(), tt.wantStatus)
			}
			if n, sum := batchSizes(t, f.p); n != 1 || sum != 3 {
				t.Errorf("batch sizes: %d observations summing %v, want 1 of 3", n, sum)
			}
		})
	}
}

func TestBatchSpanWithoutTracer(t *testing.T) {
	f := newFixture(t)
	batch, _ := tracedBatch()
	parent := context.Background()
	ctx, end := f.p.batchSpan(parent, batch)
	if ctx != parent {
		t.Error("without a tracer, batchSpan changed the context")
	}
	if trace.SpanContextFromContext(ctx).IsValid() {
		t.Error("without a tracer, the context carries a span")
	}
	end(errors.New("ignored"))
	end(nil)
	// The batch size is a metric, not a span attribute: it is kept with
	// tracing off.
	if n, sum := batchSizes(t, f.p); n != 1 || sum != 3 {
		t.Errorf("batch sizes: %d observations summing %v, want 1 of 3", n, sum)
	}
}
