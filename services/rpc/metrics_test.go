package rpc_test

import (
	"context"
	"net"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"kradius.dev/services/eventually"
	"kradius.dev/services/rpc"
)

const (
	checkMethod = "/grpc.health.v1.Health/Check"
	watchMethod = "/grpc.health.v1.Health/Watch"
)

// measured is a real server and a client connection to it, each side with
// its Metrics on a registry of its own.
type measured struct {
	health               healthpb.HealthClient
	clientReg, serverReg *prometheus.Registry
}

// newMeasured serves the standard health service from rpc.NewServer, as the
// targets do. rpctest.Serve takes no server options, so the server is built
// here to put the server-side interceptors on it.
func newMeasured(t *testing.T) measured {
	t.Helper()
	m := measured{clientReg: prometheus.NewRegistry(), serverReg: prometheus.NewRegistry()}
	clientSide := rpc.NewMetrics("client", m.clientReg)
	serverSide := rpc.NewMetrics("server", m.serverReg)
	srv, _, err := rpc.NewServer(rpc.TLSConfig{},
		grpc.ChainUnaryInterceptor(serverSide.UnaryServer()),
		grpc.ChainStreamInterceptor(serverSide.StreamServer()))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := rpc.Dial(lis.Addr().String(), rpc.TLSConfig{}, grpc.WithChainUnaryInterceptor(clientSide.UnaryClient()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	m.health = healthpb.NewHealthClient(conn)
	return m
}

// check calls Check for service and wants code back.
func (m measured) check(t *testing.T, ctx context.Context, service string, want codes.Code) {
	t.Helper()
	_, err := m.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if got := status.Code(err); got != want {
		t.Fatalf("Check(%q) = %v, want %v", service, err, want)
	}
}

// family gathers reg and returns the metrics of the family name, keyed by
// their labels as "k=v,k=v" in label order.
func family(t *testing.T, reg prometheus.Gatherer, name string) map[string]*dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.Metric{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			out[strings.Join(labels, ",")] = m
		}
	}
	return out
}

// wantCodes checks the requests counter of method: every status code has
// a series (a rate of failures reads 0 before the first failure), those of
// want at their count, all others at 0.
func wantCodes(t *testing.T, reg prometheus.Gatherer, side, method string, want map[codes.Code]float64) {
	t.Helper()
	name := "kradius_grpc_" + side + "_requests_total"
	got := family(t, reg, name)
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		key := "code=" + c.String() + ",method=" + method
		m, ok := got[key]
		if !ok {
			t.Errorf("%s{%s} is missing", name, key)
			continue
		}
		if v := m.GetCounter().GetValue(); v != want[c] {
			t.Errorf("%s{%s} = %v, want %v", name, key, v, want[c])
		}
		delete(got, key)
	}
	for key := range got {
		if strings.HasSuffix(key, "method="+method) {
			t.Errorf("%s{%s}: a series for no status code", name, key)
		}
	}
}

// histogram is the duration histogram of method on one side.
func histogram(t *testing.T, reg prometheus.Gatherer, side, method string) *dto.Histogram {
	t.Helper()
	name := "kradius_grpc_" + side + "_duration_seconds"
	m, ok := family(t, reg, name)["method="+method]
	if !ok {
		t.Fatalf("%s{method=%q} is missing", name, method)
	}
	return m.GetHistogram()
}

func exemplars(h *dto.Histogram) []*dto.Exemplar {
	var out []*dto.Exemplar
	for _, b := range h.GetBucket() {
		if e := b.GetExemplar(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func TestMetricsUnaryCodes(t *testing.T) {
	m := newMeasured(t)
	ctx := context.Background()
	m.check(t, ctx, "", codes.OK)
	m.check(t, ctx, "no.such.Service", codes.NotFound)

	for _, side := range []struct {
		name string
		reg  prometheus.Gatherer
	}{{"client", m.clientReg}, {"server", m.serverReg}} {
		t.Run(side.name, func(t *testing.T) {
			wantCodes(t, side.reg, side.name, checkMethod, map[codes.Code]float64{codes.OK: 1, codes.NotFound: 1})
			h := histogram(t, side.reg, side.name, checkMethod)
			if n := h.GetSampleCount(); n != 2 {
				t.Errorf("%s duration count = %d, want 2", side.name, n)
			}
			if h.GetSampleSum() <= 0 {
				t.Errorf("%s duration sum = %v, want > 0", side.name, h.GetSampleSum())
			}
			// No call was traced, so no latency may point at a trace.
			if e := exemplars(h); len(e) != 0 {
				t.Errorf("%s duration has exemplars without a sampled span: %v", side.name, e)
			}
		})
	}
}

func TestMetricsExemplar(t *testing.T) {
	m := newMeasured(t)
	sampled := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	// An unsampled trace has no spans to open, so it must give no exemplar.
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10},
		SpanID:  trace.SpanID{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
	})
	m.check(t, trace.ContextWithSpanContext(context.Background(), unsampled), "", codes.OK)
	if e := exemplars(histogram(t, m.clientReg, "client", checkMethod)); len(e) != 0 {
		t.Fatalf("an unsampled call left exemplars: %v", e)
	}

	m.check(t, trace.ContextWithSpanContext(context.Background(), sampled), "", codes.OK)
	h := histogram(t, m.clientReg, "client", checkMethod)
	if n := h.GetSampleCount(); n != 2 {
		t.Errorf("client duration count = %d, want 2", n)
	}
	e := exemplars(h)
	if len(e) != 1 {
		t.Fatalf("client duration has %d exemplars, want 1: %v", len(e), e)
	}
	labels := map[string]string{}
	for _, l := range e[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if want := sampled.TraceID().String(); len(labels) != 1 || labels["trace_id"] != want {
		t.Errorf("exemplar labels = %v, want only trace_id=%s", labels, want)
	}
	if e[0].GetValue() <= 0 {
		t.Errorf("exemplar value = %v, want the call's latency", e[0].GetValue())
	}
}

func TestMetricsStreamServer(t *testing.T) {
	m := newMeasured(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := m.health.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// The first status proves the server is inside the stream's handler
	// before the client ends it.
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The server learns of the cancellation on its own goroutine.
	name := "kradius_grpc_server_requests_total"
	key := "code=Canceled,method=" + watchMethod
	eventually.True(t, "the ended stream is counted", func() bool {
		return family(t, m.serverReg, name)[key].GetCounter().GetValue() == 1
	})
	wantCodes(t, m.serverReg, "server", watchMethod, map[codes.Code]float64{codes.Canceled: 1})
}
