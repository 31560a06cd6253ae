package app

import (
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"

	"kradius.dev/services/rpc"
	"kradius.dev/services/store/redismetrics"
)

// Instrumentation of the process's clients and servers: Prometheus metrics
// always; spans (otelgrpc, redisotel) only with tracing on, so that
// tracing off costs nothing.

// edgeTracer is the edge's, nil with tracing off: the edge then starts no
// span at all.
func (b *base) edgeTracer() trace.Tracer {
	if !b.tracer.Enabled() {
		return nil
	}
	return b.tracer.Tracer("kradius.dev/services/edge")
}

// consumerTracer is the cdr consumer's, nil with tracing off.
func (b *base) consumerTracer() trace.Tracer {
	if !b.tracer.Enabled() {
		return nil
	}
	return b.tracer.Tracer("kradius.dev/services/cdr")
}

// grpcServerOptions measure and trace the calls a gRPC server answers.
func (b *base) grpcServerOptions() []grpc.ServerOption {
	m := rpc.NewMetrics("server", b.reg)
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(m.UnaryServer()),
		grpc.ChainStreamInterceptor(m.StreamServer()),
	}
	if b.tracer.Enabled() {
		opts = append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(b.tracer.TracerProvider()))))
	}
	return opts
}

// grpcDialOptions measure and trace a client's calls; m is shared by the
// process's connections (one registration). The metrics see a call as its
// caller does, retries included; the spans, each attempt.
func (b *base) grpcDialOptions(m *rpc.Metrics, inner ...grpc.UnaryClientInterceptor) []grpc.DialOption {
	opts := []grpc.DialOption{grpc.WithChainUnaryInterceptor(append([]grpc.UnaryClientInterceptor{m.UnaryClient()}, inner...)...)}
	if b.tracer.Enabled() {
		opts = append(opts, grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(b.tracer.TracerProvider()))))
	}
	return opts
}

// observeRedis measures and traces a Redis client.
func (b *base) observeRedis(client redis.UniversalClient) error {
	redismetrics.Instrument(client, b.reg)
	if !b.tracer.Enabled() {
		return nil
	}
	return redisotel.InstrumentTracing(client, redisotel.WithTracerProvider(b.tracer.TracerProvider()), redisotel.WithDBStatement(false))
}
