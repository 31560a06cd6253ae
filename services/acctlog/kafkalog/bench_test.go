package kafkalog

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kradius.dev/services/acctlog/kafkalog/kafkatest"
)

// BenchmarkAppendParallel appends from many goroutines, as the edge does
// under load, each record about the size of an Accounting-Request, and
// reports acknowledged records per second and the records per produce
// request. The test broker fsyncs every batch, one at a time, so the batch
// size decides the throughput; the batch timeout decides the batch size.
func BenchmarkAppendParallel(b *testing.B) {
	for _, batchTimeout := range []time.Duration{DefaultBatchTimeout, 10 * time.Millisecond} {
		b.Run(fmt.Sprintf("batch_timeout=%s", batchTimeout), func(b *testing.B) {
			_, cfg := startBroker(b, kafkatest.Options{}, DefaultPartitions)
			cfg.BatchTimeout = batchTimeout
			a := newAppender(b, cfg)
			value := []byte(strings.Repeat("x", 300))
			var session atomic.Int64
			ctx := testContext(b)
			a.Stats()            // reset the counters
			b.SetParallelism(32) // goroutines per GOMAXPROCS: NASes waiting on their Stops
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					key := fmt.Appendf(nil, "session-%d", session.Add(1))
					if err := a.Append(ctx, key, value); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if s := a.Stats(); s.Writes > 0 {
				b.ReportMetric(float64(s.Messages)/float64(s.Writes), "records/produce")
			}
		})
	}
}
