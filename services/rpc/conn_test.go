package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"kradius.dev/services/accounts"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
	"kradius.dev/services/store/records"
)

// scriptedHealth answers Check with the next error of a script.
type scriptedHealth struct {
	healthpb.UnimplementedHealthServer
	calls  atomic.Int32
	script []error
	delay  time.Duration
}

func (h *scriptedHealth) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	n := int(h.calls.Add(1)) - 1
	if h.delay > 0 {
		select {
		case <-time.After(h.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if n < len(h.script) && h.script[n] != nil {
		return nil, h.script[n]
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// dialScripted dials h through RetryOnce(timeout); deadline, when set, is
// given the deadline of each call RetryOnce makes.
func dialScripted(t *testing.T, h *scriptedHealth, timeout time.Duration, deadline func(time.Time)) healthpb.HealthClient {
	t.Helper()
	ln := bufconn.Listen(1 << 16)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, h)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	record := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if d, ok := ctx.Deadline(); ok && deadline != nil {
			deadline(d)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	conn, err := Dial("passthrough:///bufnet", TLSConfig{},
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithChainUnaryInterceptor(RetryOnce(timeout, map[string]time.Duration{"/grpc.health.v1.Health/Watch": time.Hour}), record))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// TestRetryOnce: a call that fails fast with UNAVAILABLE is made once more,
// and nothing else is. The timeouts are the scenario's, not the machine's:
// a minute where the call must succeed, and a call that never answers
// where it must not.
func TestRetryOnce(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "pod went away")
	for _, tc := range []struct {
		name      string
		script    []error
		delay     time.Duration
		timeout   time.Duration
		wantCalls int32
		wantCode  codes.Code
	}{
		{"success", nil, 0, time.Minute, 1, codes.OK},
		{"unavailable once, then success", []error{unavailable}, 0, time.Minute, 2, codes.OK},
		{"unavailable twice: one retry only", []error{unavailable, unavailable}, 0, time.Minute, 2, codes.Unavailable},
		{"not found is an answer, not a failure", []error{status.Error(codes.NotFound, "no such account")}, 0, time.Minute, 1, codes.NotFound},
		{"overload is shed, not retried", []error{ToStatus(password.ErrOverloaded)}, 0, time.Minute, 1, codes.ResourceExhausted},
		{"slow: the deadline is not retried", nil, time.Hour, 100 * time.Millisecond, 1, codes.DeadlineExceeded},
	} {
		h := &scriptedHealth{script: tc.script, delay: tc.delay}
		client := dialScripted(t, h, tc.timeout, nil)
		_, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if got := status.Code(err); got != tc.wantCode {
			t.Errorf("%s: code %v, want %v (%v)", tc.name, got, tc.wantCode, err)
		}
		if got := h.calls.Load(); got != tc.wantCalls {
			t.Errorf("%s: %d calls, want %d", tc.name, got, tc.wantCalls)
		}
	}
}

// TestRetryOnceDeadline: the call gets the whole timeout, from when it is
// made, and the retry shares it.
func TestRetryOnceDeadline(t *testing.T) {
	const timeout = time.Hour
	var deadlines []time.Time
	h := &scriptedHealth{script: []error{status.Error(codes.Unavailable, "pod went away")}}
	client := dialScripted(t, h, timeout, func(d time.Time) { deadlines = append(deadlines, d) })
	start := time.Now()
	if _, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if len(deadlines) != 2 || deadlines[1] != deadlines[0] {
		t.Fatalf("deadlines %v, want one shared by the call and its retry", deadlines)
	}
	if d := deadlines[0]; d.Before(start.Add(timeout)) || d.After(end.Add(timeout)) {
		t.Errorf("deadline %v after the call was made, want %v", d.Sub(start), timeout)
	}
}

func TestStatusRoundTrip(t *testing.T) {
	for _, sentinel := range []error{fbdata.ErrNotFound, accounts.ErrWrongPassword, fbdata.ErrInvalid, fbdata.ErrConflict, context.DeadlineExceeded,
		records.ErrNotFound, nas.ErrWrongCredential, records.ErrInvalid, records.ErrConflict, records.ErrForbidden, password.ErrOverloaded} {
		back := FromStatus(ToStatus(sentinel))
		if !errors.Is(back, sentinel) {
			t.Errorf("%v: after the wire, %v does not match", sentinel, back)
		}
	}
	down := errors.New("redis: connection refused")
	back := FromStatus(ToStatus(down))
	for _, s := range []error{fbdata.ErrNotFound, accounts.ErrWrongPassword, records.ErrNotFound, nas.ErrWrongCredential} {
		if errors.Is(back, s) {
			t.Errorf("a backend failure came back as %v: that would be a false Reject", s)
		}
	}
	if status.Code(ToStatus(down)) != codes.Unavailable {
		t.Errorf("backend failure: %v, want UNAVAILABLE", status.Code(ToStatus(down)))
	}
}

// TestOverloadIsShedAcrossTheWire: an accounts service that sheds a
// password check says RESOURCE_EXHAUSTED, in a unary answer or a batch
// item, and the edge drops the request as password_overload: neither a
// Reject nor a backend failure.
func TestOverloadIsShedAcrossTheWire(t *testing.T) {
	shed := fmt.Errorf("authenticate %q: stored hash: %w", "user1", password.ErrOverloaded)
	if got := status.Code(ToStatus(shed)); got != codes.ResourceExhausted {
		t.Fatalf("ToStatus: %v, want RESOURCE_EXHAUSTED", got)
	}
	for name, back := range map[string]error{
		"unary":      FromStatus(ToStatus(shed)),
		"batch item": FromItemStatus(ItemStatus(shed)),
		"whole call": FromCallStatus(ToStatus(shed)),
	} {
		if !errors.Is(back, password.ErrOverloaded) {
			t.Errorf("%s: %v does not wrap password.ErrOverloaded", name, back)
		}
		for _, reject := range []error{fbdata.ErrNotFound, accounts.ErrWrongPassword, records.ErrNotFound, nas.ErrWrongCredential} {
			if errors.Is(back, reject) {
				t.Errorf("%s: %v wraps %v: a false Reject", name, back, reject)
			}
		}
		if got := nas.DropReason(back); got != nas.ReasonPasswordOverload {
			t.Errorf("%s: dropped as %q, want %q", name, got, nas.ReasonPasswordOverload)
		}
	}
}
