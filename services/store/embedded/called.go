package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/store"
)

// GetCalledNumber reads what is known of a dialled number.
func (s *Store) GetCalledNumber(ctx context.Context, number string) (store.CalledNumber, error) {
	var c store.CalledNumber
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = getCalledNumber(tx, number)
		return err
	})
	if err != nil {
		return store.CalledNumber{}, fmt.Errorf("get called number %q: %w", number, err)
	}
	return c, nil
}

// RecordCalledNumber applies one call result, read-modify-write in one
// transaction so that concurrent Stops for the same number both count.
// Concurrent calls (the cdr processor's lanes) share a transaction and its
// fsync through bbolt's Batch, which may run the function twice; it reads
// what it changes, so a second run is the same update.
func (s *Store) RecordCalledNumber(ctx context.Context, number string, result store.CallResult) error {
	now := time.Now()
	// Checked before the transaction so that a bad result takes no write lock.
	if _, err := (store.CalledNumber{Number: number}).Record(result, now); err != nil {
		return fmt.Errorf("record called number %q: %w", number, err)
	}
	err := s.updateCalledNumbers(ctx, func(tx *bolt.Tx) error {
		c, err := getCalledNumber(tx, number)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c = store.CalledNumber{Number: number}
		case err != nil:
			return err
		}
		if c, err = c.Record(result, now); err != nil {
			return err
		}
		v, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("encode called-number record: %w", err)
		}
		return tx.Bucket(bucketCalledNumbers).Put([]byte(number), v)
	})
	if err != nil {
		return fmt.Errorf("record called number %q: %w", number, err)
	}
	return nil
}

func getCalledNumber(tx *bolt.Tx, number string) (store.CalledNumber, error) {
	return getRecord[store.CalledNumber](tx, bucketCalledNumbers, number, "called-number")
}
