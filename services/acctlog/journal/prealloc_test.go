package journal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/eventually"
)

// waitSpare waits until the journal has a spare ready for its next roll.
func waitSpare(t testing.TB, j *Journal) {
	t.Helper()
	eventually.True(t, "a spare segment prepared", func() bool { return spareReady(j.next) })
}

// TestRollUsesSpare: after a roll the active segment is a spare, full size,
// the sealed one is cut to its records, and a consumer reads across both
// while records land in the spare.
func TestRollUsesSpare(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentBytes: testSegBytes})
	c := consumerT(t, j, "cdr")
	waitSpare(t, j)
	// One record at a time up to the first roll: the spare was waited for
	// above, and a second roll would find the next one ready only if the
	// machine is quick enough to have prepared it.
	n := 0
	for ; len(globSegs(t, dir)) < 2; n++ {
		if n == 20 {
			t.Fatal("20 records and no roll")
		}
		appendRange(t, j, n, n+1)
	}
	segs := globSegs(t, dir)
	if got := segSize(t, segs[1]); got != testSegBytes {
		t.Fatalf("active segment is %d bytes, want a %d-byte spare", got, testSegBytes)
	}
	if segSize(t, segs[0]) != recordBytes(t, segs[0]) {
		t.Fatalf("sealed segment %s keeps free space", filepath.Base(segs[0]))
	}
	appendRange(t, j, n, 20)
	checkRange(t, fetchN(t, c, 20), 0)
	appendRange(t, j, 20, 21)
	checkRange(t, fetchN(t, c, 1), 20)
}

// TestReopenWithSpareActive: the free space of a spare is not a torn write:
// reopening cuts it silently, keeps every record, and appends go on.
func TestReopenWithSpareActive(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentBytes: testSegBytes})
	waitSpare(t, j)
	appendRange(t, j, 0, 20)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var logged []string
	j = openT(t, dir, Options{SegmentBytes: testSegBytes, Logf: func(f string, a ...any) { logged = append(logged, f) }})
	if j.Recovered() != 0 || len(logged) != 0 {
		t.Fatalf("Recovered = %d, logged %q: want a silent reopen", j.Recovered(), logged)
	}
	if torn, _ := filepath.Glob(filepath.Join(dir, "*.torn-*")); len(torn) != 0 {
		t.Fatalf("side files %v for free space", torn)
	}
	if got := j.Stats().NextOffset; got != 20 {
		t.Fatalf("NextOffset %d after reopen, want 20", got)
	}
	appendRange(t, j, 20, 25)
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 25), 0)
}

// TestTornWriteInSpare: a partial frame in a spare is a torn write, kept
// aside and reported, even though zeros follow it.
func TestTornWriteInSpare(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentBytes: testSegBytes})
	waitSpare(t, j)
	appendRange(t, j, 0, 20)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	segs := globSegs(t, dir)
	active := segs[len(segs)-1]
	records := recordBytes(t, active)
	f, err := os.OpenFile(active, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0, 0, 0, 90, 1, 2, 3}, records); err != nil { // a header, cut
		t.Fatal(err)
	}
	f.Close()
	var logged []string
	j = openT(t, dir, Options{SegmentBytes: testSegBytes, Logf: func(f string, a ...any) { logged = append(logged, f) }})
	if j.Recovered() == 0 || len(logged) != 1 || !strings.Contains(logged[0], "truncated") {
		t.Fatalf("Recovered = %d, logged %q: want the torn write reported", j.Recovered(), logged)
	}
	if got := j.Stats().NextOffset; got != 20 {
		t.Fatalf("NextOffset %d, want 20", got)
	}
}

// TestLeftoverSpareIsReplaced: a spare half written by a process that died
// is never used as it is.
func TestLeftoverSpareIsReplaced(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, spareName), []byte("half"), 0o640); err != nil {
		t.Fatal(err)
	}
	j := openT(t, dir, Options{SegmentBytes: testSegBytes})
	waitSpare(t, j)
	if got := segSize(t, filepath.Join(dir, spareName)); got != testSegBytes {
		t.Fatalf("spare is %d bytes, want %d", got, testSegBytes)
	}
}

// TestNewJournalStartsInSpare: a new journal's empty first segment is
// swapped for the spare as soon as one is ready, and its records read back.
func TestNewJournalStartsInSpare(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentBytes: testSegBytes})
	c := consumerT(t, j, "cdr")
	waitSpare(t, j)
	appendRange(t, j, 0, 3)
	if got := segSize(t, filepath.Join(dir, segName(0))); got != testSegBytes {
		t.Fatalf("first segment is %d bytes, want a %d-byte spare", got, testSegBytes)
	}
	checkRange(t, fetchN(t, c, 3), 0)
}

func TestSpareRate(t *testing.T) {
	for _, c := range []struct {
		filled int64
		took   time.Duration
		want   float64
	}{
		{64 << 20, 2 * time.Second, 64 << 20}, // fills at 32 MiB/s: spare at twice that
		{64 << 20, time.Hour, minSpareRate},   // an idle journal: the floor
		{0, 0, minSpareRate},                  // nothing known yet
	} {
		if got := spareRate(c.filled, c.took); got != c.want {
			t.Errorf("spareRate(%d, %v) = %v, want %v", c.filled, c.took, got, c.want)
		}
	}
}

// spareReady reports whether s has a spare ready.
func spareReady(s *spareSegment) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// TestSpareHurriesWhenNeeded: a spare filled at a pace is finished at full
// speed once the writer asks for it and finds it not ready.
func TestSpareHurriesWhenNeeded(t *testing.T) {
	const size = 8 << 20
	s := newSpareSegment(t.TempDir(), size, (*os.File).Sync, t.Logf)
	defer s.close()
	s.prepare(size / 60) // a minute's pace
	eventually.True(t, "the paced fill under way", func() bool { return spareBytes(t, s) > 0 })
	if spareReady(s) {
		t.Fatal("a spare paced to take a minute is ready already")
	}
	f, err := s.take(0, 0)
	if f != nil || err != nil {
		t.Fatalf("take of an unready spare = %v, %v; want nil, nil", f, err)
	}
	// Half the minute the pace would take: a wait that is the pace's, not
	// the machine's.
	eventually.Within(t, 30*time.Second, "the spare ready once the writer needed it", func() bool { return spareReady(s) })
}

// spareBytes is how much of s's file is written so far.
func spareBytes(t testing.TB, s *spareSegment) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(s.dir, spareName))
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestSpareCloseStopsPacedFill: closing the journal does not wait out a
// slow pace.
func TestSpareCloseStopsPacedFill(t *testing.T) {
	const size = 8 << 20
	dir := t.TempDir()
	s := newSpareSegment(dir, size, (*os.File).Sync, t.Logf)
	s.prepare(size / 60)
	eventually.True(t, "the paced fill under way", func() bool { return spareBytes(t, s) > 0 })
	closed := make(chan struct{})
	go func() { s.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second): // half the pace's minute
		t.Fatal("close waited on a fill paced to take a minute")
	}
	if spareReady(s) {
		t.Fatal("a stopped fill left a spare marked ready")
	}
}
