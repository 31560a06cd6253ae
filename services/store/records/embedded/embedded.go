// Package embedded is the records.Store backend kept in one bbolt file on the
// server's own disk. The layout is in README.md.
package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"kradius.dev/services/store/records"
)

// lockTimeout bounds the wait for bbolt's file lock, which would otherwise be
// forever when a second process points at the same file.
const lockTimeout = time.Second

// schemaVersion is the layout in README.md. It follows on from the FaxBack
// store's layouts 1 and 2 in the same file
// (services/nas/faxback/fbstore/legacy/embedded), which
// services/nas/faxback/fbstore/migrate moves into this one.
const schemaVersion = "3"

var (
	bucketMeta = []byte("meta")
	keySchema  = []byte("schema")
	// bucketRecordMeta and bucketReferrers are shared by every kind: see
	// README.md.
	bucketRecordMeta = []byte("record-meta")
	bucketReferrers  = []byte("referrers")
)

func recordsBucket(kind string) []byte { return []byte("records/" + kind) }

func indexBucket(kind, index string) []byte { return []byte("index/" + kind + "/" + index) }

var kindName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Store is a records.Store kept in a bbolt file.
type Store struct {
	db    *bolt.DB
	path  string
	kinds map[string]map[string]bool // kind → its unique indexes

	// commitMu makes notices go out in commit order: a writer holds it
	// from its bbolt transaction until it has published.
	commitMu sync.Mutex
	feed     feed
}

var _ records.Store = (*Store)(nil)

// Open opens the bbolt file at path for kinds, creating the file (mode 0600)
// and its parent directory if needed, and the buckets of kinds it lacks.
func Open(path string, kinds []records.Kind) (*Store, error) {
	known := map[string]map[string]bool{}
	for _, k := range kinds {
		if !kindName.MatchString(k.Name) {
			return nil, fmt.Errorf("open records %s: kind name %q: want letters, digits, '.', '-' and '_'", path, k.Name)
		}
		if known[k.Name] != nil {
			return nil, fmt.Errorf("open records %s: kind %q declared twice", path, k.Name)
		}
		known[k.Name] = map[string]bool{}
		for _, idx := range k.Unique {
			if idx == "" {
				return nil, fmt.Errorf("open records %s: kind %q has an index without a name", path, k.Name)
			}
			known[k.Name][idx] = true
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open records %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open records %s: file is locked by another process (waited %s): %w", path, lockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open records %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch v := meta.Get(keySchema); {
		case v == nil:
			if err := meta.Put(keySchema, []byte(schemaVersion)); err != nil {
				return err
			}
		case string(v) != schemaVersion:
			return fmt.Errorf("file has layout version %q; this kradius reads version %s", v, schemaVersion)
		}
		names := [][]byte{bucketRecordMeta, bucketReferrers}
		for kind, indexes := range known {
			names = append(names, recordsBucket(kind))
			for idx := range indexes {
				names = append(names, indexBucket(kind, idx))
			}
		}
		for _, name := range names {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open records %s: %w", path, err), db.Close())
	}
	s := &Store{db: db, path: path, kinds: known}
	s.feed.init(watchBuffer)
	return s, nil
}

// Close ends every watch and closes the file.
func (s *Store) Close() error {
	s.feed.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close records %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) checkKind(kind string) error {
	if s.kinds[kind] == nil {
		return fmt.Errorf("kind %q: %w", kind, records.ErrUnknownKind)
	}
	return nil
}

// Get reads one record.
func (s *Store) Get(ctx context.Context, kind, key string) ([]byte, error) {
	var v []byte
	err := s.view(ctx, kind, func(tx *bolt.Tx) error {
		var err error
		v, err = get(tx, kind, key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", kind, key, err)
	}
	return v, nil
}

// get copies the value out, since bbolt's memory is only good for the
// transaction.
func get(tx *bolt.Tx, kind, key string) ([]byte, error) {
	v := tx.Bucket(recordsBucket(kind)).Get([]byte(key))
	if v == nil {
		return nil, records.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (s *Store) view(ctx context.Context, kind string, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.checkKind(kind); err != nil {
		return err
	}
	return s.db.View(fn)
}

// GetMany reads records of one kind in one transaction.
func (s *Store) GetMany(ctx context.Context, kind string, keys []string) ([][]byte, []error) {
	values := make([][]byte, len(keys))
	errs := make([]error, len(keys))
	err := s.view(ctx, kind, func(tx *bolt.Tx) error {
		b := tx.Bucket(recordsBucket(kind))
		for i, k := range keys {
			// A miss is the bare sentinel: a longest-prefix lookup misses
			// most of its keys, and naming each was a large part of its
			// cost.
			if v := b.Get([]byte(k)); v != nil {
				values[i] = bytes.Clone(v)
			} else {
				errs[i] = records.ErrNotFound
			}
		}
		return nil
	})
	if err != nil {
		for i, k := range keys {
			values[i], errs[i] = nil, fmt.Errorf("get %s/%s: %w", kind, k, err)
		}
	}
	return values, errs
}

// By finds a record by a unique index.
func (s *Store) By(ctx context.Context, kind, index, value string) (records.Entry, error) {
	var e records.Entry
	err := s.view(ctx, kind, func(tx *bolt.Tx) error {
		if !s.kinds[kind][index] {
			return fmt.Errorf("index %q: %w", index, records.ErrUnknownKind)
		}
		key := tx.Bucket(indexBucket(kind, index)).Get([]byte(value))
		if key == nil {
			return records.ErrNotFound
		}
		v, err := get(tx, kind, string(key))
		if errors.Is(err, records.ErrNotFound) {
			return fmt.Errorf("corrupt: index entry names missing record %q", key)
		}
		e = records.Entry{Key: string(key), Value: v}
		return err
	})
	if err != nil {
		return records.Entry{}, fmt.Errorf("%s by %s %q: %w", kind, index, value, err)
	}
	return e, nil
}

// Referrers is one prefix scan of the referrers bucket, whose keys end in
// the referrer's key, so the scan is already in key order.
func (s *Store) Referrers(ctx context.Context, kind string, target records.Ref) ([]string, error) {
	var keys []string
	err := s.view(ctx, kind, func(tx *bolt.Tx) error {
		if err := s.checkKind(target.Kind); err != nil {
			return err
		}
		prefix := referrerPrefix(target, kind)
		c := tx.Bucket(bucketReferrers).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, string(k[len(prefix):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s referring to %s: %w", kind, target, err)
	}
	return keys, nil
}

// List pages a kind's records in key order.
func (s *Store) List(ctx context.Context, kind, after string, limit int) ([]records.Entry, error) {
	var entries []records.Entry
	err := s.view(ctx, kind, func(tx *bolt.Tx) error {
		c := tx.Bucket(recordsBucket(kind)).Cursor()
		k, v := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
		for ; k != nil && len(entries) < limit; k, v = c.Next() {
			entries = append(entries, records.Entry{Key: string(k), Value: bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s after %q: %w", kind, after, err)
	}
	return entries, nil
}

// Update runs fn in one bbolt read-write transaction. bbolt has one writer
// at a time, so fn runs once: nothing can change what it read.
func (s *Store) Update(ctx context.Context, fn func(records.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	var changed []records.Ref
	err := s.db.Update(func(tx *bolt.Tx) error {
		t := &txn{s: s, tx: tx, touched: map[records.Ref]*touch{}}
		if err := fn(t); err != nil {
			return err
		}
		if err := t.commit(); err != nil {
			return err
		}
		changed = t.changed()
		return nil
	})
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if len(changed) > 0 {
		s.feed.publish(records.Change{Refs: slices.Clip(changed)})
	}
	return nil
}
