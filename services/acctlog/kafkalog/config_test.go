package kafkalog

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	valid := func(edit func(*Config)) Config {
		c := Config{Brokers: []string{"kafka-1:9092", "[::1]:9093"}}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		// want are substrings of the error, none for a valid config.
		want []string
	}{
		{"minimal", valid(nil), nil},
		{"everything set", valid(func(c *Config) {
			c.TLS = TLSConfig{Enabled: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", ServerName: "kafka"}
			c.SASL = SASL{Mechanism: "SCRAM-SHA-512", Username: "kradius", PasswordFile: "pw"}
			c.CreateTopics, c.Partitions, c.ReplicationFactor = true, 24, 3
			c.Topics = Topics{Accounting: "acct.v2", CDR: "cdr_v2"}
			c.BatchTimeout, c.BatchSize, c.WriteTimeout, c.GroupID = time.Millisecond, 500, time.Second, "g"
		}), nil},
		{"no brokers", Config{}, []string{"kafka.brokers: at least one host:port is required"}},
		{"broker without port", valid(func(c *Config) { c.Brokers = append(c.Brokers, "kafka-3") }),
			[]string{`kafka.brokers[2]: "kafka-3" is not host:port`}},
		{"unknown mechanism", valid(func(c *Config) { c.SASL = SASL{Mechanism: "MD5", Username: "u", PasswordFile: "p"} }),
			[]string{`kafka.sasl.mechanism: "MD5" is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`}},
		{"mechanism without credentials", valid(func(c *Config) { c.SASL.Mechanism = "PLAIN" }),
			[]string{"kafka.sasl.username: required", "kafka.sasl.password_file: required"}},
		{"credentials without mechanism", valid(func(c *Config) { c.SASL.Username = "kradius" }),
			[]string{"kafka.sasl.mechanism: empty, but a username"}},
		{"TLS files with TLS off", valid(func(c *Config) { c.TLS.CAFile = "ca.pem" }),
			[]string{"kafka.tls.enabled: false, but other kafka.tls keys are set"}},
		{"certificate without key", valid(func(c *Config) { c.TLS = TLSConfig{Enabled: true, CertFile: "c.pem"} }),
			[]string{"kafka.tls.cert_file: cert_file and key_file go together"}},
		{"negative numbers", valid(func(c *Config) {
			c.Partitions, c.ReplicationFactor, c.BatchSize = -1, -2, -3
			c.BatchTimeout, c.WriteTimeout = -time.Millisecond, -time.Second
		}), []string{
			"kafka.partitions: -1 is negative", "kafka.replication_factor: -2 is negative", "kafka.batch_size: -3 is negative",
			"kafka.batch_timeout: -1ms is negative", "kafka.write_timeout: -1s is negative",
		}},
		{"bad topic name", valid(func(c *Config) { c.Topics.Accounting = "acct/v1" }),
			[]string{`kafka.topics.accounting: "acct/v1" is not a Kafka topic name`}},
		{"one topic for both", valid(func(c *Config) { c.Topics.CDR = DefaultAccountingTopic }),
			[]string{`kafka.topics.cdr: "kradius.accounting.v1" is also the accounting topic`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v, want it to contain %q", err, w)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tt.want) {
				t.Errorf("Validate reported %d problems, want %d:\n%v", n, len(tt.want), err)
			}
		})
	}
}

func TestConfigYAMLAndDefaults(t *testing.T) {
	const doc = `
brokers: [kafka-1:9092, kafka-2:9092]
tls: {enabled: true, ca_file: /etc/kradius/kafka-ca.pem, server_name: kafka}
sasl: {mechanism: SCRAM-SHA-256, username: kradius, password_file: /etc/kradius/kafka-password}
create_topics: true
topics: {cdr: cdr.v2}
batch_timeout: 5ms
write_timeout: 3s
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	got := cfg.WithDefaults()
	want := Config{
		Brokers:           []string{"kafka-1:9092", "kafka-2:9092"},
		TLS:               TLSConfig{Enabled: true, CAFile: "/etc/kradius/kafka-ca.pem", ServerName: "kafka"},
		SASL:              SASL{Mechanism: "SCRAM-SHA-256", Username: "kradius", PasswordFile: "/etc/kradius/kafka-password"},
		CreateTopics:      true,
		Partitions:        12,
		ReplicationFactor: 3,
		Topics:            Topics{Accounting: "kradius.accounting.v1", CDR: "cdr.v2", Settlement: "kradius.settlement.v1"},
		BatchTimeout:      5 * time.Millisecond,
		BatchSize:         1000,
		WriteTimeout:      3 * time.Second,
		GroupID:           "kradius-cdr",
		SessionTimeout:    10 * time.Second,
	}
	if gotS, wantS := yamlString(t, got), yamlString(t, want); gotS != wantS {
		t.Errorf("decoded with defaults:\n%s\nwant:\n%s", gotS, wantS)
	}
}

func yamlString(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
