package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/nas/faxback/fbdata"
)

// GetCalledNumber reads what is known of a dialled number.
func (s *Store) GetCalledNumber(ctx context.Context, number string) (fbdata.CalledNumber, error) {
	var c fbdata.CalledNumber
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = getCalledNumber(tx, number)
		return err
	})
	if err != nil {
		return fbdata.CalledNumber{}, fmt.Errorf("get called number %q: %w", number, err)
	}
	return c, nil
}

// RecordCalledNumber applies one call result, read-modify-write in one
// transaction so that concurrent Stops for the same number both count.
// Concurrent calls (the cdr processor's lanes) share a transaction and its
// fsync through bbolt's Batch, which may run the function twice; it reads
// what it changes, so a second run is the same update.
func (s *Store) RecordCalledNumber(ctx context.Context, number string, result fbdata.CallResult) error {
	now := time.Now()
	// Checked before the transaction so that a bad result takes no write lock.
	if _, err := (fbdata.CalledNumber{Number: number}).Record(result, now); err != nil {
		return fmt.Errorf("record called number %q: %w", number, err)
	}
	err := s.updateCalledNumbers(ctx, func(tx *bolt.Tx) error {
		c, err := getCalledNumber(tx, number)
		switch {
		case errors.Is(err, fbdata.ErrNotFound):
			c = fbdata.CalledNumber{Number: number}
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

// DeleteCalledNumber forgets a number.
func (s *Store) DeleteCalledNumber(ctx context.Context, number string) error {
	// No read cache holds called numbers, so the plain write path will do.
	err := s.write(ctx, s.db.Update, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCalledNumbers)
		if b.Get([]byte(number)) == nil {
			return fbdata.ErrNotFound
		}
		return b.Delete([]byte(number))
	})
	if err != nil {
		return fmt.Errorf("delete called number %q: %w", number, err)
	}
	return nil
}

// ListCalledNumbers implements fbdata.Store with a cursor over the
// called-numbers bucket.
func (s *Store) ListCalledNumbers(ctx context.Context, after string, limit int) ([]fbdata.CalledNumber, error) {
	return list[fbdata.CalledNumber](ctx, s.db, bucketCalledNumbers, after, limit, "called number")
}

// putCalledNumber writes c whole, as of now: a provisioned entry replaces
// what the Stops recorded.
func putCalledNumber(tx *bolt.Tx, c fbdata.CalledNumber, now time.Time) error {
	c.Updated = now.UTC()
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode called-number record: %w", err)
	}
	return tx.Bucket(bucketCalledNumbers).Put([]byte(c.Number), v)
}

func getCalledNumber(tx *bolt.Tx, number string) (fbdata.CalledNumber, error) {
	return getRecord[fbdata.CalledNumber](tx, bucketCalledNumbers, number, "called-number")
}
