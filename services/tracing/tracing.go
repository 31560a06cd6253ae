// Package tracing sets up OpenTelemetry tracing for one kradius process: the
// OTLP exporter, the sampler and the resource that names the process. Off,
// it installs nothing, and the instrumented code paths skip their spans.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Protocols of Config.Protocol.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http"
)

// Config is the tracing section of the configuration file.
type Config struct {
	// Enabled turns tracing on; everything else has a default.
	Enabled bool `yaml:"enabled"`
	// Endpoint is the collector's OTLP URL: http:// sends in the clear,
	// https:// over TLS. Default: http://127.0.0.1:4317 for grpc,
	// http://127.0.0.1:4318 for http (the collector's defaults). For http
	// a URL without a path gets OTLP's /v1/traces.
	Endpoint string `yaml:"endpoint"`
	// Protocol is grpc (OTLP/gRPC) or http (OTLP/HTTP, protobuf).
	Protocol string `yaml:"protocol"`
	// SamplingRatio is the share of new traces kept, from 0 to 1. A span
	// whose parent was sampled is always kept, so a trace is whole or absent.
	SamplingRatio float64 `yaml:"sampling_ratio"`
}

// DefaultSamplingRatio keeps one request in a hundred: enough to find a
// slow one, cheap at carrier rates.
const DefaultSamplingRatio = 0.01

// WithDefaults fills the unset fields.
func (c Config) WithDefaults() Config {
	if c.Protocol == "" {
		c.Protocol = ProtocolGRPC
	}
	if c.Endpoint == "" {
		c.Endpoint = "http://127.0.0.1:4317"
		if c.Protocol == ProtocolHTTP {
			c.Endpoint = "http://127.0.0.1:4318"
		}
	}
	return c
}

// Validate names the key at fault.
func (c Config) Validate() error {
	if c.Protocol != ProtocolGRPC && c.Protocol != ProtocolHTTP {
		return fmt.Errorf("tracing.protocol: %q is not grpc or http", c.Protocol)
	}
	if !(c.SamplingRatio >= 0 && c.SamplingRatio <= 1) { // NaN too
		return fmt.Errorf("tracing.sampling_ratio: %v is not between 0 and 1", c.SamplingRatio)
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("tracing.endpoint: %q is not an http:// or https:// URL with a host", c.Endpoint)
	}
	return nil
}

// Provider is the process's tracing. The zero of Enabled means a no-op
// tracer: code asks Enabled before building a span's attributes.
type Provider struct {
	sdk   *sdktrace.TracerProvider
	tp    trace.TracerProvider
	ratio float64
}

// Disabled is a Provider that traces nothing.
func Disabled() *Provider { return &Provider{tp: noop.NewTracerProvider()} }

// Enabled says whether spans are recorded and exported.
func (p *Provider) Enabled() bool { return p.sdk != nil }

// Tracer returns the named tracer (the instrumented package's import path).
func (p *Provider) Tracer(name string) trace.Tracer { return p.tp.Tracer(name) }

// TracerProvider is for instrumentation libraries (otelgrpc, redisotel)
// that take one.
func (p *Provider) TracerProvider() trace.TracerProvider { return p.tp }

// Shutdown exports what is buffered, within ctx.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.sdk == nil {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// Propagator carries the trace context between processes: W3C trace
// context, the one every collector and Kafka tool understands.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Start builds the provider of one process, named service (e.g.
// kradius-edge), with version its build's. Disabled, it returns Disabled()
// and installs nothing. Enabled, it also becomes the global provider and
// propagator, which the gRPC and Redis instrumentation use.
func Start(ctx context.Context, cfg Config, service, version string, log *slog.Logger) (*Provider, error) {
	if !cfg.Enabled {
		return Disabled(), nil
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	exp, err := exporter(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(Resource(service, version)),
		sdktrace.WithSampler(Sampler(cfg.SamplingRatio)),
	)
	otel.SetTracerProvider(sdk)
	otel.SetTextMapPropagator(Propagator)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing export", "err", err)
	}))
	log.Info("tracing on", "endpoint", cfg.Endpoint, "protocol", cfg.Protocol, "sampling_ratio", cfg.SamplingRatio, "service", service)
	return &Provider{sdk: sdk, tp: sdk, ratio: cfg.SamplingRatio}, nil
}

// SamplingRatio is the share of new traces kept; 0 with tracing off.
func (p *Provider) SamplingRatio() float64 { return p.ratio }

type sampledKey struct{}

// Sampled marks ctx for a root span that its caller has already decided
// to keep: the edge draws its own lot for each request, cheaply, and
// starts a span only for the requests it keeps (the rest get a context
// that says "not sampled", with no span behind it).
func Sampled(ctx context.Context) context.Context { return context.WithValue(ctx, sampledKey{}, true) }

// Sampler is kradius's: a span whose parent was sampled is, a root marked
// Sampled is, and any other root with probability ratio.
func Sampler(ratio float64) sdktrace.Sampler {
	return sampler{sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))}
}

// sampler honours Sampled, and otherwise the configured sampler.
type sampler struct{ sdktrace.Sampler }

func (s sampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if p.ParentContext != nil && p.ParentContext.Value(sampledKey{}) != nil {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample, Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
	}
	return s.Sampler.ShouldSample(p)
}

func exporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	insecure := u.Scheme == "http"
	switch cfg.Protocol {
	case ProtocolHTTP:
		// The endpoint is the collector's base URL, as
		// OTEL_EXPORTER_OTLP_ENDPOINT is: the signal's path goes on it,
		// unless the URL names a path of its own.
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces"
		}
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(u.String())}
		if insecure {
			opts = append(opts, otlptracehttp.WithInsecure())
		}
		return otlptracehttp.New(ctx, opts...)
	case ProtocolGRPC:
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(cfg.Endpoint)}
		if insecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	return nil, errors.New("unknown protocol " + cfg.Protocol)
}

// Pod identity comes from the downward API as these variables (the chart
// and the operator set them); outside Kubernetes they are absent.
var podEnv = map[string]attribute.Key{
	"POD_NAME":      "k8s.pod.name",
	"POD_NAMESPACE": "k8s.namespace.name",
	"NODE_NAME":     "k8s.node.name",
}

// Resource names the process in every span it exports.
func Resource(service, version string) *resource.Resource {
	attrs := []attribute.KeyValue{
		attribute.String("service.name", service),
		attribute.String("service.version", version),
	}
	instance, _ := os.Hostname()
	for env, key := range podEnv {
		if v := os.Getenv(env); v != "" {
			attrs = append(attrs, key.String(v))
			if env == "POD_NAME" {
				instance = v
			}
		}
	}
	if instance != "" {
		attrs = append(attrs, attribute.String("service.instance.id", instance))
	}
	// Not merged with resource.Default(): its schema URL changes between
	// SDK releases, and its attributes (the SDK's name and version) tell an
	// operator nothing about the request.
	return resource.NewSchemaless(attrs...)
}
