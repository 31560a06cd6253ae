package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// segReader reads one segment's frames in order. It only ever reads records
// the journal has published as durable, so a short read means the file was
// damaged underneath us, never a write in progress.
type segReader struct {
	f    *os.File
	r    *bufio.Reader
	base int64
	next int64 // offset of the frame the next read returns
}

// openSegReader opens the segment at path; durable reports how many of its
// bytes are published records at the time of asking.
func openSegReader(path string, base int64, durable func() int64) (*segReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open segment for reading: %w", err)
	}
	return &segReader{f: f, r: bufio.NewReaderSize(&durableBytes{f: f, durable: durable}, 64<<10), base: base, next: base}, nil
}

// durableBytes reads a segment no further than its published records. The
// active segment may be a spare whose unwritten part is zeros; a buffer
// filled with those would hold them after the writer has put records there.
type durableBytes struct {
	f       *os.File
	off     int64
	durable func() int64
}

func (d *durableBytes) Read(p []byte) (int, error) {
	left := d.durable() - d.off
	if left <= 0 {
		return 0, io.EOF
	}
	n, err := d.f.ReadAt(p[:min(int64(len(p)), left)], d.off)
	d.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (s *segReader) read() (record, error) {
	rec, _, err := readFrame(s.r, nil)
	if err != nil {
		if err == io.EOF || errors.Is(err, errTorn) {
			err = fmt.Errorf("%w: segment ends before offset %d", errCorrupt, s.next)
		}
		return record{}, fmt.Errorf("read %s: %w", segName(s.base), err)
	}
	if rec.offset != s.next {
		return record{}, fmt.Errorf("read %s: %w: offset %d where %d was expected", segName(s.base), errCorrupt, rec.offset, s.next)
	}
	s.next++
	return rec, nil
}

// skipTo reads forward to the frame holding offset.
func (s *segReader) skipTo(offset int64) error {
	for s.next < offset {
		if _, err := s.read(); err != nil {
			return err
		}
	}
	return nil
}

func (s *segReader) close() error { return s.f.Close() }
