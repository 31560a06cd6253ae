package cdr

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/journal"
)

// markerName is the CDR journal's registered consumer whose position says
// up to where the CDRs' done-marks are in the ledger.
const markerName = "ledger"

// JournalSink is where -target=all publishes CDRs: the CDR journal, whose
// frames are their own done-marks until the ledger has them. A CDR is
// appended (and fsynced) before its done-mark is written, so a crash
// between the two would publish it again; instead the journal keeps, as the
// position of its consumer "ledger", where the marks stand, and Recover
// marks every CDR after it before the consumer starts. So the CDR append
// and its done-mark are, in effect, one atomic step.
type JournalSink struct {
	j      *journal.Journal
	ledger Ledger
	marks  acctlog.Consumer
}

var _ acctlog.Appender = (*JournalSink)(nil)

// NewJournalSink publishes to j and marks in ledger; call Recover before
// the consumer starts.
func NewJournalSink(j *journal.Journal, ledger Ledger) (*JournalSink, error) {
	c, err := j.Consumer(markerName)
	if err != nil {
		return nil, fmt.Errorf("CDR journal: %w", err)
	}
	return &JournalSink{j: j, ledger: ledger, marks: c}, nil
}

// Append publishes one CDR.
func (s *JournalSink) Append(ctx context.Context, key, value []byte) error {
	return s.j.Append(ctx, key, value)
}

// Close releases the marker consumer; the journal stays open.
func (s *JournalSink) Close() error { return s.marks.Close() }

// marked records that every CDR in the journal has its done-mark: the
// processor calls it once a batch's CDRs are appended and marked, none
// having failed.
func (s *JournalSink) marked(ctx context.Context) error {
	end := s.j.Stats().NextOffset
	if end == 0 {
		return nil
	}
	return s.marks.Commit(ctx, acctlog.Message{Offset: end - 1})
}

// Recover writes the done-marks of the CDRs appended after the marker's
// position (those of a crash between a CDR and its mark) and moves the
// marker to the end. It returns how many it marked.
func (s *JournalSink) Recover(ctx context.Context) (int, error) {
	behind, _ := s.j.Lag(markerName)
	if behind == 0 {
		return 0, nil
	}
	keys := make([]string, 0, behind)
	var last acctlog.Message
	// The frames are on disk: each Fetch returns at once.
	for range behind {
		m, err := s.marks.Fetch(ctx)
		if err != nil {
			return 0, fmt.Errorf("CDR journal: %w", err)
		}
		var c accountingv1.CDR
		if err := proto.Unmarshal(m.Value, &c); err != nil {
			return 0, fmt.Errorf("CDR journal offset %d: %w", m.Offset, err)
		}
		keys = append(keys, cdrKey(c.GetSessionId()))
		last = m
	}
	if err := markDoneMany(ctx, s.ledger, keys); err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	if err := s.marks.Commit(ctx, last); err != nil {
		return 0, err
	}
	return len(keys), nil
}

// acctStatusStop is RFC 2866's Acct-Status-Type of a Stop.
const acctStatusStop = 2

// cdrKey is effectKey("cdr", ...) of a Stop of session: a CDR is a Stop's.
func cdrKey(session string) string {
	return effectKey("cdr", &accountingv1.Record{SessionId: session, StatusTypeValue: acctStatusStop})
}
