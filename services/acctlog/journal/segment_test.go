package journal

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"kradius.dev/services/acctlog"
)

func TestSegmentRoll(t *testing.T) {
	const segBytes = 1 << 10
	dir := t.TempDir()
	j := openT(t, dir, Options{SegmentBytes: segBytes})
	appendRange(t, j, 0, 100)

	segs := globSegs(t, dir)
	st := j.Stats()
	if len(segs) < 4 || st.Segments != len(segs) {
		t.Fatalf("%d segment files, Stats %+v: want several after 100 records in %d-byte segments", len(segs), st, segBytes)
	}
	var total int64
	for i, path := range segs {
		size := recordBytes(t, path)
		total += size
		if size > segBytes {
			t.Errorf("%s is %d bytes, over SegmentBytes %d", filepath.Base(path), size, segBytes)
		}
		if i < len(segs)-1 && size == 0 {
			t.Errorf("%s is empty", filepath.Base(path))
		}
		if size > 0 {
			base, _ := parseSegName(filepath.Base(path))
			if first := firstOffset(t, path); first != base {
				t.Errorf("%s starts with offset %d", filepath.Base(path), first)
			}
		}
	}
	if st.Bytes != total || st.NextOffset != 100 || st.OldestOffset != 0 {
		t.Fatalf("Stats = %+v, files hold %d bytes", st, total)
	}

	// A consumer reads straight across segment boundaries, and after a
	// commit the next one resumes mid-log and crosses them too.
	c := consumerT(t, j, "cdr")
	checkRange(t, fetchN(t, c, 61), 0)
	if err := c.Commit(t.Context(), acctlog.Message{Offset: 60}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	appendRange(t, j, 100, 120)
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 59), 61)
}

func firstOffset(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, _, err := readFrame(bufio.NewReader(f), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rec.offset
}
