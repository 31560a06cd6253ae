package settlement

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/store/boltfile"
)

// Bolt keeps the totals in a bbolt file, for -target=all:
//
//	bucket "totals": key <hour><orig>\x1f<term>, <hour> the unix seconds of
//	                 the hour's start as 8 bytes big-endian with the sign
//	                 bit flipped (so that keys sort by time); value calls
//	                 and seconds, 8 bytes big-endian each
//	bucket "seen":   key the session_id; value the guard's expiry, unix
//	                 milliseconds as 8 bytes big-endian
//
// Expired guards are swept at open and then hourly; one that has expired
// but is not swept yet counts as gone.
type Bolt struct {
	db   *bolt.DB
	ttl  time.Duration
	now  func() time.Time
	stop chan struct{}
	done chan struct{}
}

var (
	totalsBucket = []byte("totals")
	seenBucket   = []byte("seen")
)

// OpenBolt opens (creating) the file at path, and its directory; guardTTL
// is how long a counted session is remembered (accounting.dedupe_ttl).
// Concurrent Adds share one transaction and one fsync.
func OpenBolt(path string, guardTTL time.Duration) (*Bolt, error) {
	db, err := boltfile.Open("settlement", path, totalsBucket, seenBucket)
	if err != nil {
		return nil, err
	}
	b := &Bolt{db: db, ttl: max(guardTTL, time.Millisecond), now: time.Now, stop: make(chan struct{}), done: make(chan struct{})}
	if err := b.sweep(); err != nil {
		return nil, errors.Join(fmt.Errorf("settlement %s: sweeping the guards: %w", path, err), db.Close())
	}
	go b.sweepHourly()
	return b, nil
}

// hourKey is the totals' key prefix of an hour: order-preserving for
// negative times too.
func hourKey(hour int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(hour)^(1<<63))
}

func hourOfKey(k []byte) int64 { return int64(binary.BigEndian.Uint64(k) ^ (1 << 63)) }

// Add implements nas.Settlement: each record is counted unless its session
// was within the guard TTL, the guard and the increment in one transaction;
// the batch is all counted or, on an error, none of it. A batch holding an
// invalid record counts none (ErrInvalid).
func (s *Bolt) Add(ctx context.Context, recs []*settlementv1.Record) error {
	_, err := s.add(ctx, recs)
	return err
}

func (s *Bolt) add(_ context.Context, recs []*settlementv1.Record) (int, error) {
	es, err := entries(recs)
	if err != nil || len(es) == 0 {
		return 0, err
	}
	var counted int
	err = s.db.Batch(func(tx *bolt.Tx) error {
		counted = 0 // Batch may run this again, in a new transaction
		now := s.now()
		expires := binary.BigEndian.AppendUint64(nil, uint64(now.Add(s.ttl).UnixMilli()))
		seen, totals := tx.Bucket(seenBucket), tx.Bucket(totalsBucket)
		for _, e := range es {
			if live(seen.Get([]byte(e.session)), now) {
				continue
			}
			// bbolt keeps keys and values until the transaction ends:
			// each Put gets slices of its own.
			if err := seen.Put([]byte(e.session), expires); err != nil {
				return err
			}
			k := append(hourKey(e.hour), e.orig+sep+e.term...)
			var calls, seconds uint64
			if v := totals.Get(k); len(v) == 16 {
				calls, seconds = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
			}
			v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), calls+1)
			v = binary.BigEndian.AppendUint64(v, seconds+e.seconds)
			if err := totals.Put(k, v); err != nil {
				return err
			}
			counted++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("settlement: counting: %w", err)
	}
	return counted, nil
}

// live says whether a guard's value is an expiry after now.
func live(v []byte, now time.Time) bool {
	return len(v) == 8 && now.UnixMilli() < int64(binary.BigEndian.Uint64(v))
}

// Report returns the totals of the periods p that start in [from, to), in
// one read transaction over the hours in range.
func (s *Bolt) Report(_ context.Context, from, to time.Time, p Period) ([]Row, error) {
	lo, hi, err := hourRange(from, to, p)
	if err != nil {
		return nil, err
	}
	t := newTotals(p)
	if lo >= hi {
		return t.sorted(), nil
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(totalsBucket).Cursor()
		for k, v := c.Seek(hourKey(lo)); k != nil; k, v = c.Next() {
			if len(k) < 8 {
				return fmt.Errorf("totals key %x: shorter than an hour", k)
			}
			hour := hourOfKey(k)
			if hour >= hi {
				break
			}
			orig, term, ok := bytes.Cut(k[8:], []byte(sep))
			if !ok || len(v) != 16 {
				return fmt.Errorf("totals key %x: not a total", k)
			}
			t.add(hour, string(orig), string(term), binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("settlement: %w", err)
	}
	return t.sorted(), nil
}

// sweep deletes the expired guards.
func (s *Bolt) sweep() error {
	now := s.now()
	return s.db.Update(func(tx *bolt.Tx) error {
		seen := tx.Bucket(seenBucket)
		// Collected first: a cursor's Next after its Delete may skip a key.
		var gone [][]byte
		if err := seen.ForEach(func(k, v []byte) error {
			if !live(v, now) {
				gone = append(gone, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range gone {
			if err := seen.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Bolt) sweepHourly() {
	defer close(s.done)
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_ = s.sweep() // a failed sweep only delays reclaiming space
		}
	}
}

// Close stops the sweeper and closes the file.
func (s *Bolt) Close() error {
	close(s.stop)
	<-s.done
	return s.db.Close()
}
