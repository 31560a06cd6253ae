package edge

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"layeh.com/radius"

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas"
	"kradius.dev/services/password"
)

// TestQueueWaitSheds: a request that waited for a worker longer than
// MaxQueueWait is dropped as queue_timeout when a worker takes it, without
// reaching the profile; one that did not wait is decided.
func TestQueueWaitSheds(t *testing.T) {
	const maxWait = 20 * time.Millisecond
	profile := &stubProfile{hold: make(chan struct{})}
	h := start(t, Config{Workers: 1, MaxQueueWait: maxWait, RequestTimeout: time.Minute}, PolicyOff, profile)
	conn, err := net.DialUDP("udp", nil, h.srv.AuthAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	held := accessRequest(t, "s3cret")
	conn.Write(held)
	eventually.True(t, "the first request holding the worker", func() bool { return profile.calls.Load() == 1 })
	conn.Write(accessRequest(t, "s3cret"))
	eventually.True(t, "the second request queued", func() bool { return len(h.srv.conns[0].queue) == 1 })
	queued := time.Now()
	// The scenario's own clock: the queued request must outwait maxWait.
	eventually.True(t, "the queued request past its wait", func() bool { return time.Since(queued) > 2*maxWait })
	close(profile.hold)

	buf := make([]byte, maxPacket)
	conn.SetReadDeadline(time.Now().Add(replyWait))
	if n, err := conn.Read(buf); err != nil || !radius.IsAuthenticResponse(buf[:n], held, []byte("s3cret")) {
		t.Fatalf("the request that held the worker: no reply (%v)", err)
	}
	eventually.True(t, "the stale request dropped", func() bool { return h.drops(ReasonQueueTimeout) == 1 })
	if n := profile.calls.Load(); n != 1 {
		t.Errorf("the profile decided %d requests, want 1: the stale one must not reach it", n)
	}
	fresh := accessRequest(t, "s3cret")
	if r := roundTrip(t, conn, fresh, replyWait); r == nil || !radius.IsAuthenticResponse(r, fresh, []byte("s3cret")) {
		t.Fatal("a request that did not wait: no reply")
	}
}

func TestMaxQueueWaitDefault(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{}, 500 * time.Millisecond},
		{Config{RequestTimeout: 10 * time.Second}, 5 * time.Second},
		{Config{RequestTimeout: 10 * time.Second, MaxQueueWait: time.Second}, time.Second},
	} {
		if got := tc.cfg.withDefaults().MaxQueueWait; got != tc.want {
			t.Errorf("%+v: MaxQueueWait %v, want %v", tc.cfg, got, tc.want)
		}
	}
}

// overloadedProfile fails every decision as an overloaded verifier does.
type overloadedProfile struct{ calls atomic.Int32 }

func (p *overloadedProfile) ServeAccess(context.Context, *nas.Request) (*radius.Packet, error) {
	p.calls.Add(1)
	return nil, fmt.Errorf("authenticate %q: stored hash: %w", "user1", password.ErrOverloaded)
}

// TestPasswordOverloadIsADrop: a decision refused by an overloaded
// verifier gets no reply, so that the NAS retransmits, and is counted as
// password_overload, not as a backend failing: Status-Server still answers.
func TestPasswordOverloadIsADrop(t *testing.T) {
	h := startWith(t, Config{}, &overloadedProfile{})
	if r := h.exchange("127.0.0.1:0", accessRequest(t, "s3cret"), silenceWait); r != nil {
		t.Fatalf("overloaded: got code %d, want no reply", r[0])
	}
	eventually.True(t, "password_overload drop", func() bool { return h.drops(ReasonPasswordOverload) == 1 })
	if n := h.drops(ReasonBackend); n != 0 {
		t.Errorf("%v backend_error drops, want 0", n)
	}
	if err := h.srv.conns[0].health.serving(time.Now().UnixNano()); err != nil {
		t.Errorf("after a shed request the auth port does not serve: %v", err)
	}
}

// startWith is start with another handler for the client.
func startWith(t *testing.T, cfg Config, handler nas.Handler) *harness {
	t.Helper()
	return startTable(t, cfg, loopbackClient(t, handler, PolicyOff), nil)
}
