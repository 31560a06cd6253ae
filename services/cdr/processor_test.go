package cdr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

// sink is the CDR topic in memory; it can be made to fail.
type sink struct {
	mu      sync.Mutex
	cdrs    []*accountingv1.CDR
	failing bool
	refused int // appends failed
}

func (s *sink) Append(_ context.Context, _, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing {
		s.refused++
		return errors.New("broker unreachable")
	}
	var c accountingv1.CDR
	if err := proto.Unmarshal(value, &c); err != nil {
		return err
	}
	s.cdrs = append(s.cdrs, &c)
	return nil
}

func (s *sink) Close() error { return nil }

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cdrs)
}

func (s *sink) refusals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func stop(session, dial string, result *uint64) acctlog.Message {
	rec := &accountingv1.Record{
		SessionId: session, StatusType: accountingv1.StatusType_STATUS_TYPE_STOP, StatusTypeValue: 2, UserName: "account", Profile: "faxback",
		Attributes: []*accountingv1.Attribute{{Name: "FB-Dial-Number", Value: &accountingv1.Attribute_Text{Text: dial}}},
	}
	if result != nil {
		rec.Attributes = append(rec.Attributes, &accountingv1.Attribute{Name: "FB-Called-Number-Result", Value: &accountingv1.Attribute_Integer{Integer: *result}})
	}
	b, _ := proto.Marshal(rec)
	return acctlog.Message{Key: []byte(session), Value: b}
}

func u(v uint64) *uint64 { return &v }

type fixture struct {
	p     *Processor
	st    fbdata.Store
	cdrs  *sink
	ledge *BoltLedger
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l, err := OpenBoltLedger(filepath.Join(dir, "ledger.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cdrs := &sink{}
	sessions := map[string]nas.Sessions{"faxback": faxback.Plugin.Sessions(nas.SessionDeps{Store: st})}
	p := New(l, cdrs, sessions, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	return fixture{p: p, st: st, cdrs: cdrs, ledge: l}
}

func TestStopEffectsOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	voice := stop("s1", "other;5551000001", u(2))
	for range 3 { // the NAS resent it; the producer retried
		if err := f.p.Handle(ctx, voice); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.p.Handle(ctx, stop("s2", "5551000002", u(0))); err != nil {
		t.Fatal(err)
	}
	if err := f.p.Handle(ctx, stop("s3", "", nil)); err != nil { // no call-ahead result
		t.Fatal(err)
	}
	if n := f.cdrs.count(); n != 3 {
		t.Fatalf("%d CDRs, want one per session (3)", n)
	}
	c, err := f.st.GetCalledNumber(ctx, "5551000001")
	if err != nil || !c.VoiceError || c.FaxVerified {
		t.Errorf("VoiceError stop: %+v %v", c, err)
	}
	if c, err := f.st.GetCalledNumber(ctx, "5551000002"); err != nil || !c.FaxVerified {
		t.Errorf("Success stop: %+v %v", c, err)
	}
	if got := testutil.ToFloat64(f.p.effects.WithLabelValues("cdr", "duplicate")); got != 2 {
		t.Errorf("duplicate CDRs skipped = %v, want 2", got)
	}
}

func TestNonStopsAndUndecodable(t *testing.T) {
	f := newFixture(t)
	start := &accountingv1.Record{SessionId: "s", StatusType: accountingv1.StatusType_STATUS_TYPE_START, StatusTypeValue: 1}
	b, _ := proto.Marshal(start)
	for _, m := range []acctlog.Message{{Value: b}, {Value: []byte("\xff\xff not protobuf")}} {
		if err := f.p.Handle(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if f.cdrs.count() != 0 {
		t.Fatal("a CDR from a Start or from garbage")
	}
}

// memConsumer replays messages and records commits.
type memConsumer struct {
	msgs        []acctlog.Message
	next        int
	mu          sync.Mutex
	committed   []int64
	failCommits int // the first this many commits fail, as with a broker down
	failFetches int // and the first this many fetches
}

func (c *memConsumer) Fetch(ctx context.Context) (acctlog.Message, error) {
	if c.failFetches > 0 {
		c.failFetches--
		return acctlog.Message{}, errors.New("failed to dial: connection refused")
	}
	if c.next == len(c.msgs) {
		<-ctx.Done()
		return acctlog.Message{}, ctx.Err()
	}
	c.next++
	return c.msgs[c.next-1], nil
}

func (c *memConsumer) Commit(_ context.Context, msgs ...acctlog.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failCommits > 0 {
		c.failCommits--
		return errors.New("broker unreachable")
	}
	for _, m := range msgs {
		c.committed = append(c.committed, m.Offset)
	}
	return nil
}

func (c *memConsumer) Close() error { return nil }

// TestRunCommitsAfterEffects: a record whose CDR cannot be published is
// retried, not committed past, and goes through once the sink is back.
func TestRunCommitsAfterEffects(t *testing.T) {
	f := newFixture(t)
	f.cdrs.failing = true
	m1, m2 := stop("a", "1", nil), stop("b", "2", nil)
	m1.Offset, m2.Offset = 1, 2
	c := &memConsumer{msgs: []acctlog.Message{m1, m2}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.p.Run(ctx, c) }()
	// Tried, and tried again.
	eventually.True(t, "the CDRs refused twice", func() bool { return f.cdrs.refusals() >= 2 })
	if got := c.last(); got != -1 {
		t.Fatalf("committed offset %d past records whose effects failed", got)
	}
	f.cdrs.mu.Lock()
	f.cdrs.failing = false
	f.cdrs.mu.Unlock()
	eventually.True(t, "both CDRs published", func() bool { return f.cdrs.count() == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f.cdrs.count() != 2 || c.last() != 2 {
		t.Fatalf("%d CDRs, last commit %d; want 2 and 2", f.cdrs.count(), c.last())
	}
}

// last is the highest committed offset, -1 before any commit; commits never
// go backwards.
func (c *memConsumer) last() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	last := int64(-1)
	for _, o := range c.committed {
		if o < last {
			panic("commit went backwards")
		}
		last = o
	}
	return last
}

// stuckSink fails the CDRs of one session until released.
type stuckSink struct {
	sink
	stuck    string
	released chan struct{}
	refused  atomic.Int32 // the stuck session's CDR, failed
}

func (s *stuckSink) Append(ctx context.Context, key, value []byte) error {
	if string(key) == s.stuck {
		select {
		case <-s.released:
		default:
			s.refused.Add(1)
			return errors.New("broker refuses this one")
		}
	}
	return s.sink.Append(ctx, key, value)
}

// TestRunNeverCommitsPastAStuckRecord: while one session's record keeps
// failing, the records on other lanes are applied (those queued behind it
// on its own lane wait), but the committed position stays before it; once
// it goes through, the position moves to the end.
func TestRunNeverCommitsPastAStuckRecord(t *testing.T) {
	f := newFixture(t)
	cdrs := &stuckSink{stuck: "s-10", released: make(chan struct{})}
	f.p.cdrs = cdrs
	var msgs []acctlog.Message
	for i := range 100 {
		m := stop(fmt.Sprintf("s-%d", i), "1", nil)
		m.Offset = int64(i)
		msgs = append(msgs, m)
	}
	c := &memConsumer{msgs: msgs}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.p.Run(ctx, c) }()
	eventually.True(t, "other lanes applied", func() bool { return cdrs.count() >= 50 })
	// Any commit the consumer would make comes between its tries, and two
	// retries span more than commitEvery.
	refused := cdrs.refused.Load()
	eventually.True(t, "the stuck record tried twice more", func() bool { return cdrs.refused.Load() >= refused+2 })
	if got := c.last(); got >= 10 {
		t.Fatalf("committed offset %d while offset 10 is not applied", got)
	}
	close(cdrs.released)
	eventually.True(t, "every record applied and committed", func() bool { return cdrs.count() == 100 && c.last() == 99 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLedgers(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	bolt, err := OpenBoltLedger(filepath.Join(t.TempDir(), "l.db"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	now := time.Unix(1000, 0)
	bolt.now = func() time.Time { return now }
	ctx := context.Background()
	for name, l := range map[string]Ledger{"redis": NewRedisLedger(client, "{kradius}", time.Minute), "bolt": bolt} {
		if done, err := l.Done(ctx, "cdr/2/x"); err != nil || done {
			t.Errorf("%s: fresh key done=%v %v", name, done, err)
		}
		if err := l.MarkDone(ctx, "cdr/2/x"); err != nil {
			t.Fatal(err)
		}
		if done, err := l.Done(ctx, "cdr/2/x"); err != nil || !done {
			t.Errorf("%s: marked key done=%v %v", name, done, err)
		}
	}
	if ttl := client.TTL(ctx, "{kradius}:done:cdr/2/x").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("redis mark TTL = %v", ttl)
	}
	now = now.Add(2 * time.Minute)
	if done, _ := bolt.Done(ctx, "cdr/2/x"); done {
		t.Error("bolt mark outlived its TTL")
	}
	if err := bolt.sweep(); err != nil {
		t.Fatal(err)
	}
}

// TestRunSurvivesFailedCommits: a fetch or a commit that fails (the log's
// broker restarting) is retried, and neither stops the consumer nor loses
// the position.
func TestRunSurvivesFailedCommits(t *testing.T) {
	f := newFixture(t)
	var msgs []acctlog.Message
	for i := range 10 {
		m := stop(fmt.Sprintf("s-%d", i), "1", nil)
		m.Offset = int64(i)
		msgs = append(msgs, m)
	}
	c := &memConsumer{msgs: msgs, failCommits: 3, failFetches: 2}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.p.Run(ctx, c) }()
	eventually.True(t, "every record committed", func() bool { return c.last() == 9 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if f.cdrs.count() != 10 {
		t.Fatalf("%d CDRs, want 10", f.cdrs.count())
	}
}

// TestPauseFollowsLoad: under a load factor the consumer rests in
// proportion to its work while the edge is busy, and not at all once it is
// quiet; without one only the pacing between small batches applies.
func TestPauseFollowsLoad(t *testing.T) {
	f := newFixture(t)
	// noPause is true if pause returns without resting after a batch that
	// took an hour: it would rest for an hour at load factor 0.5, far past
	// the context's end, and return false.
	noPause := func(n int) bool {
		ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
		defer cancel()
		return f.p.pause(ctx, time.Now().Add(-time.Hour), n)
	}
	// A full batch, no load factor: no pause.
	if !noPause(maxBatch) {
		t.Error("no load factor: paused")
	}
	busy := true
	f.p.SetLoadFactor(0.5, func() bool { return busy })
	// Rests never end early, so a lower bound holds on any machine.
	start := time.Now()
	f.p.pause(context.Background(), start.Add(-200*time.Millisecond), maxBatch)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("busy at load factor 0.5 after 200 ms of work: paused %v, want 200 ms", d)
	}
	busy = false
	if !noPause(maxBatch) {
		t.Error("quiet: paused")
	}
	// A small batch waits out batchEvery from its start.
	started := time.Now()
	f.p.pause(context.Background(), started, 1)
	if d := time.Since(started); d < batchEvery {
		t.Errorf("small batch: paused %v from its start, want %v", d, batchEvery)
	}
}

// TestDuplicateInOneBatch: a Stop appended twice and fetched in one batch
// is billed once and counted as a duplicate.
func TestDuplicateInOneBatch(t *testing.T) {
	f := newFixture(t)
	m := stop("twice", "5550001111", u(0))
	if err := f.p.applyBatch(context.Background(), []acctlog.Message{m, m}); err != nil {
		t.Fatal(err)
	}
	if f.cdrs.count() != 1 {
		t.Fatalf("%d CDRs, want 1", f.cdrs.count())
	}
	for _, effect := range []string{"cdr", "called-number"} {
		if got := testutil.ToFloat64(f.p.effects.WithLabelValues(effect, "duplicate")); got != 1 {
			t.Errorf("%s duplicates = %v, want 1", effect, got)
		}
	}
}

// TestCDRByProfile: a Stop's CDR carries the common fields whatever its
// profile, and the profile's block and effects only for its own profile.
func TestCDRByProfile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	common := []*accountingv1.Attribute{
		{Name: "Acct-Session-Time", Type: 46, Value: &accountingv1.Attribute_Integer{Integer: 61}},
		{Name: "Calling-Station-Id", Type: 31, Value: &accountingv1.Attribute_Text{Text: "5550100"}},
		{Name: "Acct-Input-Octets", Type: 42, Value: &accountingv1.Attribute_Integer{Integer: 7}},
		{Name: "Acct-Input-Gigawords", Type: 52, Value: &accountingv1.Attribute_Integer{Integer: 1}},
		{Name: "Acct-Terminate-Cause", Type: 49, Value: &accountingv1.Attribute_Integer{Integer: 1}},
	}
	fax := stop("fax", "5552000001", u(2))
	generic := stop("plain", "5552000002", u(2))
	for _, m := range []*acctlog.Message{&fax, &generic} {
		rec := new(accountingv1.Record)
		if err := proto.Unmarshal(m.Value, rec); err != nil {
			t.Fatal(err)
		}
		rec.Attributes = append(rec.Attributes, common...)
		if string(m.Key) == "plain" {
			rec.Profile = "generic" // no sessions part: common fields only
		}
		m.Value, _ = proto.Marshal(rec)
		if err := f.p.Handle(ctx, *m); err != nil {
			t.Fatal(err)
		}
	}
	if f.cdrs.count() != 2 {
		t.Fatalf("%d CDRs, want 2", f.cdrs.count())
	}
	for _, c := range f.cdrs.cdrs {
		if c.GetSessionTime() != 61 || c.GetCallingStationId() != "5550100" || c.GetInputOctets() != 1<<32+7 || c.GetTerminateCause() != 1 {
			t.Errorf("%s: common fields %+v", c.GetSessionId(), c)
		}
		switch c.GetSessionId() {
		case "fax":
			if c.GetProfile() != "faxback" || c.GetFaxback().GetDialNumber() != "5552000001" {
				t.Errorf("faxback CDR: profile %q, block %+v", c.GetProfile(), c.GetFaxback())
			}
			//lint:ignore SA1019 the first version's field must still be set, for its readers
			if dial := c.GetDialNumber(); dial != "5552000001" {
				t.Errorf("faxback CDR: first-version dial_number %q, want it set for v1 readers", dial)
			}
		case "plain":
			if c.GetProfile() != "generic" || c.GetBlock() != nil {
				t.Errorf("generic CDR: profile %q, block %v; want no block", c.GetProfile(), c.GetBlock())
			}
		}
	}
	if _, err := f.st.GetCalledNumber(ctx, "5552000001"); err != nil {
		t.Errorf("faxback Stop: called number not recorded: %v", err)
	}
	if _, err := f.st.GetCalledNumber(ctx, "5552000002"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("generic Stop with FaxBack attributes: called number recorded (%v); effects follow the profile", err)
	}
}
