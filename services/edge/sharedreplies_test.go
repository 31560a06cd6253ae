package edge

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"layeh.com/radius"

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

const sharedPrefix = "{edge-test}"

func sharedClient(t *testing.T, addr string) redis.UniversalClient {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// nasSocket is one NAS socket: every edge sees the same source port, as
// when a NAS fails over between them.
type nasSocket struct {
	t    *testing.T
	conn *net.UDPConn
}

func newNAS(t *testing.T) *nasSocket {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &nasSocket{t: t, conn: conn}
}

// send writes b to addr and returns the reply, or nil after wait.
func (n *nasSocket) send(addr net.Addr, b []byte, wait time.Duration) []byte {
	n.t.Helper()
	if _, err := n.conn.WriteTo(b, addr); err != nil {
		n.t.Fatal(err)
	}
	n.conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, maxPacket)
	for {
		m, _, err := n.conn.ReadFrom(buf)
		if err != nil {
			return nil
		}
		if buf[1] == b[1] { // a late reply to an earlier request is not this one's
			return buf[:m]
		}
	}
}

// key is pkt's key in the shared cache, spelt out.
func (n *nasSocket) key(pkt []byte) string {
	src := n.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return sharedPrefix + "reply:nas1:" + strconv.Itoa(int(src.Port())) + ":" + strconv.Itoa(int(pkt[1])) + ":" + hex.EncodeToString(pkt[4:20])
}

// waitStored waits until the reply to pkt is in Redis, written after it
// was sent.
func waitStored(t *testing.T, c redis.UniversalClient, key string) []byte {
	t.Helper()
	var v []byte
	eventually.True(t, "reply stored in Redis", func() bool {
		var err error
		v, err = c.Get(context.Background(), key).Bytes()
		return err == nil && string(v) != inFlight
	})
	return v
}

func TestSharedRepliesAccessAcrossEdges(t *testing.T) {
	rs := redistest.Start(t)
	client := sharedClient(t, rs.Addr())
	shared := SharedReplies{Client: client, Prefix: sharedPrefix, Timeout: time.Second}
	a := start(t, Config{SharedReplies: shared}, PolicyOff, &stubProfile{})
	b := start(t, Config{SharedReplies: shared}, PolicyOff, &stubProfile{})
	nas := newNAS(t)
	req := accessRequest(t, "s3cret")

	first := nas.send(a.srv.AuthAddr(), req, replyWait)
	if first == nil || !radius.IsAuthenticResponse(first, req, []byte("s3cret")) {
		t.Fatalf("edge A: no authentic reply: %x", first)
	}
	if stored := waitStored(t, client, nas.key(req)); string(stored) != string(first) {
		t.Fatalf("Redis holds %x, edge A sent %x", stored, first)
	}
	// The NAS alternates: B answers from Redis, then from its own cache.
	for range 2 {
		if again := nas.send(b.srv.AuthAddr(), req, replyWait); string(again) != string(first) {
			t.Fatalf("edge B answered %x, edge A %x", again, first)
		}
		if again := nas.send(a.srv.AuthAddr(), req, replyWait); string(again) != string(first) {
			t.Fatalf("edge A answered %x the second time, %x the first", again, first)
		}
	}
	if n := a.profile.calls.Load() + b.profile.calls.Load(); n != 1 {
		t.Fatalf("%d decisions, want 1", n)
	}
	shared1 := testutil.ToFloat64(b.srv.metrics.retransmits.WithLabelValues(listenerAuth, cacheShared))
	local := testutil.ToFloat64(b.srv.metrics.retransmits.WithLabelValues(listenerAuth, cacheLocal))
	if shared1 != 1 || local != 1 {
		t.Fatalf("edge B's retransmits: shared %v, local %v; want 1 and 1", shared1, local)
	}
}

// A RadSec NAS whose connection broke resends over a new one, which the
// load balancer may give to another edge: that edge answers with the first
// one's reply, from Redis, since a RadSec request is keyed by its client's
// name and not by a TCP peer.
func TestSharedRepliesRadSecAcrossEdges(t *testing.T) {
	rs := redistest.Start(t)
	client := sharedClient(t, rs.Addr())
	shared := SharedReplies{Client: client, Prefix: sharedPrefix, Timeout: time.Second}
	a, pki := startRadSec(t, &stubProfile{}, Config{SharedReplies: shared})
	b := startRadSecOf(t, pki, &stubProfile{}, Config{SharedReplies: shared})
	req := accessRequest(t, radsecSecret)
	send := func(h *harness) []byte {
		t.Helper()
		c, err := dialRadSec(t, h, pki, pki.ca, "nas-a", "nas-a.radsec.test")
		if err != nil {
			t.Fatal(err)
		}
		defer c.conn.Close()
		c.send(req)
		r, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	first := send(a)
	if !radius.IsAuthenticResponse(first, req, []byte(radsecSecret)) {
		t.Fatalf("edge A: no authentic reply: %x", first)
	}
	eventually.True(t, "edge A's reply in Redis", func() bool {
		keys, err := client.Keys(context.Background(), sharedPrefix+"reply:nas-tls:*").Result()
		if err != nil || len(keys) != 1 {
			return false
		}
		v, err := client.Get(context.Background(), keys[0]).Bytes()
		return err == nil && string(v) == string(first)
	})
	if again := send(b); string(again) != string(first) {
		t.Fatalf("edge B answered %x, edge A %x", again, first)
	}
	if n := a.profile.calls.Load() + b.profile.calls.Load(); n != 1 {
		t.Fatalf("%d decisions, want 1", n)
	}
	if n := testutil.ToFloat64(b.srv.metrics.retransmits.WithLabelValues(listenerAuth, cacheShared)); n != 1 {
		t.Fatalf("edge B's shared-cache retransmits: %v, want 1", n)
	}
}

// An Accounting-Request is claimed before it is appended: while edge A
// waits on its log, the retransmit at edge B is dropped as in flight, and
// once A has answered, B answers with A's reply. One append in all.
func TestSharedRepliesAccountingAppendedOnce(t *testing.T) {
	rs := redistest.Start(t)
	client := sharedClient(t, rs.Addr())
	shared := SharedReplies{Client: client, Prefix: sharedPrefix, Timeout: time.Second}
	logA, logB := &asyncLog{}, &asyncLog{}
	// The claim lives the decision's budget: it must outlast the test's
	// hold on A's log.
	a := start(t, Config{Log: logA, SharedReplies: shared, RequestTimeout: time.Hour}, PolicyOff, &stubProfile{})
	b := start(t, Config{Log: logB, SharedReplies: shared, RequestTimeout: time.Hour}, PolicyOff, &stubProfile{})
	nas := newNAS(t)
	stop := accountingRequest(t, "s3cret", "session-1")

	if r := nas.send(a.srv.AcctAddr(), stop, silenceWait); r != nil {
		t.Fatal("edge A answered before the log said durable")
	}
	eventually.True(t, "edge A appending", func() bool { return logA.queued() == 1 })
	if r := nas.send(b.srv.AcctAddr(), stop, silenceWait); r != nil {
		t.Fatal("edge B answered a retransmit edge A is still deciding")
	}
	eventually.True(t, "edge B's retransmit_in_flight drop", func() bool {
		return testutil.ToFloat64(b.srv.metrics.drops.WithLabelValues(listenerAcct, ReasonInFlight)) == 1
	})

	logA.release(nil)
	stored := waitStored(t, client, nas.key(stop))
	if !radius.IsAuthenticResponse(stored, stop, []byte("s3cret")) {
		t.Fatalf("Redis holds no authentic Accounting-Response: %x", stored)
	}
	if r := nas.send(b.srv.AcctAddr(), stop, replyWait); string(r) != string(stored) {
		t.Fatalf("edge B answered %x, edge A %x", r, stored)
	}
	if logB.queued() != 0 || len(logB.keys) != 0 {
		t.Fatalf("edge B appended %v", logB.keys)
	}
	if len(logA.keys) != 1 {
		t.Fatalf("edge A appended %v, want one record", logA.keys)
	}
}

// A request dropped without a reply releases its claim: the NAS's
// retransmit, wherever it lands, is decided again.
func TestSharedRepliesAbortReleasesTheClaim(t *testing.T) {
	rs := redistest.Start(t)
	client := sharedClient(t, rs.Addr())
	shared := SharedReplies{Client: client, Prefix: sharedPrefix, Timeout: time.Second}
	failing := &stubProfile{}
	failing.fail.Store(true)
	a := start(t, Config{SharedReplies: shared}, PolicyOff, failing)
	b := start(t, Config{SharedReplies: shared}, PolicyOff, &stubProfile{})
	nas := newNAS(t)
	req := accessRequest(t, "s3cret")

	if r := nas.send(a.srv.AuthAddr(), req, silenceWait); r != nil {
		t.Fatal("edge A answered with its backend down")
	}
	eventually.True(t, "claim released", func() bool {
		n, err := client.Exists(context.Background(), nas.key(req)).Result()
		return err == nil && n == 0 && a.drops(ReasonBackend) == 1
	})
	if r := nas.send(b.srv.AuthAddr(), req, replyWait); r == nil || !radius.IsAuthenticResponse(r, req, []byte("s3cret")) {
		t.Fatalf("edge B: no authentic reply to the retransmit: %x", r)
	}
	if b.profile.calls.Load() != 1 {
		t.Fatalf("edge B decided %d times, want 1", b.profile.calls.Load())
	}
}

// With Redis gone, each request is decided with the local cache, counted,
// and only the first one after the failure waits on Redis.
func TestSharedRepliesRedisDown(t *testing.T) {
	rs := redistest.Start(t)
	client := sharedClient(t, rs.Addr())
	h := start(t, Config{SharedReplies: SharedReplies{Client: client, Prefix: sharedPrefix, Timeout: time.Second, Pause: time.Hour}}, PolicyOff, &stubProfile{})
	nas := newNAS(t)
	rs.Stop()

	for i := range 3 {
		req := accessRequest(t, "s3cret")
		req[1] = byte(i)
		if r := nas.send(h.srv.AuthAddr(), req, replyWait); r == nil {
			t.Fatalf("request %d unanswered with Redis down", i)
		}
		// The local cache still answers retransmits to this edge.
		if r := nas.send(h.srv.AuthAddr(), req, replyWait); r == nil {
			t.Fatalf("retransmit %d unanswered with Redis down", i)
		}
	}
	if n := h.profile.calls.Load(); n != 3 {
		t.Fatalf("%d decisions, want 3", n)
	}
	if n := testutil.ToFloat64(h.srv.metrics.localOnly); n != 3 {
		t.Fatalf("local_only %v, want 3", n)
	}
	// One claim failed; the others skipped Redis for the pause.
	if n := testutil.ToFloat64(h.srv.metrics.sharedErrors.WithLabelValues(opClaim)); n != 1 {
		t.Fatalf("claim errors %v, want 1", n)
	}
}

// A Redis that accepts and never answers costs a request its budget, no
// more: the reply goes out, and the next requests skip Redis.
func TestSharedRepliesBudget(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	const budget = 50 * time.Millisecond
	client := sharedClient(t, silent.Addr().String())
	h := start(t, Config{SharedReplies: SharedReplies{Client: client, Prefix: sharedPrefix, Timeout: budget, Pause: time.Hour}}, PolicyOff, &stubProfile{})
	nas := newNAS(t)

	req := accessRequest(t, "s3cret")
	began := time.Now()
	if r := nas.send(h.srv.AuthAddr(), req, replyWait); r == nil {
		t.Fatal("unanswered with Redis silent")
	}
	// Generous for a loaded machine, and far below what a call without
	// the budget would wait (go-redis's read timeout is 3s).
	if took := time.Since(began); took > budget+time.Second {
		t.Fatalf("reply took %s with a budget of %s", took, budget)
	}
	if n := testutil.ToFloat64(h.srv.metrics.sharedErrors.WithLabelValues(opClaim)); n != 1 {
		t.Fatalf("claim errors %v, want 1", n)
	}
	req2 := accessRequest(t, "s3cret")
	req2[1] = req[1] + 1
	if r := nas.send(h.srv.AuthAddr(), req2, replyWait); r == nil {
		t.Fatal("second request unanswered")
	}
	if n := testutil.ToFloat64(h.srv.metrics.sharedErrors.WithLabelValues(opClaim)); n != 1 {
		t.Fatalf("claim errors %v after the pause began, want still 1", n)
	}
}

func TestSharedRepliesKey(t *testing.T) {
	s := &sharedReplies{prefix: "{p}reply:"}
	k := replyKey{src: netip.MustParseAddrPort("192.0.2.1:4000"), id: 7, auth: [16]byte{0xab, 1}}
	if got, want := s.key("nas1", k), "{p}reply:nas1:4000:7:ab010000000000000000000000000000"; got != want {
		t.Fatalf("key %q, want %q", got, want)
	}
}

// BenchmarkSharedReplyCache is BenchmarkHandle's Access-Request, new to
// every cache, with the local cache alone and with the shared one on a
// redis-server on loopback: the claim's round trip is on the request's
// path, the reply's write beside it.
func BenchmarkSharedReplyCache(b *testing.B) {
	b.Run("cache=local", func(b *testing.B) { benchmarkShared(b, SharedReplies{}) })
	b.Run("cache=redis", func(b *testing.B) {
		rs := redistest.Start(b)
		c := redis.NewClient(&redis.Options{Addr: rs.Addr(), ContextTimeoutEnabled: true})
		b.Cleanup(func() { c.Close() })
		benchmarkShared(b, SharedReplies{Client: c, Prefix: sharedPrefix, Timeout: time.Second})
	})
}

func benchmarkShared(b *testing.B, shared SharedReplies) {
	profile := &stubProfile{kind: "login"}
	d := newDirect(b, profile, Config{ReplyTTL: 10 * time.Second, SharedReplies: shared})
	pkt := d.loginRequest(b, 1)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		// A new Request Authenticator: a new request to either cache.
		binary.BigEndian.PutUint64(pkt[4:], i)
		d.handle(pkt, time.Now())
	}
	b.StopTimer()
	if d.srv.shared != nil {
		d.srv.shared.wait()
		if n := testutil.ToFloat64(d.srv.metrics.localOnly); n != 0 {
			b.Fatalf("%v requests decided without Redis", n)
		}
	}
	if profile.calls.Load() == 0 {
		b.Fatal("no request reached the profile")
	}
}
