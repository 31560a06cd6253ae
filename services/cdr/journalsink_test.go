package cdr

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/journal"
)

// crashingLedger fails the first marking of CDRs, as a process killed
// between appending a batch's CDRs and writing their done-marks would
// leave them.
type crashingLedger struct {
	*BoltLedger
	crashed bool
}

var errKilled = errors.New("killed before the done-marks")

func (l *crashingLedger) MarkDoneMany(ctx context.Context, keys []string) error {
	if !l.crashed && len(keys) > 0 && strings.HasPrefix(keys[0], "cdr/") {
		l.crashed = true
		return errKilled
	}
	return l.BoltLedger.MarkDoneMany(ctx, keys)
}

// TestJournalSinkCrashBetweenCDRAndMark: -target=all killed after a batch's
// CDRs are in the CDR journal but before their done-marks: after the
// restart, Recover marks them from the journal, and the records, applied
// again, publish no CDR twice.
func TestJournalSinkCrashBetweenCDRAndMark(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "cdr")
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]acctlog.Message, 0, 30)
	for i := range 30 {
		batch = append(batch, stop(fmt.Sprintf("s-%02d", i), "", nil))
	}

	// The first life: the CDRs are appended, the marks fail.
	f.p.ledger = &crashingLedger{BoltLedger: f.ledge}
	sink, err := NewJournalSink(j, f.p.ledger)
	if err != nil {
		t.Fatal(err)
	}
	f.p.cdrs = sink
	if err := f.p.applyBatch(ctx, batch); !errors.Is(err, errKilled) {
		t.Fatalf("first life: %v, want the crash", err)
	}
	sink.Close()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	// The second life: the journal reopened, the marks recovered from it,
	// the same records applied again.
	if j, err = journal.Open(dir, journal.Options{}); err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	f.p.ledger = f.ledge
	if sink, err = NewJournalSink(j, f.ledge); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	n, err := sink.Recover(ctx)
	if err != nil || n != 30 {
		t.Fatalf("Recover: %d, %v; want the 30 CDRs marked", n, err)
	}
	if n, err := sink.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("second Recover: %d, %v; want nothing left", n, err)
	}
	f.p.cdrs = sink
	if err := f.p.applyBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if got := j.Stats().NextOffset; got != 30 {
		t.Errorf("the CDR journal holds %d CDRs, want 30: the batch published again", got)
	}
	if lag, _ := j.Lag(markerName); lag != 0 {
		t.Errorf("the marker lags by %d", lag)
	}
}
