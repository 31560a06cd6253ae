package kafkalog

import (
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"kradius.dev/services/acctlog/kafkalog/kafkatest"
)

func TestEnsureTopics(t *testing.T) {
	for _, tt := range []struct {
		name   string
		seeded []string // topics the broker starts with
		create bool
		// wantErr is a substring of the error, "" for none.
		wantErr string
	}{
		{"creates them all when allowed", nil, true, ""},
		{"creates the missing one when allowed", []string{"acct"}, true, ""},
		{"accepts existing topics when not allowed", []string{"acct", "cdr", "settle"}, false, ""},
		{"names the missing topic when not allowed", []string{"acct", "settle"}, false, "topic cdr does not exist"},
		{"names the setting when not allowed", nil, false, "topics acct, cdr and settle do not exist: create them (see the kafkalog README) or set kafka.create_topics: true"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := kafkatest.Start(t, kafkatest.Options{Topics: tt.seeded, Partitions: 2})
			cfg := Config{
				Brokers: []string{b.Addr()}, Topics: Topics{Accounting: "acct", CDR: "cdr", Settlement: "settle"},
				CreateTopics: tt.create, Partitions: 3, ReplicationFactor: 1,
			}
			err := EnsureTopics(testContext(t), cfg)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("EnsureTopics = %v, want error containing %q", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			// Again: the topics now exist, which is no error.
			if err := EnsureTopics(testContext(t), cfg); err != nil {
				t.Errorf("second EnsureTopics: %v", err)
			}
			want := map[string]int{"acct": 3, "cdr": 3, "settle": 3}
			for _, s := range tt.seeded {
				want[s] = 2 // left as they were
			}
			for topic, n := range want {
				if got := partitionCount(t, b.Addr(), topic); got != n {
					t.Errorf("topic %s has %d partitions, want %d", topic, got, n)
				}
			}
		})
	}
}

func TestEnsureTopicsReplicationFactor(t *testing.T) {
	// The default of 3 replicas cannot be met by one broker: the error
	// must say what was asked.
	b := kafkatest.Start(t, kafkatest.Options{})
	err := EnsureTopics(testContext(t), Config{Brokers: []string{b.Addr()}, CreateTopics: true})
	if err == nil || !strings.Contains(err.Error(), "replication factor 3") {
		t.Errorf("EnsureTopics = %v, want an error naming replication factor 3", err)
	}
}

func partitionCount(t *testing.T, addr, topic string) int {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	meta, err := client.Metadata(testContext(t), &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	for _, tm := range meta.Topics {
		if tm.Name == topic && tm.Error == nil {
			return len(tm.Partitions)
		}
	}
	return 0
}
