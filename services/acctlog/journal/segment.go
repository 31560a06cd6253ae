package journal

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const segSuffix = ".seg"

// segment is one file of the log as the readers and retention see it: only
// fsynced bytes count.
type segment struct {
	base int64 // offset of its first record, also its name
	size int64 // bytes
}

// segName zero-pads the base offset so that lexical order is offset order
// for anyone listing the directory by hand.
func segName(base int64) string {
	return fmt.Sprintf("%020d%s", base, segSuffix)
}

func parseSegName(name string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	base, err := strconv.ParseInt(digits, 10, 64)
	return base, err == nil
}

// listSegments returns the segments in dir ordered by base offset, with
// their current on-disk sizes.
func listSegments(dir string) ([]segment, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments in %s: %w", dir, err)
	}
	var segs []segment
	for _, e := range entries {
		base, ok := parseSegName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("stat segment %s: %w", e.Name(), err)
		}
		segs = append(segs, segment{base: base, size: info.Size()})
	}
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.base, b.base) })
	return segs, nil
}

// createSegment makes a new, empty segment file and fsyncs the directory so
// the file itself survives a crash, not just the data later written into it.
func createSegment(dir string, base int64, sync func(*os.File) error) (*os.File, error) {
	path := filepath.Join(dir, segName(base))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	if err := syncDir(dir, sync); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// syncDir makes directory entries (created, renamed, removed files) durable;
// fsyncing a file does not cover its name.
func syncDir(dir string, sync func(*os.File) error) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s for fsync: %w", dir, err)
	}
	defer d.Close()
	if err := sync(d); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

func (j *Journal) segPath(base int64) string {
	return filepath.Join(j.dir, segName(base))
}
