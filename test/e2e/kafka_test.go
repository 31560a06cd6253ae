package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"kradius.dev/services/acctlog/kafkalog"
	"kradius.dev/services/acctlog/kafkalog/kafkatest"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore"
	redisrecords "kradius.dev/services/store/records/redis"
	"kradius.dev/test/cdrtopic"
)

// kafkaCluster is the distributed shape with the accounting path: Redis, the
// test Kafka broker, accounts, dids, an edge and a cdr consumer.
type kafkaCluster struct {
	*cluster
	broker *kafkatest.Broker
	cdr    *server
}

func startKafkaCluster(t *testing.T, args ...string) *kafkaCluster {
	t.Helper()
	broker := kafkatest.Start(t, kafkatest.Options{Partitions: 4})
	section := fmt.Sprintf("  log: kafka\n  kafka:\n    brokers: [%s]\n    create_topics: true\n    replication_factor: 1\n    partitions: 4\n", broker.Addr())
	k := &kafkaCluster{cluster: startClusterOf(t, &cluster{accountingYAML: section, args: args}), broker: broker}
	k.cdr = k.startCDR()
	return k
}

func (k *kafkaCluster) startCDR() *server {
	return launch(k.t, append([]string{"-config", k.cfg, "-target=cdr", "-http.listen", "127.0.0.1:0"}, k.args...), "cdr", "ops")
}

// nas is a FaxBack port server's accounting: it sends a Stop and resends the
// same packet every 200 ms until it is answered (seed: "Retransmits").
func nasStop(ctx context.Context, addr, session, dial, result string) error {
	p := radius.New(radius.CodeAccountingRequest, []byte("testing123"))
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(p, session)
	rfc2865.UserName_SetString(p, "account")
	sub := []byte{34, byte(len(dial) + 2)}
	sub = append(sub, dial...)
	if result != "" {
		code := map[string]byte{"Success": 0, "FaxError": 1, "VoiceError": 2}[result]
		sub = append(sub, 62, 6, 0, 0, 0, code)
	}
	p.Add(rfc2865.VendorSpecific_Type, append(radius.Attribute{0, 0, 0x77, 0xe6}, sub...))
	reply, err := (&radius.Client{Retry: 200 * time.Millisecond}).Exchange(ctx, p, addr)
	if err != nil {
		return err
	}
	if reply.Code != radius.CodeAccountingResponse {
		return fmt.Errorf("answered %v", reply.Code)
	}
	return nil
}

// readCDRs waits until the cdr consumers have committed every accounting
// record appended so far, then reads kradius.cdr.v1 from the start as
// billing does, read_committed, and returns how many times each session
// appeared (test/cdrtopic). want is the number of distinct sessions the
// caller expects, for the failure message.
func readCDRs(t *testing.T, broker string, want int) map[string]int {
	return readCDRsWithin(t, broker, want, eventually.Limit)
}

func readCDRsWithin(t *testing.T, broker string, want int, limit time.Duration) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	seen, err := cdrtopic.Read(ctx, broker, kafkalog.DefaultGroupID)
	if err != nil {
		t.Fatalf("reading kradius.cdr.v1 (want %d distinct CDRs) within %s: %v", want, limit, err)
	}
	return seen
}

// waitConsumed waits until the cdr consumer group's committed offsets reach
// the end of the accounting topic.
func waitConsumed(ctx context.Context, t *testing.T, cl *kgo.Client) {
	t.Helper()
	if err := cdrtopic.WaitConsumed(ctx, cl, kafkalog.DefaultGroupID); err != nil {
		t.Fatal(err)
	}
}

func checkExactlyOnce(t *testing.T, seen map[string]int, sessions []string) {
	t.Helper()
	for _, s := range sessions {
		if seen[s] != 1 {
			t.Errorf("session %s appears %d times on kradius.cdr.v1, want once", s, seen[s])
		}
	}
	if len(seen) != len(sessions) {
		t.Errorf("%d distinct CDRs, want %d", len(seen), len(sessions))
	}
}

// TestKafkaBrokerDown stops the broker while Stops arrive: no
// Accounting-Response while it is down, the NAS's retransmissions are
// accepted after the restart, and every CDR appears exactly once.
func TestKafkaBrokerDown(t *testing.T) {
	k := startKafkaCluster(t)
	acct := k.edge.addr("acct")
	var sessions []string
	ctx := context.Background()
	for i := range 5 {
		s := fmt.Sprintf("before-%d", i)
		sessions = append(sessions, s)
		ctx1, cancel := context.WithTimeout(ctx, eventually.Limit)
		if err := nasStop(ctx1, acct, s, fmt.Sprintf("55580000%02d", i), ""); err != nil {
			t.Fatalf("Stop %s: %v", s, err)
		}
		cancel()
	}

	k.broker.Stop()
	var wg sync.WaitGroup
	answered := make(chan string, 5)
	for i := range 5 {
		s := fmt.Sprintf("during-%d", i)
		sessions = append(sessions, s)
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 2*eventually.Limit)
			defer cancel()
			if err := nasStop(ctx, acct, s, fmt.Sprintf("55590000%02d", i), ""); err == nil {
				answered <- s
			}
		})
	}
	// The edge has given up five appends with the broker down: not one
	// Stop may have been acknowledged by then.
	k.edge.waitMetricFunc(`kradius_edge_drops_total{listener="acct",reason="accounting_log_error"}`, ">= 5", func(v float64) bool { return v >= 5 })
	if n := len(answered); n != 0 {
		t.Fatalf("%d Stops acknowledged while the broker was down", n)
	}

	k.broker.Restart()
	wg.Wait()
	if n := len(answered); n != 5 {
		t.Fatalf("after the restart %d of 5 retransmitted Stops were acknowledged", n)
	}
	checkExactlyOnce(t, readCDRs(t, k.broker.Addr(), len(sessions)), sessions)
}

// TestKafkaDuplicatesAtTwoEdges sends one session's Stop to two edge
// processes, as a port server failing over does: one CDR.
func TestKafkaDuplicatesAtTwoEdges(t *testing.T) {
	k := startKafkaCluster(t)
	second := k.addEdge()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
	defer cancel()
	for _, e := range []*server{k.edge, second, k.edge} {
		if err := nasStop(ctx, e.addr("acct"), "dup-session", "5557000001", "Success"); err != nil {
			t.Fatal(err)
		}
	}
	if err := nasStop(ctx, second.addr("acct"), "other-session", "5557000002", ""); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, readCDRs(t, k.broker.Addr(), 2), []string{"dup-session", "other-session"})
}

// TestKafkaConsumerCrash kills the cdr process while it works through a
// backlog and starts it again: no CDR is lost, and each called-number effect
// is recorded once.
func TestKafkaConsumerCrash(t *testing.T) {
	k := startKafkaCluster(t)
	// A backlog: the consumer is stopped while 40 Stops are acknowledged.
	k.cdr.cmd.Process.Kill()
	<-k.cdr.exited
	acct := k.edge.addr("acct")
	var sessions []string
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []error
	for i := range 40 {
		s := fmt.Sprintf("crash-%02d", i)
		sessions = append(sessions, s)
		wg.Go(func() {
			if err := nasStop(ctx, acct, s, fmt.Sprintf("55560000%02d", i), "VoiceError"); err != nil {
				mu.Lock()
				failed = append(failed, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d Stops not acknowledged: %v", len(failed), failed[0])
	}

	// Start the consumer, kill it mid-backlog, start it again.
	k.cdr = k.startCDR()
	k.cdr.waitMetricFunc(`kradius_cdr_effects_total{effect="cdr",result="applied"}`, ">= 5", func(v float64) bool { return v >= 5 })
	k.cdr.cmd.Process.Kill()
	<-k.cdr.exited
	k.cdr = k.startCDR()

	// The killed member holds its partitions until its session times out;
	// its open transaction aborts, and its CDRs come out once.
	checkExactlyOnce(t, readCDRsWithin(t, k.broker.Addr(), len(sessions), 90*time.Second), sessions)
	// Each called-number effect is done once: one done-mark per Stop, and
	// every number flagged.
	rdb := redis.NewClient(&redis.Options{Addr: k.redis.Addr()})
	defer rdb.Close()
	marks, err := rdb.Keys(context.Background(), "{kradius}:done:called-number/2/*").Result()
	if err != nil || len(marks) != len(sessions) {
		t.Errorf("%d called-number done-marks (%v), want %d", len(marks), err, len(sessions))
	}
	rs, err := redisrecords.New(rdb, "{kradius}", fbstore.Kinds)
	if err != nil {
		t.Fatal(err)
	}
	numbers := fbstore.New(rs, fbdata.Options{})
	for i := range 40 {
		n, err := numbers.GetCalledNumber(context.Background(), fmt.Sprintf("55560000%02d", i))
		if err != nil || !n.VoiceError {
			t.Errorf("number %d after its VoiceError Stop: called-numbers entry %+v, %v; want a voice error", i, n, err)
			break
		}
	}
}
