package redisstore

import (
	"context"
	"fmt"
	"time"

	"kradius.dev/services/store"
)

// GetCalledNumber reads what is known of a dialled number.
func (s *Store) GetCalledNumber(ctx context.Context, number string) (store.CalledNumber, error) {
	c, err := getRecord[store.CalledNumber](ctx, s, s.keys.called(number), "called-number")
	if err != nil {
		return store.CalledNumber{}, fmt.Errorf("get called number %q: %w", number, err)
	}
	return c, nil
}

// RecordCalledNumber applies one call result, read-modify-write in one
// optimistic transaction so that concurrent Stops for the same number both
// count: the one that loses the race reads again and applies its result on
// top.
func (s *Store) RecordCalledNumber(ctx context.Context, number string, result store.CallResult) error {
	now := time.Now()
	// Checked before the transaction so that a bad result costs no round
	// trip.
	if _, err := (store.CalledNumber{Number: number}).Record(result, now); err != nil {
		return fmt.Errorf("record called number %q: %w", number, err)
	}
	key := s.keys.called(number)
	// No version bump: no account or DID write reads called numbers, and
	// Stops arrive far too often to abort every large Apply.
	err := s.transact(ctx, plan{watch: []string{key}}, func(t *txn) error {
		c := store.CalledNumber{Number: number}
		v, found, err := t.get(key)
		if err != nil {
			return err
		}
		if found {
			if c, err = decode[store.CalledNumber](v, "called-number"); err != nil {
				return err
			}
		}
		if c, err = c.Record(result, now); err != nil {
			return err
		}
		if v, err = encode(c, "called-number"); err != nil {
			return err
		}
		t.set(key, v)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record called number %q: %w", number, err)
	}
	return nil
}
