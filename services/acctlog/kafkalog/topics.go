package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics makes sure the accounting and CDR topics exist, and is the
// check at start that the brokers answer and accept the credentials. With
// kafka.create_topics it creates a missing topic (an existing one is left
// as it is, whatever its settings); without, a missing topic is an error.
func EnsureTopics(ctx context.Context, cfg Config) error {
	c, err := newConnector(cfg)
	if err != nil {
		return err
	}
	defer c.transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(c.cfg.Brokers...), Transport: c.transport}
	topics := []string{c.cfg.Topics.Accounting, c.cfg.Topics.CDR, c.cfg.Topics.Settlement}

	// Metadata sent through the Client never asks the broker to create a
	// topic, even where auto.create.topics.enable is on.
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		// Named here, since a broker that rejects the credentials may just
		// close the connection, leaving only an EOF to report.
		return fmt.Errorf("kafka: reading topic metadata from %v%s: %w", c.cfg.Brokers, c.identity(), err)
	}
	var missing []string
	for _, t := range meta.Topics {
		switch {
		case t.Error == nil:
		case errors.Is(t.Error, kafka.UnknownTopicOrPartition):
			missing = append(missing, t.Name)
		default:
			return fmt.Errorf("kafka: topic %s: %w", t.Name, t.Error)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if !c.cfg.CreateTopics {
		what, it := "topic "+missing[0]+" does", "it"
		if len(missing) > 1 {
			last := len(missing) - 1
			what, it = "topics "+strings.Join(missing[:last], ", ")+" and "+missing[last]+" do", "them"
		}
		return fmt.Errorf("kafka: %s not exist: create %s (see the kafkalog README) or set kafka.create_topics: true", what, it)
	}
	req := &kafka.CreateTopicsRequest{}
	for _, name := range missing {
		req.Topics = append(req.Topics, kafka.TopicConfig{
			Topic:             name,
			NumPartitions:     c.cfg.Partitions,
			ReplicationFactor: c.cfg.ReplicationFactor,
		})
	}
	// The Client sends CreateTopics to the controller.
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("kafka: creating topics %v: %w", missing, err)
	}
	for _, name := range missing {
		// Another kradius starting at the same time may have won.
		if err := resp.Errors[name]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("kafka: creating topic %s (partitions %d, replication factor %d): %w",
				name, c.cfg.Partitions, c.cfg.ReplicationFactor, err)
		}
	}
	return nil
}
