// Package settlement keeps the per-period totals of inter-carrier
// settlement records (kradius.settlement.v1.Record, one per Dialogic IMG
// Stop) and reports them: calls and seconds per UTC hour, by originating
// and terminating carrier, summed by hour or by UTC day.
//
// Each record is counted at most once per session_id, the guard and the
// increment being one atomic step; the guard is kept for the consumer's
// dedupe TTL (accounting.dedupe_ttl), after which a copy of the same Stop
// would count again (README.md).
//
// Two stores implement nas.Settlement and Report: Redis (-target=accounts
// and -target=cdr, beside the data set) and Bolt (-target=all).
package settlement

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/nas"
)

var (
	_ nas.Settlement = (*Redis)(nil)
	_ nas.Settlement = (*Bolt)(nil)
	_ Store          = (*Redis)(nil)
	_ Store          = (*Bolt)(nil)
)

// Store is what both stores do: count records, and report their totals.
type Store interface {
	nas.Settlement
	Report(ctx context.Context, from, to time.Time, p Period) ([]Row, error)
}

// ErrInvalid marks a record Add refuses (no session_id, no start) or a
// Report range that is empty (from not before to).
var ErrInvalid = errors.New("settlement: invalid")

// Unknown is the carrier name of a record that identifies none; an empty
// name is counted under it too.
const Unknown = "unknown"

// sep separates the carriers' names (and, in Redis, the counter's name) in
// the stores' keys. No carrier name may hold it.
const sep = "\x1f"

// Period is how a report sums the hourly totals.
type Period string

const (
	// Hour is a UTC hour: the totals as kept.
	Hour Period = "hour"
	// Day is a UTC day, 00:00 to 24:00 UTC: the sum of its hours.
	Day Period = "day"
)

// ParsePeriod reads "hour" or "day".
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case Hour, Day:
		return p, nil
	}
	return "", fmt.Errorf("%w: period %q: want hour or day", ErrInvalid, s)
}

func (p Period) length() time.Duration {
	if p == Day {
		return 24 * time.Hour
	}
	return time.Hour
}

// Start is the start of the period t is in, in UTC. Go truncates from the
// zero time, midnight UTC, so UTC hours and days come out aligned.
func (p Period) Start(t time.Time) time.Time { return t.UTC().Truncate(p.length()) }

// ceil is the first start of a period at or after t.
func (p Period) ceil(t time.Time) time.Time {
	s := p.Start(t)
	if s.Before(t) {
		s = s.Add(p.length())
	}
	return s
}

// hourRange is the hours, as unix seconds [lo, hi), whose totals make the
// periods p that start in [from, to): a period is reported whole when its
// start is in the range, and not at all otherwise.
func hourRange(from, to time.Time, p Period) (lo, hi int64, err error) {
	if err := p.check(); err != nil {
		return 0, 0, err
	}
	if !from.Before(to) {
		return 0, 0, fmt.Errorf("%w: the range [%s, %s) is empty: from must be before to", ErrInvalid, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	return p.ceil(from).Unix(), p.ceil(to).Unix(), nil
}

func (p Period) check() error {
	_, err := ParsePeriod(string(p))
	return err
}

// Row is one period's totals between two carriers.
type Row struct {
	// PeriodStart is the start of the UTC hour or day.
	PeriodStart time.Time
	// Originating and Terminating are the carriers' names, or Unknown.
	Originating, Terminating string
	// Calls counts the records; Seconds sums their Acct-Session-Time.
	Calls, Seconds uint64
}

// entry is one record as the stores count it.
type entry struct {
	session    string
	hour       int64 // unix seconds of the start of the record's UTC hour
	orig, term string
	seconds    uint64
}

// entries checks every record before any is counted: Add counts none of a
// batch that holds an invalid one.
func entries(recs []*settlementv1.Record) ([]entry, error) {
	out := make([]entry, 0, len(recs))
	var errs []error
	for i, r := range recs {
		e, err := entryOf(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("record %d (session %q): %w", i, r.GetSessionId(), err))
			continue
		}
		out = append(out, e)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: nothing of the batch counted: %w", ErrInvalid, errors.Join(errs...))
	}
	return out, nil
}

func entryOf(r *settlementv1.Record) (entry, error) {
	switch {
	case r == nil:
		return entry{}, errors.New("nil record")
	case r.GetSessionId() == "":
		return entry{}, errors.New("no session_id: it is what counts the record once")
	case r.GetStart() == nil:
		return entry{}, errors.New("no start: the record's hour is its start (the profile sets the Stop's receipt when the IMG sends no Start Time)")
	}
	if err := r.GetStart().CheckValid(); err != nil {
		return entry{}, fmt.Errorf("start: %w", err)
	}
	e := entry{
		session: r.GetSessionId(),
		hour:    Hour.Start(r.GetStart().AsTime()).Unix(),
		orig:    cmp.Or(r.GetOriginatingCarrier(), Unknown),
		term:    cmp.Or(r.GetTerminatingCarrier(), Unknown),
		seconds: uint64(r.GetSeconds()),
	}
	for _, name := range []string{e.orig, e.term} {
		if strings.Contains(name, sep) {
			return entry{}, fmt.Errorf("carrier %q: holds the unit separator (0x1f) the totals' keys use", name)
		}
	}
	return e, nil
}

// totals sums hourly totals into rows of period p.
type totals struct {
	p    Period
	rows map[rowKey]*Row
}

type rowKey struct {
	start      int64
	orig, term string
}

func newTotals(p Period) *totals { return &totals{p: p, rows: map[rowKey]*Row{}} }

// add adds one hour's totals of a pair of carriers.
func (t *totals) add(hour int64, orig, term string, calls, seconds uint64) {
	start := t.p.Start(time.Unix(hour, 0))
	k := rowKey{start.Unix(), orig, term}
	r := t.rows[k]
	if r == nil {
		r = &Row{PeriodStart: start, Originating: orig, Terminating: term}
		t.rows[k] = r
	}
	r.Calls += calls
	r.Seconds += seconds
}

// sorted are the rows by period, then originating, then terminating
// carrier, without any that count nothing.
func (t *totals) sorted() []Row {
	out := make([]Row, 0, len(t.rows))
	for _, r := range t.rows {
		if r.Calls != 0 || r.Seconds != 0 {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(a.PeriodStart.Compare(b.PeriodStart), cmp.Compare(a.Originating, b.Originating), cmp.Compare(a.Terminating, b.Terminating))
	})
	return out
}
