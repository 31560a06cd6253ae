package kafkalog

import (
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

const (
	clientID    = "kradius"
	dialTimeout = 5 * time.Second
)

// connector is a validated Config with its TLS and SASL settings loaded,
// for the two halves of kafka-go: the Clients (the Appender's, EnsureTopics')
// speak through a Transport, the Reader through a Dialer.
type connector struct {
	cfg       Config
	transport *kafka.Transport
	dialer    *kafka.Dialer
}

func newConnector(cfg Config) (*connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	tc, err := newTLS(cfg.TLS)
	if err != nil {
		return nil, err
	}
	mech, err := newSASL(cfg.SASL)
	if err != nil {
		return nil, err
	}
	return &connector{
		cfg: cfg,
		transport: &kafka.Transport{
			ClientID:    clientID,
			DialTimeout: dialTimeout,
			TLS:         tc,
			SASL:        mech,
		},
		dialer: &kafka.Dialer{
			ClientID:      clientID,
			Timeout:       dialTimeout,
			TLS:           tc,
			SASLMechanism: mech,
		},
	}, nil
}

// identity names the SASL user for error messages, "" without SASL.
func (c *connector) identity() string {
	if c.cfg.SASL.Mechanism == "" {
		return ""
	}
	return fmt.Sprintf(" as SASL user %q (%s)", c.cfg.SASL.Username, c.cfg.SASL.Mechanism)
}

// checkTopic refuses a topic name kafka-go would only reject at the first
// write.
func checkTopic(topic string) error {
	if !legalTopic.MatchString(topic) {
		return fmt.Errorf("kafka: %q is not a Kafka topic name", topic)
	}
	return nil
}
