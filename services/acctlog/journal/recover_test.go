package journal

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestTornTailIsTruncated(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"garbage appended", func(t *testing.T, path string) {
			appendBytes(t, path, []byte("\x00\x00\x01\x00garbage that is not a frame"))
		}},
		{"zero fill appended", func(t *testing.T, path string) {
			appendBytes(t, path, make([]byte, 4096))
		}},
		{"cut mid header", func(t *testing.T, path string) {
			truncate(t, path, segSize(t, path)-int64(frameLen(len(key(9)), len(value(9)), trace.SpanContext{}))+3)
		}},
		{"cut mid body", func(t *testing.T, path string) {
			truncate(t, path, segSize(t, path)-5)
		}},
		{"bad crc in last frame", func(t *testing.T, path string) {
			flipByte(t, path, segSize(t, path)-1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := openT(t, dir, Options{})
			appendRange(t, j, 0, 10)
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, segName(0))
			before := segSize(t, path)
			tt.damage(t, path)
			damaged := segSize(t, path)

			var logged []string
			j = openT(t, dir, Options{Logf: func(f string, a ...any) { logged = append(logged, f) }})
			keep := segSize(t, path)
			if j.Recovered() != damaged-keep || j.Recovered() == 0 {
				t.Fatalf("Recovered = %d, file went from %d to %d bytes", j.Recovered(), damaged, keep)
			}
			if len(logged) != 1 || !strings.Contains(logged[0], "truncated") {
				t.Fatalf("logged %q, want one truncation report", logged)
			}
			intact := 10
			if keep < before {
				intact = 9 // the damage was inside the last frame
			}
			if got := j.Stats().NextOffset; got != int64(intact) {
				t.Fatalf("NextOffset = %d after recovery, want %d", got, intact)
			}
			side, _ := filepath.Glob(path + ".torn-*")
			if len(side) != 1 || segSize(t, side[0]) != j.Recovered() {
				t.Fatalf("torn tail kept as %v, want one file of %d bytes", side, j.Recovered())
			}
			appendRange(t, j, intact, 12)
			checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 12), 0)
		})
	}
}

func TestCorruptionBeforeLastSegmentFailsOpen(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, first string)
		want   string
	}{
		{"flipped byte", func(t *testing.T, first string) { flipByte(t, first, 40) }, "not the last segment"},
		{"torn tail", func(t *testing.T, first string) { truncate(t, first, segSize(t, first)-3) }, "not the last segment"},
		{"missing records", func(t *testing.T, first string) {
			// Drop the last frame cleanly: every frame is valid, but the next
			// segment no longer follows on.
			starts := frameStarts(t, first)
			truncate(t, first, starts[len(starts)-1])
		}, "records missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := openT(t, dir, Options{SegmentBytes: 1 << 10})
			appendRange(t, j, 0, 40)
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if n := len(globSegs(t, dir)); n < 3 {
				t.Fatalf("%d segments, want at least 3", n)
			}
			tt.damage(t, filepath.Join(dir, segName(0)))
			_, err := Open(dir, Options{Logf: t.Logf})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("Open = %v, want an error naming %s and containing %q", err, dir, tt.want)
			}
		})
	}
}

func globSegs(t *testing.T, dir string) []string {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// frameStarts returns the byte position of every frame in a clean segment.
func frameStarts(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var starts []int64
	var pos int64
	for {
		_, size, err := readFrame(r, nil)
		if err == io.EOF {
			return starts
		}
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, pos)
		pos += int64(size)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Clone(data)
	data[at] ^= 0x01
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
}
