package redisstore

import (
	"context"
	"fmt"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
)

// GetCalledNumber reads what is known of a dialled number.
func (s *Store) GetCalledNumber(ctx context.Context, number string) (fbdata.CalledNumber, error) {
	c, err := getRecord[fbdata.CalledNumber](ctx, s, s.keys.called(number), "called-number")
	if err != nil {
		return fbdata.CalledNumber{}, fmt.Errorf("get called number %q: %w", number, err)
	}
	return c, nil
}

// RecordCalledNumber applies one call result, read-modify-write in an
// optimistic transaction so that concurrent Stops for the same number all
// count: on a conflict the transaction reads again and applies its results
// on top. Concurrent calls share one transaction (natural batching, no
// timer): the cdr consumer applies a batch of Stops at once, and three round
// trips per Stop (WATCH, GET, MULTI/EXEC) were half of its CPU.
func (s *Store) RecordCalledNumber(ctx context.Context, number string, result fbdata.CallResult) error {
	now := time.Now()
	// Checked before the transaction so that a bad result costs no round
	// trip, and cannot fail the others of its batch.
	if _, err := (fbdata.CalledNumber{Number: number}).Record(result, now); err != nil {
		return fmt.Errorf("record called number %q: %w", number, err)
	}
	if _, err := s.called.Do(ctx, calledUpdate{number: number, result: result, at: now}); err != nil {
		return fmt.Errorf("record called number %q: %w", number, err)
	}
	return nil
}

// calledUpdate is one RecordCalledNumber waiting for its batch.
type calledUpdate struct {
	number string
	result fbdata.CallResult
	at     time.Time
}

const (
	// calledBatch is the most updates one transaction carries; it watches
	// one key per number, so it stays under maxWatched (no version bump
	// covers called numbers).
	calledBatch = 256
	// calledInFlight is how many such transactions may run at once.
	calledInFlight = 4
)

// recordCalledNumbers applies ups, in order, in one transaction: WATCH and
// one MGET of their keys, then one MULTI/EXEC. A number whose stored record
// does not decode fails its own updates only.
func (s *Store) recordCalledNumbers(ctx context.Context, ups []calledUpdate) ([]struct{}, []error, error) {
	keys := make([]string, 0, len(ups))
	seen := make(map[string]bool, len(ups))
	for _, u := range ups {
		if k := s.keys.called(u.number); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var errs []error
	// No version bump: no account or DID write reads called numbers, and
	// Stops arrive far too often to abort every large Apply.
	err := s.transact(ctx, plan{watch: keys}, func(t *txn) error {
		errs = nil // a retried transaction starts over
		if err := t.load(keys...); err != nil {
			return err
		}
		for i, u := range ups {
			if err := recordOne(t, s.keys, u); err != nil {
				if errs == nil {
					errs = make([]error, len(ups))
				}
				errs[i] = err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return make([]struct{}, len(ups)), errs, nil
}

// recordOne stages one update on top of what t holds for its number.
func recordOne(t *txn, k keys, u calledUpdate) error {
	key := k.called(u.number)
	c := fbdata.CalledNumber{Number: u.number}
	v, found, err := t.get(key)
	if err != nil {
		return err
	}
	if found {
		if c, err = decode[fbdata.CalledNumber](v, "called-number"); err != nil {
			return err
		}
	}
	if c, err = c.Record(u.result, u.at); err != nil {
		return err
	}
	if v, err = encode(c, "called-number"); err != nil {
		return err
	}
	t.set(key, v)
	t.zadd(k.allCalled(), u.number)
	return nil
}

// DeleteCalledNumber forgets a number and takes it off the list.
func (s *Store) DeleteCalledNumber(ctx context.Context, number string) error {
	key := s.keys.called(number)
	// As RecordCalledNumber: no version bump, since no account or DID write
	// reads called numbers.
	err := s.transact(ctx, plan{watch: []string{key}}, func(t *txn) error {
		if _, found, err := t.get(key); err != nil {
			return err
		} else if !found {
			return fbdata.ErrNotFound
		}
		t.del(key)
		t.zrem(s.keys.allCalled(), number)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete called number %q: %w", number, err)
	}
	return nil
}

// putCalledNumber stages c written whole, as of now: a provisioned entry
// replaces what the Stops recorded, so nothing is read first.
func (s *Store) putCalledNumber(t *txn, c fbdata.CalledNumber, now time.Time) error {
	c.Updated = now.UTC()
	v, err := encode(c, "called-number")
	if err != nil {
		return err
	}
	t.set(s.keys.called(c.Number), v)
	t.zadd(s.keys.allCalled(), c.Number)
	return nil
}
