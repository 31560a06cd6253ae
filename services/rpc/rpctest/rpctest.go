// Package rpctest runs gRPC services in tests as the targets run them, and
// counts what a client sends.
package rpctest

import (
	"context"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"kradius.dev/services/rpc"
)

// Serve runs a server from rpc.NewServer on 127.0.0.1, with the services
// register adds, until the test ends, and returns its address.
func Serve(t testing.TB, register func(*grpc.Server)) string {
	t.Helper()
	srv, _, err := rpc.NewServer(rpc.TLSConfig{})
	if err != nil {
		t.Fatal(err)
	}
	register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// Calls counts the calls a client makes, per method, and the items of its
// largest batch request (a request with a repeated field named items).
// Intercept is its unary client interceptor.
type Calls struct {
	mu       sync.Mutex
	calls    map[string]int
	maxItems int
}

// Intercept counts the call, then makes it.
func (c *Calls) Intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[method]++
	if m, ok := req.(proto.Message); ok {
		r := m.ProtoReflect()
		if f := r.Descriptor().Fields().ByName("items"); f != nil && f.IsList() {
			c.maxItems = max(c.maxItems, r.Get(f).List().Len())
		}
	}
	c.mu.Unlock()
	return invoker(ctx, method, req, reply, cc, opts...)
}

// Count is how many calls of method were made.
func (c *Calls) Count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[method]
}

// MaxItems is the item count of the largest batch request.
func (c *Calls) MaxItems() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxItems
}
