package kafkalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/kafkalog/kafkatest"
)

// testTimeout guards against a hang; no test expects to come near it.
const testTimeout = 60 * time.Second

// startBroker starts a broker and creates the two topics with partitions
// and the one replica a single broker can hold.
func startBroker(t testing.TB, o kafkatest.Options, partitions int) (*kafkatest.Broker, Config) {
	t.Helper()
	b := kafkatest.Start(t, o)
	cfg := Config{Brokers: []string{b.Addr()}, CreateTopics: true, Partitions: partitions, ReplicationFactor: 1}
	if err := EnsureTopics(testContext(t), cfg); err != nil {
		t.Fatalf("EnsureTopics: %v", err)
	}
	return b, cfg
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newAppender(t testing.TB, cfg Config) *Appender {
	t.Helper()
	a, err := NewAppender(cfg, cfg.WithDefaults().Topics.Accounting)
	if err != nil {
		t.Fatalf("NewAppender: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func newConsumer(t testing.TB, cfg Config) *Consumer {
	t.Helper()
	c, err := NewConsumer(cfg, cfg.WithDefaults().Topics.Accounting)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// record is one test record: key k<session>, value v<session>.<seq>.
type record struct{ key, value string }

// session is one session's records in order.
func session(s, n int) []record {
	rs := make([]record, n)
	for seq := range rs {
		rs[seq] = record{fmt.Sprintf("k%d", s), fmt.Sprintf("v%d.%d", s, seq)}
	}
	return rs
}

// records interleaves sessions, as a busy NAS does.
func records(sessions, perSession int) []record {
	var rs []record
	for seq := range perSession {
		for s := range sessions {
			rs = append(rs, session(s, seq+1)[seq])
		}
	}
	return rs
}

func valuesOf(rs []record) []string {
	vs := make([]string, len(rs))
	for i, r := range rs {
		vs[i] = r.value
	}
	return vs
}

func appendAll(t testing.TB, a acctlog.Appender, rs []record) {
	t.Helper()
	ctx := testContext(t)
	for _, r := range rs {
		if err := a.Append(ctx, []byte(r.key), []byte(r.value)); err != nil {
			t.Fatalf("Append(%s, %s): %v", r.key, r.value, err)
		}
	}
}

func fetchN(t testing.TB, c acctlog.Consumer, n int) []acctlog.Message {
	t.Helper()
	ctx := testContext(t)
	msgs := make([]acctlog.Message, 0, n)
	for range n {
		m, err := c.Fetch(ctx)
		if err != nil {
			t.Fatalf("Fetch after %d of %d messages: %v", len(msgs), n, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// fetchUntil fetches until every one of want has come, in any order and
// among any others, and returns the values seen.
func fetchUntil(t testing.TB, c acctlog.Consumer, want []record) map[string]bool {
	t.Helper()
	ctx := testContext(t)
	got := map[string]bool{}
	for _, r := range want {
		for !got[r.value] {
			m, err := c.Fetch(ctx)
			if err != nil {
				t.Fatalf("Fetch: %v; record %s=%s never came (%d others did)", err, r.key, r.value, len(got))
			}
			got[string(m.Value)] = true
		}
	}
	return got
}

func values(msgs []acctlog.Message) []string {
	vs := make([]string, len(msgs))
	for i, m := range msgs {
		vs[i] = string(m.Value)
	}
	return vs
}

func passwordFile(t testing.TB, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kafka-password")
	// The newline an editor adds is not part of the password.
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
