package kafkalog

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"kradius.dev/services/acctlog/kafkalog/kafkatest"
)

func TestSASL(t *testing.T) {
	for _, mech := range []string{MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512} {
		t.Run(mech, func(t *testing.T) {
			b := kafkatest.Start(t, kafkatest.Options{SASLUser: "kradius", SASLPassword: "s3cret=,x", SASLMechanism: mech})
			cfg := Config{
				Brokers:      []string{b.Addr()},
				CreateTopics: true, Partitions: 1, ReplicationFactor: 1,
				SASL: SASL{Mechanism: mech, Username: "kradius", PasswordFile: passwordFile(t, "s3cret=,x")},
			}
			t.Run("right password", func(t *testing.T) {
				if err := EnsureTopics(testContext(t), cfg); err != nil {
					t.Fatalf("EnsureTopics: %v", err)
				}
				rs := records(2, 1)
				appendAll(t, newAppender(t, cfg), rs)
				c := newConsumer(t, cfg)
				msgs := fetchN(t, c, len(rs))
				if got := values(msgs); !slices.Equal(got, []string{rs[0].value, rs[1].value}) {
					t.Errorf("fetched %v", got)
				}
				if err := c.Commit(testContext(t), msgs...); err != nil {
					t.Errorf("Commit: %v", err)
				}
			})
			t.Run("wrong password", func(t *testing.T) {
				bad := cfg
				bad.SASL.PasswordFile = passwordFile(t, "guess")
				// Kafka answers SASL_AUTHENTICATION_FAILED; kfake closes
				// the connection instead, which kafka-go reports as an
				// unexpected EOF.
				rejected := func(err error) bool {
					return errors.Is(err, kafka.SASLAuthenticationFailed) || errors.Is(err, io.ErrUnexpectedEOF)
				}
				err := EnsureTopics(testContext(t), bad)
				if !rejected(err) || !strings.Contains(err.Error(), `as SASL user "kradius" (`+mech+`)`) {
					t.Errorf("EnsureTopics = %v, want a rejection naming the SASL user", err)
				}
				t.Logf("EnsureTopics: %v", err)
				err = newAppender(t, bad).Append(testContext(t), []byte("k"), []byte("v"))
				if !rejected(err) {
					t.Errorf("Append = %v, want a rejection", err)
				}
			})
		})
	}
}
