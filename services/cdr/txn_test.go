package cdr

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/kafkalog"
	"kradius.dev/services/acctlog/kafkalog/kafkatest"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

func TestPublished(t *testing.T) {
	for _, tc := range []struct {
		name  string
		claim Claim
		ok    bool
		want  bool
	}{
		{"no claim", Claim{}, false, false},
		{"an earlier record of the partition", Claim{Partition: 1, Offset: 5}, true, true},
		{"this record, after an abort", Claim{Partition: 1, Offset: 9}, true, false},
		{"a later record, whose transaction aborted", Claim{Partition: 1, Offset: 12}, true, false},
		{"another partition", Claim{Partition: 0, Offset: 50}, true, true},
		{"the consumer before transactions", Claim{Partition: -1, Offset: -1}, true, true},
	} {
		if got := published(tc.claim, tc.ok, 1, 9); got != tc.want {
			t.Errorf("%s: published = %v, want %v", tc.name, got, tc.want)
		}
	}
}

const (
	txnIn  = "kradius.accounting.v1"
	txnOut = "kradius.cdr.v1"
)

// txnFixture is -target=cdr's consumer on a real broker and a real Redis:
// the processor of newFixture with its done-marks and claims in Redis.
type txnFixture struct {
	fixture
	broker *kafkatest.Broker
	ledger *RedisLedger
	cfg    kafkalog.Config
}

func newTxnFixture(t testing.TB) txnFixture {
	t.Helper()
	f := newFixture(t)
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	ledger := NewRedisLedger(client, "{kradius}", time.Hour)
	f.p.ledger, f.p.callStore = ledger, ledger
	b := kafkatest.Start(t, kafkatest.Options{Partitions: partitions, Topics: []string{txnIn, txnOut}})
	return txnFixture{fixture: f, broker: b, ledger: ledger, cfg: kafkalog.Config{Brokers: []string{b.Addr()}, GroupID: "kradius-cdr", SessionTimeout: 6 * time.Second}}
}

func (f txnFixture) consumer(t *testing.T) *kafkalog.TxnConsumer {
	t.Helper()
	c, err := kafkalog.NewTxnConsumer(f.cfg, txnIn, txnOut, "kradius-cdr-test", f.p.log, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// append writes accounting records as the edge does, keyed by session.
func (f txnFixture) append(t testing.TB, msgs []acctlog.Message) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.broker.Addr()), kgo.DefaultProduceTopic(txnIn))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = &kgo.Record{Key: m.Key, Value: m.Value}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// committedCDRs reads the CDR topic as billing does, read_committed, and
// counts the CDRs of each session. It first appends an end mark to every
// partition; once the reader has met them all, it has read every CDR
// committed before.
func (f txnFixture) committedCDRs(t *testing.T) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := kgo.NewClient(kgo.SeedBrokers(f.broker.Addr()), kgo.DefaultProduceTopic(txnOut), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for p := range int32(partitions) {
		if err := w.ProduceSync(ctx, &kgo.Record{Partition: p, Key: []byte(endMark)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.broker.Addr()), kgo.ConsumeTopics(txnOut),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string]int{}
	ended := map[int32]bool{}
	for len(ended) < partitions {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s: end marks of %v only: %v", txnOut, ended, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == endMark {
				ended[r.Partition] = true
				return
			}
			var c accountingv1.CDR
			if err := proto.Unmarshal(r.Value, &c); err != nil {
				t.Errorf("CDR at %d/%d: %v", r.Partition, r.Offset, err)
			}
			got[c.GetSessionId()]++
		})
	}
	return got
}

const (
	partitions = 3
	endMark    = "end-of-test"
)

// stops are n Stops of distinct sessions, and every fifth appended again:
// what a NAS retransmitting to another edge, or a retried produce, leaves
// in the accounting topic.
func stops(n int) []acctlog.Message {
	var msgs []acctlog.Message
	for i := range n {
		msgs = append(msgs, stop(fmt.Sprintf("s-%03d", i), "", nil))
	}
	for i := 0; i < n; i += 5 {
		msgs = append(msgs, stop(fmt.Sprintf("s-%03d", i), "", nil))
	}
	return msgs
}

func checkOnce(t *testing.T, got map[string]int, n int, except ...string) {
	t.Helper()
	skip := map[string]bool{}
	for _, s := range except {
		skip[s] = true
	}
	for i := range n {
		s := fmt.Sprintf("s-%03d", i)
		want := 1
		if skip[s] {
			want = 0
		}
		if got[s] != want {
			t.Errorf("session %s: %d CDRs, want %d", s, got[s], want)
		}
	}
	if len(got) > n-len(except) {
		t.Errorf("%d sessions with CDRs, want %d", len(got), n-len(except))
	}
}

// runUntil runs RunTransactional on log until transactions have committed
// stops Stops, then stops it, as SIGTERM does, and waits.
func (f txnFixture) runUntil(t *testing.T, log TxnLog, stops float64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.RunTransactional(ctx, log, f.ledger) }()
	eventually.NoError(t, "Stops committed", func() error {
		if got := counter(f.p.records.WithLabelValues(accountingv1.StatusType_STATUS_TYPE_STOP.String(), "applied")); got < stops {
			return fmt.Errorf("%v Stops committed, want %v", got, stops)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestTransactionalExactlyOnce: every Stop's CDR is on the topic once, for
// a read_committed reader, the duplicates in the accounting topic and a CDR
// published by the consumer before transactions left out.
func TestTransactionalExactlyOnce(t *testing.T) {
	f := newTxnFixture(t)
	const n = 200
	f.append(t, stops(n))
	// s-007's CDR went out before the upgrade: its done-mark is in Redis.
	var rec accountingv1.Record
	if err := proto.Unmarshal(stop("s-007", "", nil).Value, &rec); err != nil {
		t.Fatal(err)
	}
	if err := f.ledger.MarkDone(context.Background(), effectKey("cdr", &rec)); err != nil {
		t.Fatal(err)
	}
	c := f.consumer(t)
	defer c.Close()
	f.runUntil(t, c, n+n/5)
	checkOnce(t, f.committedCDRs(t), n, "s-007")
	if got := counter(f.p.transactions.WithLabelValues("committed")); got < 1 {
		t.Errorf("committed transactions: %v", got)
	}
}

// abortingLog aborts its first transactions after their CDRs and claims
// are written, as a rebalance or a failed write would.
type abortingLog struct {
	TxnLog
	aborts int
}

func (l *abortingLog) End(ctx context.Context, commit bool) (bool, error) {
	if l.aborts > 0 {
		l.aborts--
		return l.TxnLog.End(ctx, false)
	}
	return l.TxnLog.End(ctx, commit)
}

// TestAbortedTransactionComesAgainOnce: a transaction aborted after its
// CDRs were produced and claimed leaves nothing on the topic; its records
// come again, and their CDRs are published once.
func TestAbortedTransactionComesAgainOnce(t *testing.T) {
	f := newTxnFixture(t)
	const n = 120
	// Every other Stop carries a VoiceError for its own number: the
	// called-numbers effect, outside Kafka, is not rolled back by an abort.
	msgs := stops(n)
	for i := 0; i < n; i += 2 {
		msgs[i] = stop(fmt.Sprintf("s-%03d", i), fmt.Sprintf("555%07d", i), u(2))
	}
	f.append(t, msgs)
	c := f.consumer(t)
	defer c.Close()
	f.runUntil(t, &abortingLog{TxnLog: c, aborts: 2}, n+n/5)
	checkOnce(t, f.committedCDRs(t), n)
	if got := counter(f.p.transactions.WithLabelValues("aborted")); got != 2 {
		t.Errorf("aborted transactions: %v, want 2", got)
	}
	// Each effect once: applied once per session, whatever the aborts.
	if got := counter(f.p.effects.WithLabelValues("called-number", "applied")); got != n/2 {
		t.Errorf("called-number effects applied %v times, want %d", got, n/2)
	}
	for i := 0; i < n; i += 2 {
		cn, err := f.st.GetCalledNumber(context.Background(), fmt.Sprintf("555%07d", i))
		if err != nil || !cn.VoiceError {
			t.Fatalf("number %d: %+v, %v; want its voice error", i, cn, err)
		}
	}
}

// TestSuccessorAfterACutTransaction: a consumer stopped mid-transaction
// (its End never runs) is followed by another with the same transactional
// id, which fences it: the cut transaction's CDRs never reach billing, and
// the successor publishes each once.
func TestSuccessorAfterACutTransaction(t *testing.T) {
	f := newTxnFixture(t)
	const n = 150
	f.append(t, stops(n))
	first := f.consumer(t)
	cut := &cutLog{TxnLog: first}
	err := f.p.RunTransactional(context.Background(), cut, f.ledger)
	if !errors.Is(err, errCut) {
		t.Fatalf("first consumer: %v, want it cut", err)
	}
	first.Close() // leaves the group; the broker aborts what it left open
	second := f.consumer(t)
	defer second.Close()
	f.runUntil(t, second, n+n/5)
	checkOnce(t, f.committedCDRs(t), n)
}

var errCut = errors.New("cut before End")

// cutLog never ends its first transaction: the process died after
// producing.
type cutLog struct{ TxnLog }

func (l *cutLog) End(context.Context, bool) (bool, error) { return false, errCut }

func counter(c prometheus.Counter) float64 { return testutil.ToFloat64(c) }

// BenchmarkRunTransactional is the cdr target's throughput on Kafka: a
// backlog of b.N Stops (a fifth of them FaxBack called-number results)
// applied and published in transactions, on the test broker (which fsyncs
// every produce) and a real Redis. Its figure is CDRs/s.
func BenchmarkRunTransactional(b *testing.B) {
	f := newTxnFixture(b)
	msgs := make([]acctlog.Message, b.N)
	for i := range b.N {
		var result *uint64
		if i%5 == 0 {
			result = u(0)
		}
		msgs[i] = stop(fmt.Sprintf("b-%08d", i), fmt.Sprintf("555%07d", i%100000), result)
	}
	f.append(b, msgs)
	c, err := kafkalog.NewTxnConsumer(f.cfg, txnIn, txnOut, "kradius-cdr-bench", f.p.log, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { done <- f.p.RunTransactional(ctx, c, f.ledger) }()
	applied := f.p.records.WithLabelValues(accountingv1.StatusType_STATUS_TYPE_STOP.String(), "applied")
	for counter(applied) < float64(b.N) {
		time.Sleep(time.Millisecond) // polling a counter; the benchmark's own clock
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "CDRs/s")
}
