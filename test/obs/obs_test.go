package obs_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"kradius.dev/services/eventually"
	"kradius.dev/test/obs"
)

// TestPrometheusScrapesExemplars has Prometheus scrape a target that
// exports a counter and a histogram with exemplars over OpenMetrics, and
// finds the values and the exemplars' trace IDs through the HTTP API.
func TestPrometheusScrapesExemplars(t *testing.T) {
	t.Parallel()
	dir := obs.Assets(t)

	const counterTrace, histogramTrace = "0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: "obs_test_requests_total", Help: "Requests."})
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "obs_test_latency_seconds", Help: "Latency.", Buckets: []float64{0.1, 1}})
	reg.MustRegister(requests, latency)
	requests.(prometheus.ExemplarAdder).AddWithExemplar(3, prometheus.Labels{"trace_id": counterTrace})
	latency.(prometheus.ExemplarObserver).ObserveWithExemplar(0.5, prometheus.Labels{"trace_id": histogramTrace})
	// Exemplars only travel in OpenMetrics.
	target := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	t.Cleanup(target.Close)

	start := time.Now().Add(-time.Minute)
	prom := obs.StartPrometheus(t, dir, map[string][]string{"obs_test": {target.Listener.Addr().String()}})
	prom.WaitForTargetsUp(t, time.Minute)

	r := prom.WaitForQuery(t, time.Minute, `obs_test_requests_total{job="obs_test"}`, nil)
	if r.Type != "vector" || len(r.Series) != 1 || len(r.Series[0].Samples) != 1 || r.Series[0].Samples[0].Value != 3 {
		t.Fatalf("obs_test_requests_total: got %+v, want one vector sample of 3", r)
	}
	if got := r.Series[0].Labels["instance"]; got != target.Listener.Addr().String() {
		t.Errorf("instance label %q, want %q", got, target.Listener.Addr().String())
	}
	r = prom.WaitForQuery(t, time.Minute, `sum(obs_test_latency_seconds_count)`, nil)
	if r.Series[0].Samples[0].Value != 1 {
		t.Errorf("sum(obs_test_latency_seconds_count): got %+v, want 1", r)
	}

	for expr, want := range map[string]string{
		"obs_test_requests_total":         counterTrace,
		"obs_test_latency_seconds_bucket": histogramTrace,
	} {
		eventually.NoError(t, "exemplar of "+expr, func() error {
			ids, err := prom.Exemplars(context.Background(), expr, start, time.Now().Add(time.Minute))
			if err != nil {
				return err
			}
			if !slices.Contains(ids, want) {
				return fmt.Errorf("trace IDs %q, want %s among them", ids, want)
			}
			return nil
		})
	}

	series, err := prom.Series(context.Background(), `{job="obs_test", __name__=~"obs_test_.*"}`)
	if err != nil {
		t.Fatal(err)
	}
	// The counter, and the histogram's 3 buckets, _sum and _count.
	if len(series) != 6 {
		t.Errorf("got %d series, want 6: %v", len(series), series)
	}
}

// TestJaegerStoresTracesAndLinks sends a parent and a child span, and a
// span of another trace linked to the parent, to Jaeger over OTLP gRPC, and
// finds them through the query API: the child's parent as a CHILD_OF
// reference, the link as a FOLLOWS_FROM one.
func TestJaegerStoresTracesAndLinks(t *testing.T) {
	t.Parallel()
	dir := obs.Assets(t)
	j := obs.StartJaeger(t, dir)

	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(j.OTLPGRPC), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	const service = "obs-test"
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service), attribute.String("host.name", "obs-host"))),
	)
	tracer := tp.Tracer("kradius.dev/test/obs")

	pctx, parent := tracer.Start(ctx, "parent", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tracer.Start(pctx, "child", trace.WithAttributes(attribute.String("radius.code", "Access-Accept"), attribute.Int("radius.attrs", 42)))
	child.AddEvent("decoded")
	child.End()
	parent.End()
	_, linked := tracer.Start(ctx, "linked", trace.WithLinks(trace.Link{SpanContext: parent.SpanContext()}))
	linked.End()
	// Shutdown flushes the batch, so that all three are sent when it returns.
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	traces := j.WaitForTraces(t, time.Minute, service, 10, func(trs []obs.Trace) bool {
		n := 0
		for _, tr := range trs {
			n += len(tr.Spans)
		}
		return n == 3
	})
	if len(traces) != 2 {
		t.Fatalf("got %d traces, want 2", len(traces))
	}

	parentID, parentTrace := parent.SpanContext().SpanID().String(), parent.SpanContext().TraceID().String()
	first, err := j.Trace(ctx, parentTrace)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := first.Span("parent")
	if !ok || p.SpanID != parentID || p.TraceID != parentTrace || p.ParentSpanID() != "" {
		t.Fatalf("trace %s: parent span %+v (found: %v), want ID %s and no parent", parentTrace, p, ok, parentID)
	}
	if p.ServiceName != service || p.ProcessTags["host.name"] != "obs-host" || p.Tags["span.kind"] != "server" {
		t.Errorf("parent span: service %q, process tags %v, tags %v", p.ServiceName, p.ProcessTags, p.Tags)
	}
	c, ok := first.Span("child")
	if !ok || c.ParentSpanID() != parentID {
		t.Fatalf("trace %s: child span %+v (found: %v), want a CHILD_OF %s", parentTrace, c, ok, parentID)
	}
	if c.Tags["radius.code"] != "Access-Accept" || c.Tags["radius.attrs"] != "42" {
		t.Errorf("child tags %v, want radius.code Access-Accept and radius.attrs 42", c.Tags)
	}
	if len(c.Logs) != 1 || c.Logs[0].Fields["event"] != "decoded" {
		t.Errorf("child logs %+v, want the event decoded", c.Logs)
	}

	var l obs.Span
	for _, tr := range traces {
		if s, ok := tr.Span("linked"); ok {
			l = s
		}
	}
	want := obs.Reference{RefType: "FOLLOWS_FROM", TraceID: parentTrace, SpanID: parentID}
	if l.TraceID == parentTrace || !slices.Equal(l.Links(), []obs.Reference{want}) || l.ParentSpanID() != "" {
		t.Fatalf("linked span %+v: want a root of another trace with the one reference %+v", l, want)
	}

	services, err := j.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(services, service) {
		t.Errorf("services %q, want %s among them", services, service)
	}
}
