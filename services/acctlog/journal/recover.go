package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// scanResult is what one pass over a segment found.
type scanResult struct {
	valid int64 // length of the prefix made of valid frames
	next  int64 // offset after the last valid frame
	bad   error // why the scan stopped before the end of the file, or nil
}

// scanSegment checks every frame of a segment: CRC, and offsets running
// densely from the base in its name.
func scanSegment(path string, base int64) (scanResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return scanResult{}, fmt.Errorf("open segment %s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	res := scanResult{next: base}
	var scratch []byte
	for {
		rec, size, err := readFrame(r, &scratch)
		switch {
		case err == io.EOF:
			return res, nil
		case errors.Is(err, errTorn) || errors.Is(err, errCorrupt):
			res.bad = err
			return res, nil
		case err != nil:
			return scanResult{}, fmt.Errorf("scan segment %s: %w", path, err)
		case rec.offset != res.next:
			res.bad = fmt.Errorf("%w: offset %d where %d was expected", errCorrupt, rec.offset, res.next)
			return res, nil
		}
		res.valid += int64(size)
		res.next++
	}
}

// recoverSegments verifies every segment and repairs the last one. Only the
// last segment can legitimately end in a partial write (a crash between
// write and fsync, or during it); a bad frame anywhere else was acknowledged
// as durable, so dropping it would lose CDRs silently and Open refuses.
// It returns the segments with their valid sizes, the next offset, and the
// number of bytes cut from the tail.
func recoverSegments(dir string, segs []segment, segmentBytes int64, sync func(*os.File) error, logf func(string, ...any)) ([]segment, int64, int64, error) {
	var next int64
	for i := range segs {
		s := &segs[i]
		path := filepath.Join(dir, segName(s.base))
		if i > 0 && s.base != next {
			return nil, 0, 0, fmt.Errorf("segment %s starts at offset %d but the previous one ends at %d: records missing", path, s.base, next)
		}
		res, err := scanSegment(path, s.base)
		if err != nil {
			return nil, 0, 0, err
		}
		next = res.next
		if res.bad == nil {
			continue
		}
		if i < len(segs)-1 {
			return nil, 0, 0, fmt.Errorf("segment %s is corrupt at byte %d (%v) and is not the last segment: refusing to drop acknowledged records", path, res.valid, res.bad)
		}
		if free, err := spareTail(path, s.size, segmentBytes, res.valid); err != nil {
			return nil, 0, 0, err
		} else if free {
			// The unused rest of a segment made from a spare: nothing was
			// lost, and there is nothing to keep aside.
			if err := cutSegment(path, res.valid, sync); err != nil {
				return nil, 0, 0, err
			}
			s.size = res.valid
			return segs, next, 0, nil
		}
		dropped := s.size - res.valid
		if err := truncateTail(path, res.valid, sync); err != nil {
			return nil, 0, 0, err
		}
		logf("journal %s: truncated %d bytes from the tail of %s after offset %d (%v); the tail was kept beside it as %s.torn-*",
			dir, dropped, segName(s.base), res.next, res.bad, segName(s.base))
		s.size = res.valid
		return segs, next, dropped, nil
	}
	return segs, next, 0, nil
}

// spareTail reports whether a segment's bytes past its records are the
// unused rest of a spare: a file of exactly segmentBytes, zero from valid
// on. A crash can leave a zero tail on an ordinary segment too (the size
// written, the data not); that one is a torn write, reported as such.
func spareTail(path string, size, segmentBytes, valid int64) (bool, error) {
	if size != segmentBytes {
		return false, nil
	}
	free, err := zeroTail(path, valid)
	if err != nil {
		return false, fmt.Errorf("read the tail of %s: %w", path, err)
	}
	return free, nil
}

// truncateTail cuts a segment back to its valid prefix. The bytes cut are
// first copied to a side file: an interrupted write is the usual cause, but
// bit rot in the active segment looks the same, and an operator must be able
// to see what was dropped rather than lose it silently.
func truncateTail(path string, valid int64, sync func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open segment %s for repair: %w", path, err)
	}
	defer f.Close()
	tail, err := io.ReadAll(io.NewSectionReader(f, valid, 1<<62))
	if err != nil {
		return fmt.Errorf("read torn tail of %s: %w", path, err)
	}
	side := fmt.Sprintf("%s.torn-%d", path, time.Now().UnixNano())
	if err := writeFileSynced(side, tail, sync); err != nil {
		return fmt.Errorf("keep torn tail of %s: %w", path, err)
	}
	return cutSegment(path, valid, sync)
}

// cutSegment truncates a segment to size and makes that durable.
func cutSegment(path string, size int64, sync func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open segment %s for repair: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate %s to %d bytes: %w", path, size, err)
	}
	if err := sync(f); err != nil {
		return fmt.Errorf("fsync %s after truncation: %w", path, err)
	}
	return syncDir(filepath.Dir(path), sync)
}

// writeFileSynced writes data to a new file and fsyncs it (not its
// directory: callers sync the directory once for all their changes).
func writeFileSynced(path string, data []byte, sync func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := sync(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
