package journal

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// benchValue is the size of a typical fax CDR Accounting-Request.
var benchValue = []byte(strings.Repeat("x", 300))

func benchJournal(b *testing.B) (*Journal, *atomic.Int64) {
	var fsyncs atomic.Int64
	count := func(f *os.File) error {
		if strings.HasSuffix(f.Name(), segSuffix) {
			fsyncs.Add(1)
		}
		return f.Sync()
	}
	return openT(b, b.TempDir(), Options{syncFile: count, Logf: b.Logf}), &fsyncs
}

func reportRates(b *testing.B, fsyncs *atomic.Int64) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if n := fsyncs.Load(); n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "records/fsync")
	}
}

// BenchmarkAppend runs 32 appenders per GOMAXPROCS (64 on the two-core
// target), the shape of a busy edge: they share fsyncs.
func BenchmarkAppend(b *testing.B) {
	j, fsyncs := benchJournal(b)
	key := []byte("session-000000")
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := j.Append(context.Background(), key, benchValue); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRates(b, fsyncs)
}

// BenchmarkAppendSequential is one appender: every record pays a whole
// fsync, the floor group commit improves on.
func BenchmarkAppendSequential(b *testing.B) {
	j, fsyncs := benchJournal(b)
	key := []byte("session-000000")
	for b.Loop() {
		if err := j.Append(context.Background(), key, benchValue); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, fsyncs)
}
