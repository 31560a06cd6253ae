package cdr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/journal"
)

// ErrReservedReader is a reader name kradius uses itself.
var ErrReservedReader = errors.New("reserved reader name")

// JournalReaders are the named readers of -target=all's CDR journal:
// billing's view of the embedded kradius.cdr.v1. Each is a registered
// consumer of the journal, so retention keeps every CDR it has not
// committed.
type JournalReaders struct {
	j *journal.Journal

	mu      sync.Mutex
	readers map[string]*journalReader
	closed  bool
}

type journalReader struct {
	mu sync.Mutex // one call at a time per reader
	c  acctlog.Consumer
}

// NewJournalReaders serves the readers of the CDR journal j.
func NewJournalReaders(j *journal.Journal) *JournalReaders {
	return &JournalReaders{j: j, readers: map[string]*journalReader{}}
}

// JournalCDR is a CDR read from the journal.
type JournalCDR struct {
	Offset   int64
	Appended time.Time
	CDR      *accountingv1.CDR
}

func (r *JournalReaders) reader(name string) (*journalReader, error) {
	if name == markerName {
		return nil, fmt.Errorf("%w %q: kradius's own", ErrReservedReader, name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, acctlog.ErrClosed
	}
	rd, ok := r.readers[name]
	if !ok {
		c, err := r.j.Consumer(name)
		if err != nil {
			return nil, err
		}
		rd = &journalReader{c: c}
		r.readers[name] = rd
	}
	return rd, nil
}

// Read returns up to max CDRs for reader name, waiting up to wait for the
// first, and the journal's end. With resume it starts from the reader's
// committed position; otherwise after what the previous Read returned.
func (r *JournalReaders) Read(ctx context.Context, name string, resume bool, max int, wait time.Duration) ([]JournalCDR, int64, error) {
	rd, err := r.reader(name)
	if err != nil {
		return nil, 0, err
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if resume {
		// A new consumer starts at the committed position.
		if err := rd.c.Close(); err != nil {
			return nil, 0, err
		}
		if rd.c, err = r.j.Consumer(name); err != nil {
			return nil, 0, err
		}
	}
	var out []JournalCDR
	for len(out) < max {
		fctx, cancel := ctx, context.CancelFunc(func() {})
		if len(out) == 0 {
			fctx, cancel = context.WithTimeout(ctx, max1ms(wait))
		} else if last := out[len(out)-1].Offset; last+1 >= r.j.Stats().NextOffset {
			break // everything durable is read: do not wait for more
		}
		m, err := rd.c.Fetch(fctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		c := new(accountingv1.CDR)
		if err := proto.Unmarshal(m.Value, c); err != nil {
			return nil, 0, fmt.Errorf("CDR journal offset %d: %w", m.Offset, err)
		}
		out = append(out, JournalCDR{Offset: m.Offset, Appended: m.Time, CDR: c})
	}
	return out, r.j.Stats().NextOffset, nil
}

// max1ms turns a zero wait into the shortest a timer can: answer at once.
func max1ms(d time.Duration) time.Duration { return max(d, time.Millisecond) }

// Commit records that reader name has handled every CDR up to offset.
func (r *JournalReaders) Commit(ctx context.Context, name string, offset int64) error {
	rd, err := r.reader(name)
	if err != nil {
		return err
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	return rd.c.Commit(ctx, acctlog.Message{Offset: offset})
}

// Close releases the readers; their positions stay registered.
func (r *JournalReaders) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, rd := range r.readers {
		_ = rd.c.Close()
	}
}
