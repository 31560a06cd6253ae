package rpc

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// NewServer builds a gRPC server with TLS when configured, the standard
// health service (reporting SERVING), and reflection for grpcurl; extra
// are the caller's (instrumentation).
func NewServer(tlsCfg TLSConfig, extra ...grpc.ServerOption) (*grpc.Server, *health.Server, error) {
	opts := extra
	if tlsCfg.Enabled() {
		c, err := tlsCfg.ServerTLS()
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(c)))
	}
	opts = append(opts, grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}))
	// Run RPCs on long-lived workers: on a fresh goroutine each, the stack
	// grew anew inside go-redis every time, a large share of the accounts
	// service's CPU in runtime.newstack/copystack (pprof:
	// docs/performance.md, "gRPC stream workers"). A handler mostly waits
	// on Redis, so one per CPU would leave most RPCs finding every worker
	// busy and falling back to a fresh goroutine; idle workers cost only
	// their stacks.
	opts = append(opts, grpc.NumStreamWorkers(uint32(4*runtime.GOMAXPROCS(0))))
	srv := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	return srv, hs, nil
}

// Dial opens a client connection. It does not wait for the server: the edge
// must start, and answer nothing, while a backend is still coming up.
// Keepalives notice a dead server between requests, so that a request is
// not the first to find out.
func Dial(addr string, tlsCfg TLSConfig, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if tlsCfg.Enabled() {
		c, err := tlsCfg.ClientTLS()
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(c)
	}
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 2 * time.Second, PermitWithoutStream: true}),
	}, opts...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("gRPC client for %s: %w", addr, err)
	}
	return conn, nil
}

// RetryOnce is the edge's policy for its idempotent reads: each call gets
// at most timeout (or the method's entry in slower), and a call that fails
// fast with UNAVAILABLE (a pod that just went away, a connection reset) is
// tried once more with what is left. Slowness is not retried: the time is
// gone, and a NAS prefers silence, then its own retransmit, to a late answer.
func RetryOnce(timeout time.Duration, slower map[string]time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		budget := timeout
		if d, ok := slower[method]; ok {
			budget = d
		}
		ctx, cancel := context.WithTimeout(ctx, budget)
		defer cancel()
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil || ctx.Err() != nil || status.Code(err) != codes.Unavailable {
			return err
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
