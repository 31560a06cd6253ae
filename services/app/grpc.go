package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"

	"kradius.dev/services/rpc"
)

// serveGRPC serves the services register adds on addr until ctx ends, then
// stops gracefully: in-flight calls finish, within a bound.
func serveGRPC(ctx context.Context, b *base, addr string, tlsCfg rpc.TLSConfig, log *slog.Logger, what string, register func(*grpc.Server)) error {
	srv, health, err := rpc.NewServer(tlsCfg, b.grpcServerOptions()...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	register(srv)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s listener: %w", what, err)
	}
	log.Info(what+" listening", "addr", ln.Addr().String(), "tls", tlsCfg.Enabled())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("%s: %w", what, err)
	case <-ctx.Done():
	}
	health.Shutdown() // tell load balancers first
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		srv.Stop()
	}
	return nil
}
