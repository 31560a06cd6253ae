package journal

import (
	"fmt"
	"strings"
	"testing"

	"kradius.dev/services/acctlog"
)

const (
	testSegBytes = 1 << 10
	testRetBytes = 2 << 10
)

func retentionOpts() Options {
	return Options{SegmentBytes: testSegBytes, RetentionBytes: testRetBytes}
}

// checkStatsMatchDisk asserts Stats describes the segment files present.
func checkStatsMatchDisk(t *testing.T, j *Journal) Stats {
	t.Helper()
	st := j.Stats()
	segs := globSegs(t, j.Dir())
	var total int64
	for _, p := range segs {
		total += recordBytes(t, p)
	}
	if st.Segments != len(segs) || st.Bytes != total {
		t.Fatalf("Stats = %+v, disk holds %d segments of %d bytes", st, len(segs), total)
	}
	return st
}

func TestRetentionWithoutConsumers(t *testing.T) {
	j := openT(t, t.TempDir(), retentionOpts())
	appendRange(t, j, 0, 200)
	st := checkStatsMatchDisk(t, j)
	if st.OldestOffset == 0 || st.Bytes > testRetBytes+testSegBytes || st.RetentionBlockedBy != "" {
		t.Fatalf("Stats = %+v: old segments should be gone", st)
	}
	// A consumer registered now starts at the oldest record still there.
	m := fetchN(t, consumerT(t, j, "late"), 1)[0]
	if m.Offset != st.OldestOffset {
		t.Fatalf("new consumer starts at %d, want %d", m.Offset, st.OldestOffset)
	}
}

func TestRetentionWaitsForConsumers(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, retentionOpts())
	fast := consumerT(t, j, "fast")
	slow := consumerT(t, j, "slow")
	appendRange(t, j, 0, 200)

	if err := fast.Commit(t.Context(), fetchN(t, fast, 200)...); err != nil {
		t.Fatal(err)
	}
	st := checkStatsMatchDisk(t, j)
	if st.OldestOffset != 0 || st.RetentionBlockedBy != "slow" || st.Bytes <= testRetBytes {
		t.Fatalf("Stats = %+v: nothing may go while slow has committed nothing", st)
	}

	// Committing part of the log frees exactly the segments wholly before
	// the commit.
	msgs := fetchN(t, slow, 100)
	checkRange(t, msgs, 0)
	if err := slow.Commit(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
	st = checkStatsMatchDisk(t, j)
	if st.OldestOffset == 0 || st.OldestOffset > 100 || st.RetentionBlockedBy != "slow" {
		t.Fatalf("Stats = %+v after slow committed up to 99", st)
	}
	// The records slow has not committed survive a restart for it.
	slow.Close()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openT(t, dir, retentionOpts())
	slow = consumerT(t, j, "slow")
	checkRange(t, fetchN(t, slow, 100), 100)

	if err := slow.Commit(t.Context(), acctlog.Message{Offset: 199}); err != nil {
		t.Fatal(err)
	}
	st = checkStatsMatchDisk(t, j)
	if st.RetentionBlockedBy != "" || st.Bytes > testRetBytes+testSegBytes || st.NextOffset != 200 {
		t.Fatalf("Stats = %+v after every consumer committed everything", st)
	}
}

// A consumer registered before a restart keeps its records even if it was
// never used again, and retention at Open honours that.
func TestRetentionRegistrationIsDurable(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentBytes: testSegBytes})
	consumerT(t, j, "cdr").Close()
	appendRange(t, j, 0, 100)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openT(t, dir, retentionOpts())
	st := checkStatsMatchDisk(t, j)
	if st.OldestOffset != 0 || st.RetentionBlockedBy != "cdr" {
		t.Fatalf("Stats = %+v, want everything kept for cdr", st)
	}
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 100), 0)
}

func TestRetentionNeverDeletesActiveSegment(t *testing.T) {
	j := openT(t, t.TempDir(), Options{SegmentBytes: testSegBytes, RetentionBytes: 1})
	c := consumerT(t, j, "cdr")
	appendRange(t, j, 0, 100)
	if err := c.Commit(t.Context(), fetchN(t, c, 100)...); err != nil {
		t.Fatal(err)
	}
	st := checkStatsMatchDisk(t, j)
	if st.Segments != 1 || st.Bytes == 0 || st.NextOffset != 100 || st.RetentionBlockedBy != "" {
		t.Fatalf("Stats = %+v, want only the active segment left", st)
	}
	appendRange(t, j, 100, 101)
	checkRange(t, fetchN(t, c, 1), 100)
}

// TestRetentionHardCap: above MaxBytes the oldest segments go even though a
// registered consumer has not read them, each deletion logged as an error
// and counted, and the consumer goes on from the oldest record left.
func TestRetentionHardCap(t *testing.T) {
	var logged []string
	var counted int64
	o := retentionOpts()
	o.MaxBytes = 4 << 10
	o.Errorf = func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	o.OnForcedDelete = func(n int64) { counted += n }
	j := openT(t, t.TempDir(), o)
	stuck := consumerT(t, j, "billing")
	appendRange(t, j, 0, 400)

	st := checkStatsMatchDisk(t, j)
	if st.Bytes > o.MaxBytes+testSegBytes || st.OldestOffset == 0 {
		t.Fatalf("Stats = %+v: the journal should be cut to max_bytes", st)
	}
	if st.ForcedDeletedRecords != st.OldestOffset || counted != st.OldestOffset {
		t.Errorf("forced deletions: Stats %d, counted %d, want %d (every record before the oldest)", st.ForcedDeletedRecords, counted, st.OldestOffset)
	}
	if len(logged) == 0 || !strings.Contains(logged[0], `consumer "billing" had not read`) {
		t.Errorf("logged %q, want an error naming the consumer", logged)
	}
	if m := fetchN(t, stuck, 1)[0]; m.Offset != st.OldestOffset {
		t.Errorf("the consumer resumes at %d, want the oldest record left, %d", m.Offset, st.OldestOffset)
	}

	// Without a cap nothing unread goes.
	j2 := openT(t, t.TempDir(), retentionOpts())
	consumerT(t, j2, "billing")
	appendRange(t, j2, 0, 400)
	if st := checkStatsMatchDisk(t, j2); st.OldestOffset != 0 || st.ForcedDeletedRecords != 0 || st.RetentionBlockedBy != "billing" {
		t.Errorf("Stats = %+v without a cap: nothing may go", st)
	}
}
