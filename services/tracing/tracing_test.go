package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"kradius.dev/services/tracing"
)

func TestWithDefaults(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   tracing.Config
		want tracing.Config
	}{
		{"empty is grpc on the collector's grpc port", tracing.Config{},
			tracing.Config{Protocol: "grpc", Endpoint: "http://127.0.0.1:4317"}},
		{"http gets the collector's http port", tracing.Config{Protocol: "http"},
			tracing.Config{Protocol: "http", Endpoint: "http://127.0.0.1:4318"}},
		{"an endpoint is kept", tracing.Config{Endpoint: "https://collector:4317"},
			tracing.Config{Protocol: "grpc", Endpoint: "https://collector:4317"}},
		{"an http endpoint is kept", tracing.Config{Protocol: "http", Endpoint: "http://collector:9999"},
			tracing.Config{Protocol: "http", Endpoint: "http://collector:9999"}},
		{"other fields pass through", tracing.Config{Enabled: true, SamplingRatio: 0.5},
			tracing.Config{Enabled: true, SamplingRatio: 0.5, Protocol: "grpc", Endpoint: "http://127.0.0.1:4317"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.WithDefaults(); got != tt.want {
				t.Errorf("WithDefaults() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := tracing.Config{Protocol: "grpc", Endpoint: "http://127.0.0.1:4317", SamplingRatio: 0.01}
	for _, tt := range []struct {
		name string
		edit func(*tracing.Config)
		// key is the configuration key the error must name; empty, no error.
		key string
	}{
		{"valid grpc", func(*tracing.Config) {}, ""},
		{"valid http over https", func(c *tracing.Config) { c.Protocol, c.Endpoint = "http", "https://collector/v1/traces" }, ""},
		{"ratio 0", func(c *tracing.Config) { c.SamplingRatio = 0 }, ""},
		{"ratio 1", func(c *tracing.Config) { c.SamplingRatio = 1 }, ""},
		{"unknown protocol", func(c *tracing.Config) { c.Protocol = "udp" }, "tracing.protocol"},
		{"empty protocol", func(c *tracing.Config) { c.Protocol = "" }, "tracing.protocol"},
		{"ratio below 0", func(c *tracing.Config) { c.SamplingRatio = -0.1 }, "tracing.sampling_ratio"},
		{"ratio above 1", func(c *tracing.Config) { c.SamplingRatio = 1.5 }, "tracing.sampling_ratio"},
		{"ratio not a number", func(c *tracing.Config) { c.SamplingRatio = math.NaN() }, "tracing.sampling_ratio"},
		{"no scheme", func(c *tracing.Config) { c.Endpoint = "127.0.0.1:4317" }, "tracing.endpoint"},
		{"not http", func(c *tracing.Config) { c.Endpoint = "grpc://127.0.0.1:4317" }, "tracing.endpoint"},
		{"no host", func(c *tracing.Config) { c.Endpoint = "http:///v1/traces" }, "tracing.endpoint"},
		{"unparsable", func(c *tracing.Config) { c.Endpoint = "http://[::1" }, "tracing.endpoint"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.key == "" && err != nil:
				t.Errorf("Validate(%+v) = %v, want nil", c, err)
			case tt.key != "" && err == nil:
				t.Errorf("Validate(%+v) = nil, want an error naming %s", c, tt.key)
			case tt.key != "" && !strings.HasPrefix(err.Error(), tt.key+":"):
				t.Errorf("Validate(%+v) = %q, want it to name %s", c, err, tt.key)
			}
		})
	}
}

// resetGlobal makes the global tracer provider a no-op one now and when the
// test ends, so that no test sees a provider another installed.
func resetGlobal(t *testing.T) {
	otel.SetTracerProvider(noop.NewTracerProvider())
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestStartDisabled(t *testing.T) {
	resetGlobal(t)
	// An endpoint that would fail validation shows that nothing is checked,
	// let alone dialled, while tracing is off.
	p, err := tracing.Start(context.Background(), tracing.Config{Endpoint: "nonsense"}, "kradius-test", "v0", quiet())
	if err != nil {
		t.Fatal(err)
	}
	if p.Enabled() {
		t.Error("Enabled() = true for a disabled config")
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		t.Error("a disabled Start installed an SDK tracer provider globally")
	}
	_, span := p.Tracer("t").Start(context.Background(), "s")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("a disabled provider's span records")
	}
	span.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestStartInvalid(t *testing.T) {
	resetGlobal(t)
	_, err := tracing.Start(context.Background(), tracing.Config{Enabled: true, Protocol: "udp"}, "kradius-test", "v0", quiet())
	if err == nil || !strings.Contains(err.Error(), "tracing.protocol") {
		t.Errorf("Start with a bad protocol = %v, want an error naming tracing.protocol", err)
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		t.Error("a failed Start installed an SDK tracer provider globally")
	}
}

// otlpReceiver is an OTLP/HTTP collector that only records what it is sent.
type otlpReceiver struct {
	mu       sync.Mutex
	requests []otlpRequest
}

type otlpRequest struct {
	method, path, contentType string
	bytes                     int
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.requests = append(r.requests, otlpRequest{req.Method, req.URL.Path, req.Header.Get("Content-Type"), len(body)})
	r.mu.Unlock()
	// An empty 200 is a full success to the exporter.
	w.WriteHeader(http.StatusOK)
}

func (r *otlpReceiver) seen() []otlpRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]otlpRequest(nil), r.requests...)
}

// TestStartHTTPExportPath is the regression test for an exporter given the
// collector's base URL, which posted to it as is: a collector answers 404
// anywhere but /v1/traces, and every span was lost.
func TestStartHTTPExportPath(t *testing.T) {
	for _, tt := range []struct {
		name, path, want string
	}{
		{"base URL gets the signal path", "", "/v1/traces"},
		{"root gets the signal path", "/", "/v1/traces"},
		{"an explicit path is kept", "/custom/v1/traces", "/custom/v1/traces"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resetGlobal(t)
			rcv := &otlpReceiver{}
			srv := httptest.NewServer(rcv)
			t.Cleanup(srv.Close)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg := tracing.Config{Enabled: true, Protocol: "http", Endpoint: srv.URL + tt.path, SamplingRatio: 1}
			p, err := tracing.Start(ctx, cfg, "kradius-test", "v0", quiet())
			if err != nil {
				t.Fatal(err)
			}
			if !p.Enabled() {
				t.Fatal("Enabled() = false for an enabled config")
			}
			if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); !ok {
				t.Errorf("global tracer provider is %T, want the SDK's", otel.GetTracerProvider())
			}
			_, span := p.Tracer("kradius.dev/services/tracing_test").Start(ctx, "test span")
			if !span.SpanContext().IsSampled() {
				t.Error("a root span at sampling ratio 1 is not sampled")
			}
			span.End()
			// Shutdown flushes the batch and waits for its export, so the
			// receiver has seen it when Shutdown returns.
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			got := rcv.seen()
			if len(got) != 1 {
				t.Fatalf("receiver saw %d requests, want 1: %+v", len(got), got)
			}
			r := got[0]
			if r.method != http.MethodPost || r.path != tt.want {
				t.Errorf("export was %s %s, want POST %s", r.method, r.path, tt.want)
			}
			if r.contentType != "application/x-protobuf" || r.bytes == 0 {
				t.Errorf("export body: %q, %d bytes; want a non-empty application/x-protobuf", r.contentType, r.bytes)
			}
		})
	}
}

func TestResource(t *testing.T) {
	t.Run("in a pod", func(t *testing.T) {
		t.Setenv("POD_NAME", "edge-7d9f-abcde")
		t.Setenv("POD_NAMESPACE", "kradius")
		t.Setenv("NODE_NAME", "node-3")
		checkResource(t, tracing.Resource("kradius-edge", "v1.2.3"), map[string]string{
			"service.name":        "kradius-edge",
			"service.version":     "v1.2.3",
			"service.instance.id": "edge-7d9f-abcde",
			"k8s.pod.name":        "edge-7d9f-abcde",
			"k8s.namespace.name":  "kradius",
			"k8s.node.name":       "node-3",
		})
	})
	t.Run("outside Kubernetes", func(t *testing.T) {
		// Empty is how the code reads absent; Setenv restores the real ones.
		t.Setenv("POD_NAME", "")
		t.Setenv("POD_NAMESPACE", "")
		t.Setenv("NODE_NAME", "")
		want := map[string]string{"service.name": "kradius-cdr", "service.version": "(devel)"}
		// A host without a name gives no instance id, rather than an
		// empty one.
		if host, _ := os.Hostname(); host != "" {
			want["service.instance.id"] = host
		}
		checkResource(t, tracing.Resource("kradius-cdr", "(devel)"), want)
	})
}

// checkResource wants exactly the attributes of want: a stray one would be
// exported on every span.
func checkResource(t *testing.T, res interface{ Set() *attribute.Set }, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, kv := range res.Set().ToSlice() {
		got[string(kv.Key)] = kv.Value.String()
	}
	if len(got) != len(want) {
		t.Errorf("resource attributes = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("resource %s = %q, want %q", k, got[k], v)
		}
	}
}

// The sampler keeps a root its caller marked Sampled, a child of a sampled
// parent, and otherwise draws by its ratio (here none).
func TestSamplerHonoursTheCallersDecision(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tracing.Sampler(0)))
	tr := tp.Tracer("test")
	_, marked := tr.Start(tracing.Sampled(context.Background()), "marked")
	_, plain := tr.Start(context.Background(), "plain")
	_, child := tr.Start(trace.ContextWithSpan(context.Background(), marked), "child")
	unsampledParent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})
	_, underUnsampled := tr.Start(trace.ContextWithSpanContext(context.Background(), unsampledParent), "under")
	for _, c := range []struct {
		name string
		span trace.Span
		want bool
	}{{"marked root", marked, true}, {"plain root", plain, false}, {"child of a sampled span", child, true}, {"child of an unsampled one", underUnsampled, false}} {
		if got := c.span.SpanContext().IsSampled(); got != c.want {
			t.Errorf("%s: sampled %v, want %v", c.name, got, c.want)
		}
	}
}
