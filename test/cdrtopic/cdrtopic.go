// Package cdrtopic reads kradius.cdr.v1 as billing does (read_committed,
// from the start) for tests that count each session's CDRs: a session
// missing is a lost record, one seen twice a duplicate. It knows when it
// has read everything: it first waits until the cdr consumer group has
// committed every accounting record appended so far, then appends an end
// mark to each CDR partition and reads until it has met them all.
package cdrtopic

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/acctlog/kafkalog"
)

// EndMark is the key of the records Read appends; billing skips it as a
// record it cannot decode, and Read as the end of a partition.
const EndMark = "e2e-end-of-read"

// pollPause is the pause between two looks at the group's offsets.
const pollPause = 50 * time.Millisecond

// Read returns how many times each session's CDR appears on the CDR topic,
// once the consumer group has committed every accounting record appended
// before the call. ctx bounds the whole read.
func Read(ctx context.Context, broker, group string) (map[string]int, error) {
	w, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic(kafkalog.DefaultCDRTopic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return nil, err
	}
	defer w.Close()
	partitions, err := PartitionCount(ctx, w, kafkalog.DefaultCDRTopic)
	if err != nil {
		return nil, err
	}
	if err := WaitConsumed(ctx, w, group); err != nil {
		return nil, err
	}
	for p := range int32(partitions) {
		if err := w.ProduceSync(ctx, &kgo.Record{Partition: p, Key: []byte(EndMark)}).FirstErr(); err != nil {
			return nil, fmt.Errorf("end mark on partition %d: %w", p, err)
		}
	}
	r, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(kafkalog.DefaultCDRTopic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	seen := map[string]int{}
	ended := map[int32]bool{}
	var bad error
	for len(ended) < partitions {
		fetches := r.PollFetches(ctx)
		if ctx.Err() != nil {
			return seen, fmt.Errorf("read %d distinct CDRs and the end marks of %d of %d partitions: %w", len(seen), len(ended), partitions, ctx.Err())
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			if string(rec.Key) == EndMark {
				ended[rec.Partition] = true
				return
			}
			var cdr accountingv1.CDR
			if err := proto.Unmarshal(rec.Value, &cdr); err != nil && bad == nil {
				bad = fmt.Errorf("undecodable CDR at %d/%d: %w", rec.Partition, rec.Offset, err)
			}
			seen[cdr.GetSessionId()]++
		})
		if bad != nil {
			return seen, bad
		}
	}
	return seen, nil
}

// PartitionCount is how many partitions topic has.
func PartitionCount(ctx context.Context, cl *kgo.Client, topic string) (int, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	meta, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(meta.Topics) != 1 || len(meta.Topics[0].Partitions) == 0 {
		return 0, fmt.Errorf("metadata of %s: no partitions", topic)
	}
	return len(meta.Topics[0].Partitions), nil
}

// WaitConsumed waits until the consumer group's committed offsets reach
// the end of the accounting topic: the cdr consumers' transactions, which
// commit offsets with CDRs, have committed every record appended before.
func WaitConsumed(ctx context.Context, cl *kgo.Client, group string) error {
	for {
		end, committed, err := accountingProgress(ctx, cl, group)
		if err == nil && maps.Equal(end, committed) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("group %s did not commit the accounting topic: end %v, committed %v, %v: %w", group, end, committed, err, ctx.Err())
		case <-time.After(pollPause): // polling the broker, within ctx's deadline
		}
	}
}

// Progress is the accounting topic's end offsets and the group's committed
// offsets, by partition (those with records): a test that finds CDRs
// missing can tell records the broker lost from records not consumed.
func Progress(ctx context.Context, cl *kgo.Client, group string) (end, committed map[int32]int64, err error) {
	return accountingProgress(ctx, cl, group)
}

// accountingProgress is the accounting topic's end offsets, and the
// group's committed offsets, by partition (those with records).
func accountingProgress(ctx context.Context, cl *kgo.Client, group string) (end, committed map[int32]int64, err error) {
	n, err := PartitionCount(ctx, cl, kafkalog.DefaultAccountingTopic)
	if err != nil {
		return nil, nil, err
	}
	lo := kmsg.NewPtrListOffsetsRequest()
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = kafkalog.DefaultAccountingTopic
	of := kmsg.NewPtrOffsetFetchRequest()
	of.Group = group
	ot := kmsg.NewOffsetFetchRequestTopic()
	ot.Topic = kafkalog.DefaultAccountingTopic
	for p := range int32(n) {
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Partition, lp.Timestamp = p, -1
		lt.Partitions = append(lt.Partitions, lp)
		ot.Partitions = append(ot.Partitions, p)
	}
	lo.Topics = append(lo.Topics, lt)
	of.Topics = append(of.Topics, ot)
	lr, err := lo.RequestWith(ctx, cl)
	if err != nil {
		return nil, nil, err
	}
	// A partition the broker cannot answer for yet (just restarted) is an
	// unknown position, not an empty one: both maps would be empty, and
	// equal, before anything was consumed.
	end = map[int32]int64{}
	for _, t := range lr.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, nil, fmt.Errorf("end offset of partition %d: %w", p.Partition, err)
			}
			if p.Offset > 0 {
				end[p.Partition] = p.Offset
			}
		}
	}
	or, err := of.RequestWith(ctx, cl)
	if err != nil {
		return nil, nil, err
	}
	if err := kerr.ErrorForCode(or.ErrorCode); err != nil {
		return nil, nil, fmt.Errorf("committed offsets: %w", err)
	}
	committed = map[int32]int64{}
	for _, t := range or.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, nil, fmt.Errorf("committed offset of partition %d: %w", p.Partition, err)
			}
			if p.Offset > 0 {
				committed[p.Partition] = p.Offset
			}
		}
	}
	return end, committed, nil
}
