package kafkalog

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultAccountingTopic = "kradius.accounting.v1"
	DefaultCDRTopic        = "kradius.cdr.v1"
	// DefaultSettlementTopic carries the Dialogic settlement records.
	DefaultSettlementTopic   = "kradius.settlement.v1"
	DefaultGroupID           = "kradius-cdr"
	DefaultPartitions        = 12
	DefaultReplicationFactor = 3
	// DefaultBatchTimeout is no linger: a partition's next produce request
	// leaves as soon as the previous one is answered, carrying whatever
	// queued meanwhile, so batches grow with load and an idle partition
	// adds no delay. A NAS waits for every acknowledgement, so a timer
	// would only add latency.
	DefaultBatchTimeout time.Duration = 0
	// DefaultBatchSize caps a batch well above what queues during one
	// round trip at steady load, and matters when a backlog drains (after
	// a stalled broker or a leader election): 1000 drains it in ten times
	// fewer round trips than 100, while 1000 accounting records (about
	// 300 KB) stay under the 1 MiB a batch may hold anyway.
	DefaultBatchSize    = 1000
	DefaultWriteTimeout = 10 * time.Second
	// DefaultSessionTimeout is shorter than kafka-go's 30 s: a killed
	// consumer's partitions resume on the survivors within seconds.
	DefaultSessionTimeout = 10 * time.Second
)

// SASL mechanisms.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Config is the `kafka` section of kradius's configuration. Zero values
// take the defaults above.
type Config struct {
	// Brokers are host:port bootstrap addresses; the rest of the cluster is
	// learnt from them.
	Brokers []string  `yaml:"brokers"`
	TLS     TLSConfig `yaml:"tls"`
	SASL    SASL      `yaml:"sasl"`
	// CreateTopics lets EnsureTopics create missing topics; without it a
	// missing topic is an error at start.
	CreateTopics      bool   `yaml:"create_topics"`
	Partitions        int    `yaml:"partitions"`
	ReplicationFactor int    `yaml:"replication_factor"`
	Topics            Topics `yaml:"topics"`
	// BatchTimeout is an optional linger: how long a partition's sender
	// waits for more records before a batch that is not full. Zero sends
	// at once; batches then form from what queues while the previous
	// request is in flight. BatchSize caps the records in one request.
	BatchTimeout time.Duration `yaml:"batch_timeout"`
	BatchSize    int           `yaml:"batch_size"`
	// WriteTimeout bounds one produce request; Append's context bounds the
	// whole append, retries included.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// GroupID is the consumer group of the cdr target.
	GroupID string `yaml:"group_id"`
	// TransactionalID names the cdr target's Kafka transactions; empty is
	// "kradius-cdr-<host name>-<pid>". It must be unique to each consumer;
	// kept across its restarts (a StatefulSet's pod name, pid 1), it lets a
	// restarted consumer fence the transaction it left open at once rather
	// than after kafkalog.TransactionTimeout.
	TransactionalID string `yaml:"transactional_id"`
	// SessionTimeout is how long the group waits for a silent member (a
	// killed cdr pod) before giving its partitions to the others.
	SessionTimeout time.Duration `yaml:"session_timeout"`
}

// TLSConfig secures the connections to the brokers.
type TLSConfig struct {
	Enabled bool `yaml:"enabled"`
	// CAFile verifies the brokers; empty means the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate, for brokers that
	// authenticate clients by TLS.
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify accepts any broker certificate: for labs only,
	// since anyone on the path can then read and forge the log.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// SASL authenticates kradius to the brokers.
type SASL struct {
	// Mechanism is "" (no SASL), PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// PasswordFile holds the password, read at start; a trailing newline
	// is not part of it.
	PasswordFile string `yaml:"password_file"`
}

// Topics names the topics.
type Topics struct {
	Accounting string `yaml:"accounting"`
	CDR        string `yaml:"cdr"`
	// Settlement carries the inter-carrier settlement records (Dialogic),
	// produced with the CDRs.
	Settlement string `yaml:"settlement"`
}

// WithDefaults returns c with its zero values replaced by the defaults:
// the topic names to give NewAppender and NewConsumer, for instance.
func (c Config) WithDefaults() Config {
	setDefault(&c.Topics.Accounting, DefaultAccountingTopic)
	setDefault(&c.Topics.CDR, DefaultCDRTopic)
	setDefault(&c.Topics.Settlement, DefaultSettlementTopic)
	setDefault(&c.GroupID, DefaultGroupID)
	setDefault(&c.Partitions, DefaultPartitions)
	setDefault(&c.ReplicationFactor, DefaultReplicationFactor)
	setDefault(&c.BatchTimeout, DefaultBatchTimeout)
	setDefault(&c.BatchSize, DefaultBatchSize)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.SessionTimeout, DefaultSessionTimeout)
	return c
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// legalTopic is what Kafka accepts as a topic name.
var legalTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Validate reports every bad key, each named as in the YAML file.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("kafka.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.Brokers) == 0 {
		bad("brokers", "at least one host:port is required")
	}
	for i, b := range c.Brokers {
		if host, port, err := net.SplitHostPort(b); err != nil || host == "" || port == "" {
			bad(fmt.Sprintf("brokers[%d]", i), "%q is not host:port", b)
		}
	}
	c.TLS.validate(bad)
	c.SASL.validate(bad)
	// Slices, not maps, so that the errors come in the file's order.
	for _, f := range []struct {
		key string
		n   int
	}{{"partitions", c.Partitions}, {"replication_factor", c.ReplicationFactor}, {"batch_size", c.BatchSize}} {
		if f.n < 0 {
			bad(f.key, "%d is negative", f.n)
		}
	}
	for _, f := range []struct {
		key string
		d   time.Duration
	}{{"batch_timeout", c.BatchTimeout}, {"write_timeout", c.WriteTimeout}} {
		if f.d < 0 {
			bad(f.key, "%s is negative", f.d)
		}
	}
	d := c.WithDefaults()
	for _, f := range []struct{ key, topic string }{{"topics.accounting", d.Topics.Accounting}, {"topics.cdr", d.Topics.CDR}, {"topics.settlement", d.Topics.Settlement}} {
		if !legalTopic.MatchString(f.topic) {
			bad(f.key, "%q is not a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)", f.topic)
		}
	}
	if d.Topics.Accounting == d.Topics.CDR {
		bad("topics.cdr", "%q is also the accounting topic", d.Topics.CDR)
	}
	if d.Topics.Settlement == d.Topics.Accounting || d.Topics.Settlement == d.Topics.CDR {
		bad("topics.settlement", "%q is also the accounting or the CDR topic", d.Topics.Settlement)
	}
	return errors.Join(errs...)
}

func (t TLSConfig) validate(bad func(key, format string, args ...any)) {
	if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		// Settings that would be ignored suggest the operator meant TLS on.
		bad("tls.enabled", "false, but other kafka.tls keys are set")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("tls.cert_file", "cert_file and key_file go together")
	}
}

func (s SASL) validate(bad func(key, format string, args ...any)) {
	switch s.Mechanism {
	case "":
		if s.Username != "" || s.PasswordFile != "" {
			bad("sasl.mechanism", "empty, but a username or password_file is set")
		}
		return
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
	default:
		bad("sasl.mechanism", "%q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism)
	}
	if s.Username == "" {
		bad("sasl.username", "required with a SASL mechanism")
	}
	if s.PasswordFile == "" {
		bad("sasl.password_file", "required with a SASL mechanism")
	}
}
