package edge

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	"kradius.dev/services/accounting"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas"
)

// memLog is an accounting log in memory that can be made to fail.
type memLog struct {
	mu      sync.Mutex
	keys    []string
	failing bool
}

func (m *memLog) Append(_ context.Context, key, _ []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return errors.New("broker unreachable")
	}
	m.keys = append(m.keys, string(key))
	return nil
}

func (m *memLog) Close() error { return nil }

func (m *memLog) appended() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.keys...)
}

func (m *memLog) fail(on bool) {
	m.mu.Lock()
	m.failing = on
	m.mu.Unlock()
}

// ServeAccounting makes the stub profile keep accounting.
func (p *stubProfile) ServeAccounting(_ context.Context, req *nas.AccountingRequest, dst []byte) (accounting.Record, error) {
	pkt, err := radius.Parse(req.Raw, nil)
	if err != nil {
		return accounting.Record{}, &nas.Drop{Reason: nas.ReasonMalformed, Err: err}
	}
	sid, err := rfc2866.AcctSessionID_LookupString(pkt)
	if err != nil {
		return accounting.Record{}, &nas.Drop{Reason: nas.ReasonNoSessionID, Err: err}
	}
	return accounting.Record{SessionID: []byte(sid), Wire: append(dst, sid...)}, nil
}

var nextIdentifier atomic.Uint32

func accountingRequest(t *testing.T, secret, session string) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccountingRequest, []byte(secret))
	// Identifiers in turn, not at random: tests that match replies to
	// requests by identifier would otherwise mix up 1 run in 85 with three.
	p.Identifier = byte(nextIdentifier.Add(1))
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	if session != "" {
		rfc2866.AcctSessionID_SetString(p, session)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAccountingIsAcknowledgedOnlyWhenDurable(t *testing.T) {
	log := &memLog{}
	h := start(t, Config{Log: log}, PolicyOff, &stubProfile{})
	conn, err := net.DialUDP("udp", nil, h.srv.AcctAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	drops := func(reason string) float64 {
		return testutil.ToFloat64(h.srv.metrics.drops.WithLabelValues(listenerAcct, reason))
	}

	stop := accountingRequest(t, "s3cret", "session-1")
	r := roundTrip(t, conn, stop, replyWait)
	if r == nil || radius.Code(r[0]) != radius.CodeAccountingResponse || !radius.IsAuthenticResponse(r, stop, []byte("s3cret")) {
		t.Fatalf("no authentic Accounting-Response: %x", r)
	}
	// The port server resends a Stop until answered: a retransmit is answered
	// from the reply cache and not appended again.
	if again := roundTrip(t, conn, stop, replyWait); string(again) != string(r) {
		t.Fatal("retransmit got a different answer")
	}
	if got := log.appended(); len(got) != 1 || got[0] != "session-1" {
		t.Fatalf("appended %v, want session-1 once", got)
	}

	// The log is down: no Accounting-Response, the drop counted; once it is
	// back, the NAS's retransmit is appended and answered.
	log.fail(true)
	stop2 := accountingRequest(t, "s3cret", "session-2")
	if r := roundTrip(t, conn, stop2, silenceWait); r != nil {
		t.Fatal("answered while the log was down")
	}
	eventually.True(t, "accounting_log_error drop", func() bool { return drops(ReasonLogUnavailable) == 1 })
	log.fail(false)
	if r := roundTrip(t, conn, stop2, replyWait); r == nil || radius.Code(r[0]) != radius.CodeAccountingResponse {
		t.Fatal("retransmit after the log returned: no Accounting-Response")
	}

	// Bad input is dropped, counted, and never appended.
	for _, tc := range []struct {
		name, reason string
		pkt          []byte
	}{
		{"wrong secret", ReasonBadAuthenticator, accountingRequest(t, "wrong", "session-3")},
		{"no Acct-Session-Id", ReasonNoSessionID, accountingRequest(t, "s3cret", "")},
	} {
		before := drops(tc.reason)
		if r := roundTrip(t, conn, tc.pkt, silenceWait); r != nil {
			t.Errorf("%s: answered", tc.name)
		}
		eventually.True(t, tc.name+" counted", func() bool { return drops(tc.reason) == before+1 })
	}
	if got := log.appended(); len(got) != 2 {
		t.Fatalf("appended %v, want session-1 and session-2 only", got)
	}
	if got := h.srv.Received(); got != 6 {
		t.Errorf("Received() = %d, want the 6 datagrams sent", got)
	}
}

func TestAccountingWithoutLogIsDropped(t *testing.T) {
	h := start(t, Config{}, PolicyOff, &stubProfile{})
	conn, _ := net.DialUDP("udp", nil, h.srv.AcctAddr().(*net.UDPAddr))
	defer conn.Close()
	if r := roundTrip(t, conn, accountingRequest(t, "s3cret", "s"), silenceWait); r != nil {
		t.Fatal("accounting acknowledged with no log to keep it")
	}
	eventually.True(t, "accounting_unavailable drop", func() bool {
		return testutil.ToFloat64(h.srv.metrics.drops.WithLabelValues(listenerAcct, ReasonNoAccountingLog)) == 1
	})
}

// stuckLog never finishes an append until released.
type stuckLog struct {
	release chan struct{}
	held    *atomic.Int32 // appends waiting
}

func (l stuckLog) Append(ctx context.Context, _, _ []byte) error {
	l.held.Add(1)
	defer l.held.Add(-1)
	select {
	case <-l.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (stuckLog) Close() error { return nil }

// TestStuckAccountingLeavesAccessAlone: with every accounting worker waiting
// on a log that does not answer, Access-Requests are still decided, since
// each port has its own workers and queue.
func TestStuckAccountingLeavesAccessAlone(t *testing.T) {
	log := stuckLog{release: make(chan struct{}), held: new(atomic.Int32)}
	defer close(log.release)
	// The budget outlasts the test: the log stays stuck until released.
	h := start(t, Config{Log: log, Workers: 1, AcctWorkers: 1, RequestTimeout: time.Hour}, PolicyOff, &stubProfile{})
	acct, err := net.DialUDP("udp", nil, h.srv.AcctAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer acct.Close()
	for _, session := range []string{"s-1", "s-2"} { // one held by the worker, one queued
		if _, err := acct.Write(accountingRequest(t, "s3cret", session)); err != nil {
			t.Fatal(err)
		}
	}
	eventually.True(t, "s-1 held by the worker, s-2 read", func() bool { return log.held.Load() == 1 && h.srv.Received() == 2 })
	if r := h.exchange("127.0.0.1:0", accessRequest(t, "s3cret"), replyWait); r == nil || radius.Code(r[0]) != radius.CodeAccessAccept {
		t.Fatalf("Access-Request behind a stuck accounting log: %x", r)
	}
}

// asyncLog reports durability by callback, from its own goroutine, when
// released, as the journal's writer does after an fsync.
type asyncLog struct {
	mu      sync.Mutex
	waiting []func(error)
	keys    []string
}

func (a *asyncLog) Append(context.Context, []byte, []byte) error {
	panic("the edge must use AppendAsync when the log has it")
}

func (a *asyncLog) AppendAsync(_ context.Context, key, _ []byte, done func(error)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keys = append(a.keys, string(key))
	a.waiting = append(a.waiting, done)
}

func (a *asyncLog) Close() error { return nil }

func (a *asyncLog) queued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.waiting)
}

// release reports every waiting record durable (or failed), from another
// goroutine.
func (a *asyncLog) release(err error) {
	a.mu.Lock()
	waiting := a.waiting
	a.waiting = nil
	a.mu.Unlock()
	go func() {
		for _, done := range waiting {
			done(err)
		}
	}()
}

// With a log that answers by callback, one accounting worker takes request
// after request without waiting for the disk, and each is answered only
// once the log says it is durable; one that fails is not answered. On
// shutdown, Serve answers what the log still owes before it closes the
// sockets.
func TestAccountingAnsweredFromTheLogsCallback(t *testing.T) {
	log := &asyncLog{}
	h := start(t, Config{Log: log, AcctWorkers: 1}, PolicyOff, &stubProfile{})
	conn, err := net.DialUDP("udp", nil, h.srv.AcctAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sessions := []string{"s-1", "s-2", "s-3"}
	sent := map[byte][]byte{}
	for _, session := range sessions {
		pkt := accountingRequest(t, "s3cret", session)
		sent[pkt[1]] = pkt
		if _, err := conn.Write(pkt); err != nil {
			t.Fatal(err)
		}
	}
	eventually.True(t, "three records taken by one worker", func() bool { return log.queued() == 3 })
	// A window for an answer that must not come: on a slow machine it may
	// miss a bug, but it never fails a correct edge.
	conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := conn.Read(make([]byte, maxPacket)); err == nil {
		t.Fatalf("answered (%d bytes) before the log said durable", n)
	}
	log.release(nil)
	for range sessions {
		conn.SetReadDeadline(time.Now().Add(replyWait))
		buf := make([]byte, maxPacket)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("not answered after the log said durable: %v", err)
		}
		if req := sent[buf[1]]; req == nil || !radius.IsAuthenticResponse(buf[:n], req, []byte("s3cret")) {
			t.Fatalf("not an authentic Accounting-Response: %x", buf[:n])
		}
	}

	// A failed append is not answered, and its retransmit is tried again.
	failing := accountingRequest(t, "s3cret", "s-4")
	if _, err := conn.Write(failing); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "s-4 taken", func() bool { return log.queued() == 1 })
	log.release(errors.New("fsync failed"))
	eventually.True(t, "the failure counted", func() bool {
		return testutil.ToFloat64(h.srv.metrics.drops.WithLabelValues(listenerAcct, ReasonLogUnavailable)) == 1
	})
	if _, err := conn.Write(failing); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the retransmit appended again", func() bool { return log.queued() == 1 })

	// Shutdown with s-4's retransmit still owed: Serve waits for the log.
	stopped := make(chan struct{})
	go func() { h.stop(); close(stopped) }()
	eventually.True(t, "the server stopping", h.srv.stopping.Load)
	select { // as above, a window for what must not happen
	case <-stopped:
		t.Fatal("Serve returned with a record's outcome still owed")
	case <-time.After(100 * time.Millisecond):
	}
	log.release(nil)
	conn.SetReadDeadline(time.Now().Add(replyWait))
	if _, err := conn.Read(make([]byte, maxPacket)); err != nil {
		t.Fatalf("the owed answer was not sent on shutdown: %v", err)
	}
	<-stopped
}

// TestAcctWorkersDefault: with a log that answers by callback a worker
// never waits, so one per CPU is enough; a log whose Append blocks needs
// many in flight to fill its batches.
func TestAcctWorkersDefault(t *testing.T) {
	for _, c := range []struct {
		name string
		log  acctlog.Appender
		want int
	}{
		{"async", &asyncLog{}, runtime.GOMAXPROCS(0)},
		{"blocking", &stuckLog{}, 64},
		{"none", nil, 64},
	} {
		if got := (Config{Log: c.log}).withDefaults().AcctWorkers; got != c.want {
			t.Errorf("%s log: %d accounting workers, want %d", c.name, got, c.want)
		}
	}
	if got := (Config{Log: &asyncLog{}, AcctWorkers: 9}).withDefaults().AcctWorkers; got != 9 {
		t.Errorf("configured 9 accounting workers, got %d", got)
	}
}
