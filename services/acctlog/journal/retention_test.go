package journal

import (
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
