// Package boltfile opens the bbolt files the accounting path keeps beside
// its journals (the cdr ledger, the settlement totals): created with their
// directory, private to the process's user, their buckets made, and
// concurrent writers' Batches grouped.
package boltfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BatchDelay is how long a bbolt Batch waits for company. bbolt's default,
// 10 ms, would hold a writer to a hundred writes a second; an fsync here
// takes a small fraction of that (docs/performance.md, "Disk syncs").
const BatchDelay = time.Millisecond

// Open opens (creating) the file at path, and its directory, with the
// buckets named; what names the file in errors ("ledger").
func Open(what, path string, buckets ...[]byte) (*bolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	// A second process on the file waits a second, then fails, rather
	// than hanging.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, errors.Join(fmt.Errorf("%s %s: %w", what, path, err), db.Close())
	}
	db.MaxBatchDelay = BatchDelay
	return db, nil
}
