package kafkalog

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kradius.dev/services/acctlog/kafkalog/kafkatest"
)

// BenchmarkAppendParallel appends from many goroutines, as the edge does
// under load, each record about the size of an Accounting-Request, and
// reports acknowledged records per second, records per produce request and
// the latency of an Append. The test broker fsyncs every partition's batch,
// one request at a time, so records per request decide the throughput; with
// one request in flight per partition, fewer partitions make larger batches.
func BenchmarkAppendParallel(b *testing.B) {
	for _, partitions := range []int{4, DefaultPartitions} {
		b.Run(fmt.Sprintf("partitions=%d", partitions), func(b *testing.B) {
			a := benchAppender(b, partitions)
			value := []byte(strings.Repeat("x", 300))
			var session atomic.Int64
			ctx := testContext(b)
			var (
				mu        sync.Mutex
				latencies []time.Duration
			)
			b.SetParallelism(32) // goroutines per GOMAXPROCS: NASes waiting on their Stops
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					key := fmt.Appendf(nil, "session-%d", session.Add(1))
					start := time.Now()
					if err := a.Append(ctx, key, value); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if s := a.Stats(); s.Produces > 0 {
				b.ReportMetric(float64(s.Records)/float64(s.Produces), "records/produce")
			}
			slices.Sort(latencies)
			if n := len(latencies); n > 0 {
				ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
				b.ReportMetric(ms(latencies[n/2]), "p50-ms")
				b.ReportMetric(ms(latencies[n*99/100]), "p99-ms")
			}
		})
	}
}

// BenchmarkAppend appends one record at a time, as at low load: ns/op is
// the latency of an Append, which no timer should add to.
func BenchmarkAppend(b *testing.B) {
	a := benchAppender(b, DefaultPartitions)
	value := []byte(strings.Repeat("x", 300))
	ctx := testContext(b)
	b.ResetTimer()
	for i := range b.N {
		if err := a.Append(ctx, fmt.Appendf(nil, "session-%d", i), value); err != nil {
			b.Fatal(err)
		}
	}
}

// benchAppender returns a connected Appender with its counters at zero.
func benchAppender(b *testing.B, partitions int) *Appender {
	_, cfg := startBroker(b, kafkatest.Options{}, partitions)
	a := newAppender(b, cfg)
	// Connect and read the partitions before timing.
	if err := a.Append(testContext(b), []byte("warm-up"), []byte("x")); err != nil {
		b.Fatal(err)
	}
	a.Stats()
	return a
}
