package journal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// spareName is the next segment being prepared. It does not end in
// segSuffix, so listings and recovery never take it for a segment.
const spareName = "next-segment.spare"

// zeroChunk is what a spare is filled with, a chunk at a time.
var zeroChunk = make([]byte, spareChunk)

// spareSegment prepares the next segment ahead of need: a file of SegmentBytes
// zeros, written and fsynced in the background. Appending to a file makes
// every fsync commit the file system's journal as well, to record the new
// size; overwriting blocks already on disk needs only fdatasync of the data,
// which on the disks measured here made each group commit's wait much
// shorter (docs/performance.md, "Journal spare segments").
//
// The zeros are written at a pace, a chunk at a time, each chunk pushed to
// the disk before the next: written at once, 64 MiB of them sat in the page
// cache until one fsync sent them together, and every group commit in the
// next few milliseconds queued behind them: every few seconds under load, a
// large part of the accounting p99.
type spareSegment struct {
	dir  string
	size int64
	sync func(*os.File) error
	logf func(string, ...any)

	mu      sync.Mutex
	ready   bool
	running bool
	stop    bool
	done    chan struct{} // closed when the current preparation ends
	rate    float64       // bytes a second for the current fill; 0: no pace
	// hurry drops the pace: the writer needed the spare before it was ready.
	hurry bool
}

const (
	// spareChunk is the zeros written and pushed to disk at a time: small
	// enough that a group commit behind it waits well under a millisecond.
	spareChunk = 256 << 10
	// minSpareRate is the slowest pace, so an idle journal still has its
	// spare within seconds (64 MiB in 8 s) when traffic comes back.
	minSpareRate = 8 << 20
)

// spareRate is the pace for the next spare: twice the rate at which the
// segment just sealed filled, so the spare is ready with half of the new
// segment's expected life to spare.
func spareRate(filled int64, took time.Duration) float64 {
	if took <= 0 {
		return minSpareRate
	}
	return max(2*float64(filled)/took.Seconds(), minSpareRate)
}

func newSpareSegment(dir string, size int64, sync func(*os.File) error, logf func(string, ...any)) *spareSegment {
	// A spare left by an earlier process may be half written; start over.
	_ = os.Remove(filepath.Join(dir, spareName))
	return &spareSegment{dir: dir, size: size, sync: sync, logf: logf}
}

// maxSpareBytes bounds the zeros written ahead: past it, segments grow.
const maxSpareBytes = 1 << 30

// prepare starts filling a spare at rate bytes a second (0: as fast as the
// disk takes it) unless one is ready or under way.
func (s *spareSegment) prepare(rate float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready || s.running || s.stop || s.size <= 0 || s.size > maxSpareBytes {
		return
	}
	s.running = true
	s.rate, s.hurry = rate, false
	s.done = make(chan struct{})
	go s.fill(s.done)
}

func (s *spareSegment) fill(done chan struct{}) {
	defer close(done)
	err := s.write()
	s.mu.Lock()
	s.running = false
	s.ready = err == nil
	s.mu.Unlock()
	if err != nil && !errors.Is(err, errStopped) {
		// Not fatal: the next segment is created empty, as without a spare.
		s.logf("journal %s: preparing the next segment: %v", s.dir, err)
	}
}

var errStopped = errors.New("stopped")

func (s *spareSegment) write() error {
	path := filepath.Join(s.dir, spareName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	for off := int64(0); off < s.size; {
		s.mu.Lock()
		stop, rate := s.stop, s.rate
		if s.hurry {
			rate = 0
		}
		s.mu.Unlock()
		if stop {
			return errStopped
		}
		n, err := f.Write(zeroChunk[:min(s.size-off, int64(len(zeroChunk)))])
		if err != nil {
			return fmt.Errorf("write %s: %w", spareName, err)
		}
		if err := pushToDisk(f, off, int64(n)); err != nil {
			return fmt.Errorf("write out %s: %w", spareName, err)
		}
		off += int64(n)
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(off) / rate * float64(time.Second)))))
		}
	}
	if err := s.sync(f); err != nil {
		return fmt.Errorf("fsync %s: %w", spareName, err)
	}
	return nil
}

// take turns a ready spare into the segment starting at base, open for
// writing from its start, and starts preparing the next at rate bytes a
// second. Without a ready spare it returns nil, and the caller creates the
// segment empty; the spare under way is then finished without a pace.
func (s *spareSegment) take(base int64, rate float64) (*os.File, error) {
	s.mu.Lock()
	ready := s.ready
	s.ready = false
	s.hurry = s.hurry || (!ready && s.running)
	s.mu.Unlock()
	if !ready {
		s.prepare(0)
		return nil, nil
	}
	defer s.prepare(rate)
	path := filepath.Join(s.dir, segName(base))
	if err := os.Rename(filepath.Join(s.dir, spareName), path); err != nil {
		return nil, fmt.Errorf("rename spare to %s: %w", segName(base), err)
	}
	if err := syncDir(s.dir, s.sync); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	return f, nil
}

// close stops a preparation under way and waits for it.
func (s *spareSegment) close() {
	s.mu.Lock()
	s.stop = true
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// zeroTail reports whether everything in f from off to its end is zero: the
// unused part of a segment made from a spare, not a torn write.
func zeroTail(path string, off int64) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 1<<16)
	r := io.NewSectionReader(f, off, 1<<62)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}
