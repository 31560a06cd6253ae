package settlement

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
)

const (
	benchRecords = 1_000_000
	benchDays    = 30
	benchBatch   = 5000
)

var benchMonth = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// benchCarriers are 4 originating and 5 terminating carriers: 20 pairs.
var benchOrig, benchTerm = []string{"orig-a", "orig-b", "orig-c", "orig-d"}, []string{"term-a", "term-b", "term-c", "term-d", "term-e"}

// benchRecord is the i-th of n records spread evenly over the month, the
// pairs taken in turn.
func benchRecord(prefix string, i, n int) *settlementv1.Record {
	span := time.Duration(benchDays) * 24 * time.Hour
	pair := i % (len(benchOrig) * len(benchTerm))
	return &settlementv1.Record{
		SessionId:          fmt.Sprintf("%s%08d", prefix, i),
		OriginatingCarrier: benchOrig[pair%len(benchOrig)], TerminatingCarrier: benchTerm[pair/len(benchOrig)],
		Start:   timestamppb.New(benchMonth.Add(time.Duration(int64(span) / int64(n) * int64(i)))),
		Seconds: uint32(i % 600),
	}
}

// BenchmarkReport times a month's report by day over 1,000,000 records
// (30 days, 20 carrier pairs: 720 hours of 20 pairs each), counted once
// into each store before the timer starts.
func BenchmarkReport(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b, 24*time.Hour)
			start := time.Now()
			batch := make([]*settlementv1.Record, 0, benchBatch)
			for i := range benchRecords {
				batch = append(batch, benchRecord("r", i, benchRecords))
				if len(batch) == benchBatch || i == benchRecords-1 {
					if err := s.Add(b.Context(), batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			b.Logf("%s: %d records counted in %s", be.name, benchRecords, time.Since(start).Round(time.Millisecond))
			to := benchMonth.AddDate(0, 0, benchDays)
			var rows []Row
			for b.Loop() {
				var err error
				if rows, err = s.Report(b.Context(), benchMonth, to, Day); err != nil {
					b.Fatal(err)
				}
			}
			var calls uint64
			for _, r := range rows {
				calls += r.Calls
			}
			if want := benchDays * len(benchOrig) * len(benchTerm); len(rows) != want || calls != benchRecords {
				b.Fatalf("%d rows counting %d calls, want %d counting %d", len(rows), calls, want, benchRecords)
			}
		})
	}
}

// BenchmarkAdd times Add of new records (each a session not seen before),
// in batches of 1 (a Stop at a time) and of 100; records/s is the rate.
func BenchmarkAdd(b *testing.B) {
	for _, be := range backends(b) {
		for _, size := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch=%d", be.name, size), func(b *testing.B) {
				s := be.open(b, 24*time.Hour)
				batch := make([]*settlementv1.Record, size)
				n := 0
				for b.Loop() {
					for j := range batch {
						batch[j] = benchRecord("a", n, benchRecords)
						n++
					}
					if err := s.Add(b.Context(), batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
