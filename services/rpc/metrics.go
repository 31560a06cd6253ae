package rpc

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Metrics count a process's gRPC calls for Prometheus, one side (client or
// server): kradius_grpc_<side>_requests_total{method,code} and
// kradius_grpc_<side>_duration_seconds{method}. Sampled calls carry their
// trace as the latency's exemplar.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// series holds each method's series once used (method →
	// *methodSeries): the vectors' lookups hash their labels on every call.
	series sync.Map
}

// methodSeries are one method's series: its latency, and a counter for
// every status code, made at its first call so that a failure rate reads
// zero rather than nothing until a call fails.
type methodSeries struct {
	duration prometheus.Observer
	codes    [numCodes]prometheus.Counter
}

// numCodes is one past the last gRPC status code, Unauthenticated (16).
const numCodes = int(codes.Unauthenticated) + 1

func (m *Metrics) seriesOf(method string) *methodSeries {
	if s, ok := m.series.Load(method); ok {
		return s.(*methodSeries)
	}
	s := &methodSeries{duration: m.duration.WithLabelValues(method)}
	for c := range numCodes {
		s.codes[c] = m.requests.WithLabelValues(method, codes.Code(c).String())
	}
	actual, _ := m.series.LoadOrStore(method, s)
	return actual.(*methodSeries)
}

func (s *methodSeries) count(err error) {
	if c := int(status.Code(err)); c < numCodes {
		s.codes[c].Inc()
	}
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
	s := m.seriesOf(method)
	s.count(err)
	seconds := time.Since(start).Seconds()
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		if eo, ok := s.duration.(prometheus.ExemplarObserver); ok {
			eo.ObserveWithExemplar(seconds, prometheus.Labels{"trace_id": sc.TraceID().String()})
			return
		}
	}
	s.duration.Observe(seconds)
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
		m.seriesOf(info.FullMethod).count(err)
		return err
	}
}
