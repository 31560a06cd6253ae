package edge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/nas"
	"kradius.dev/services/tracing"
)

// BenchmarkVerifyAccessRequest is framing plus Message-Authenticator check.
func BenchmarkVerifyAccessRequest(b *testing.B) {
	p := radius.New(radius.CodeAccessRequest, []byte("s3cret"))
	rfc2865.UserName_SetString(p, "account")
	rfc2865.UserPassword_SetString(p, "password")
	pkt := withMessageAuthenticator(&testing.T{}, p)
	b.ReportAllocs()
	for b.Loop() {
		raw, off, err := checkFrame(pkt)
		if err != nil || verifyRequest(raw, off, p.Secret) != nil {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkEncodeReply(b *testing.B) {
	req := radius.New(radius.CodeAccessRequest, []byte("s3cret"))
	reply := req.Response(radius.CodeAccessAccept)
	rfc2865.ReplyMessage_SetString(reply, "welcome")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeReply(reply, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplyCache(b *testing.B) {
	c := newReplyCache(30*time.Second, 100000)
	src := netip.MustParseAddrPort("192.0.2.1:1812")
	reply := []byte("reply")
	now := time.Now().UnixNano()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		k := replyKey{src: src, id: byte(i), auth: [16]byte{byte(i), byte(i >> 8), byte(i >> 16)}}
		c.begin(now, k)
		c.finish(now, k, reply)
	}
}

// BenchmarkReplyCacheFull is the cache as make bench loads it: full at its
// default size, every request new (begin, then finish).
func BenchmarkReplyCacheFull(b *testing.B) {
	c := newReplyCache(30*time.Second, 100000)
	reply := []byte("reply")
	now := time.Now().UnixNano()
	keys := make([]replyKey, 1<<18)
	for i := range keys {
		keys[i] = replyKey{src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(40000+i%4)), id: byte(i), auth: [16]byte{byte(i), byte(i >> 8), byte(i >> 16), 7}}
	}
	for _, k := range keys {
		c.begin(now, k)
		c.finish(now, k, reply)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		k.auth[4]++ // a new request each time round
		keys[i%len(keys)] = k
		i++
		c.begin(now, k)
		c.finish(now, k, reply)
	}
}

// direct is a server whose handle a test calls itself, as the serve loop
// would, with replies going to an unread socket at src.
type direct struct {
	srv    *Server
	client *Client
	src    netip.AddrPort
}

func newDirect(tb testing.TB, profile nas.Handler, cfg Config) *direct {
	tb.Helper()
	client := &Client{Name: "nas1", Profile: "stub", Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Secret: []byte("s3cret"), Handler: profile, Policy: PolicyOff}
	table, err := NewClientTable([]*Client{client})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.AuthAddr, cfg.AcctAddr = "127.0.0.1:0", "127.0.0.1:0"
	srv := New(cfg, table, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.closeConns)
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sink.Close() })
	return &direct{srv: srv, client: client, src: sink.LocalAddr().(*net.UDPAddr).AddrPort()}
}

// handle decides pkt as received at at.
func (d *direct) handle(pkt []byte, at time.Time) {
	buf := d.srv.bufs.Get().(*[maxPacket]byte)
	n := copy(buf[:], pkt)
	d.srv.handle(job{l: d.srv.conns[0], buf: buf, n: n, src: d.src, at: at})
}

// loginRequest is an encoded Access-Request with Identifier id.
func (d *direct) loginRequest(tb testing.TB, id byte) []byte {
	p := radius.New(radius.CodeAccessRequest, d.client.Secret)
	p.Identifier = id
	rfc2865.UserName_SetString(p, "account")
	rfc2865.UserPassword_SetString(p, "password")
	b, err := p.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkHandle is the edge's own work for one Access-Request, from the
// datagram to the reply written on the socket: framing, authenticator,
// reply cache, parse, a profile that accepts at once, encode, sendto, and
// metrics. Every request is new to the reply cache.
func BenchmarkHandle(b *testing.B) { benchmarkHandle(b, nil, 0) }

// BenchmarkHandleTraced is BenchmarkHandle with a span per request, kept
// at 1 % and at 100 % and exported in batches (to nowhere): the edge's
// share of tracing's cost.
func BenchmarkHandleTraced(b *testing.B) {
	for _, ratio := range []float64{0.01, 1} {
		b.Run(fmt.Sprintf("sampled=%v", ratio), func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardSpans{}), sdktrace.WithSampler(tracing.Sampler(ratio)))
			b.Cleanup(func() { tp.Shutdown(context.Background()) })
			benchmarkHandle(b, tp.Tracer("bench"), ratio)
		})
	}
}

type discardSpans struct{}

func (discardSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpans) Shutdown(context.Context) error                             { return nil }

func benchmarkHandle(b *testing.B, tracer trace.Tracer, ratio float64) {
	profile := &stubProfile{kind: "login"}
	d := newDirect(b, profile, Config{ReplyTTL: time.Nanosecond, Tracer: tracer, SampleRatio: ratio})
	var pkts [256][]byte
	for i := range pkts {
		pkts[i] = d.loginRequest(b, byte(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.handle(pkts[i%len(pkts)], time.Now())
		i++
	}
	if profile.calls.Load() == 0 {
		b.Fatal("no request reached the profile")
	}
}
