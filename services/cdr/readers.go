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
	mu   sync.Mutex // one call at a time per reader
	c    acctlog.Consumer
	next int64 // at most the offset c returns next: below the journal's end, a CDR is there
}

// open opens the consumer of reader name, at its committed position.
func (r *JournalReaders) open(name string) (*journalReader, error) {
	c, err := r.j.Consumer(name)
	if err != nil {
		return nil, err
	}
	// The end read before the lag: should a CDR land between the two,
	// next comes out low, which only means one Fetch finds it.
	end := r.j.Stats().NextOffset
	lag, _ := r.j.Lag(name)
	return &journalReader{c: c, next: end - lag}, nil
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
		var err error
		if rd, err = r.open(name); err != nil {
			return nil, err
		}
		r.readers[name] = rd
	}
	return rd, nil
}

// Read returns up to limit CDRs for reader name, waiting up to wait for the
// first, and the journal's end. With resume it starts from the reader's
// committed position; otherwise after what the previous Read returned.
func (r *JournalReaders) Read(ctx context.Context, name string, resume bool, limit int, wait time.Duration) ([]JournalCDR, int64, error) {
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
		fresh, err := r.open(name)
		if err != nil {
			return nil, 0, err
		}
		rd.c, rd.next = fresh.c, fresh.next
	}
	var out []JournalCDR
	for len(out) < limit {
		fctx, cancel := ctx, context.CancelFunc(func() {})
		if rd.next >= r.j.Stats().NextOffset {
			// Nothing durable left to read: wait for a first CDR only.
			if len(out) > 0 || wait <= 0 {
				break
			}
			fctx, cancel = context.WithTimeout(ctx, wait)
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
		rd.next = m.Offset + 1
	}
	return out, r.j.Stats().NextOffset, nil
}

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
