package journal

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// benchValue is the size of a typical fax CDR Accounting-Request.
var benchValue = []byte(strings.Repeat("x", 300))

// benchSegBytes keeps the spares quick to prepare between rolls.
const benchSegBytes = 8 << 20

// benchJournal opens a journal whose records go to spare segments, as they
// do after its first roll, or, with growing, to a segment that grows with
// each write, as the first one does.
func benchJournal(b *testing.B, growing bool) (*Journal, *atomic.Int64) {
	var fsyncs atomic.Int64
	o := Options{SegmentBytes: benchSegBytes, Logf: b.Logf, syncData: func(f *os.File) error {
		fsyncs.Add(1)
		return fdatasync(f)
	}}
	o.noSpare = growing
	j := openT(b, b.TempDir(), o)
	if !growing {
		// One record that fills the first segment: the next rolls to a spare.
		if err := j.Append(context.Background(), nil, make([]byte, benchSegBytes-frameLen(0, 0, trace.SpanContext{}))); err != nil {
			b.Fatal(err)
		}
		waitSpare(b, j)
		fsyncs.Store(0)
	}
	return j, &fsyncs
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
	b.Run("spare", func(b *testing.B) { benchmarkAppend(b, false) })
	b.Run("growing", func(b *testing.B) { benchmarkAppend(b, true) })
}

func benchmarkAppend(b *testing.B, growing bool) {
	j, fsyncs := benchJournal(b, growing)
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
	j, fsyncs := benchJournal(b, false)
	key := []byte("session-000000")
	for b.Loop() {
		if err := j.Append(context.Background(), key, benchValue); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, fsyncs)
}
