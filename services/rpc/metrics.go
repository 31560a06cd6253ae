package rpc

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Metrics count a process's gRPC calls for Prometheus, one side (client or
// server): kradius_grpc_<side>_requests_total{method,code} and
// kradius_grpc_<side>_duration_seconds{method}. Sampled calls carry their
// trace as the latency's exemplar.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// series holds each method's histogram once used (method → Observer):
	// the vector's lookup hashes its label on every call.
	series sync.Map
}

// NewMetrics registers side's ("client" or "server") metrics with reg.
func NewMetrics(side string, reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_grpc_" + side + "_requests_total",
			Help: "gRPC calls (unary, and streams once ended) of the " + side + " side, by full method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kradius_grpc_" + side + "_duration_seconds",
			Help:    "gRPC unary call latency of the " + side + " side, by full method; sampled calls carry their trace_id as the exemplar.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *Metrics) observe(ctx context.Context, method string, start time.Time, err error) {
	m.requests.WithLabelValues(method, status.Code(err).String()).Inc()
	o, ok := m.series.Load(method)
	if !ok {
		o, _ = m.series.LoadOrStore(method, m.duration.WithLabelValues(method))
	}
	seconds := time.Since(start).Seconds()
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		if eo, ok := o.(prometheus.ExemplarObserver); ok {
			eo.ObserveWithExemplar(seconds, prometheus.Labels{"trace_id": sc.TraceID().String()})
			return
		}
	}
	o.(prometheus.Observer).Observe(seconds)
}

// UnaryClient measures the calls of a client connection.
func (m *Metrics) UnaryClient() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		m.observe(ctx, method, start, err)
		return err
	}
}

// UnaryServer measures the calls a server answers.
func (m *Metrics) UnaryServer() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.observe(ctx, info.FullMethod, start, err)
		return resp, err
	}
}

// StreamServer counts the streams a server ends (watches, scans), by code;
// their length is no latency.
func (m *Metrics) StreamServer() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		m.requests.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
		return err
	}
}
