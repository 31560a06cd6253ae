// Package embedded is the fbdata.Store backend kept in a single bbolt file on
// the server's own disk, for deployments that do not run Redis.
package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/store/readcache"
)

// lockTimeout bounds the wait for bbolt's file lock. bbolt would otherwise
// wait forever when a second kradius process points at the same file.
const lockTimeout = time.Second

// schemaVersion is the layout described in store/README.md. Version 1, the
// first release, had no meta bucket; Open migrates it.
const schemaVersion = "2"

var (
	// bucketMeta holds keySchema, the layout version of the file.
	bucketMeta = []byte("meta")
	keySchema  = []byte("schema")

	// bucketAccounts maps fbdata.Fold(name) to the JSON of fbdata.Account.
	bucketAccounts = []byte("accounts")
	// bucketDIDs maps the DID number to the JSON of fbdata.DID.
	bucketDIDs = []byte("dids")
	// bucketDIDByAccount holds the key didKey(account, number) with an empty
	// value, so that an account's DIDs are one prefix scan, already sorted.
	bucketDIDByAccount = []byte("did-by-account")
	// bucketRefs holds refKey(target, referrer) with an empty value for every
	// group member and failover account, so that DeleteAccount can tell
	// whether another account still names the one being deleted.
	bucketRefs = []byte("account-refs")
	// bucketCalledNumbers maps a dialled number to the JSON of
	// fbdata.CalledNumber.
	bucketCalledNumbers = []byte("called-numbers")

	// bucketByIndex maps each fbdata.Index's key (fbdata.IndexKey) to the
	// folded name of the account that holds it.
	bucketByIndex = map[fbdata.Index][]byte{
		fbdata.IndexUUID:        []byte("account-by-uuid"),
		fbdata.IndexMAC:         []byte("account-by-mac"),
		fbdata.IndexSerial:      []byte("account-by-serial"),
		fbdata.IndexSenderEmail: []byte("account-by-email"),
	}
)

func allBuckets() [][]byte {
	names := [][]byte{bucketMeta, bucketAccounts, bucketDIDs, bucketDIDByAccount, bucketRefs, bucketCalledNumbers}
	for _, name := range bucketByIndex {
		names = append(names, name)
	}
	return names
}

// readCacheSize bounds each read cache; a million accounts and DIDs
// decoded take some hundreds of MB, which is what an all-in-one node has.
const readCacheSize = 1 << 20

// Store is a fbdata.Store kept in a bbolt file.
type Store struct {
	db   *bolt.DB
	path string
	opts fbdata.Options
	// Decoded accounts and DIDs by key, cleared by every write.
	accounts *readcache.Cache[fbdata.Account]
	dids     *readcache.Cache[fbdata.DID]
}

var _ fbdata.Store = (*Store)(nil)

// Open opens the bbolt file at path, creating it and its parent directory if
// needed, and migrating a file of an older layout. The file holds account
// password hashes, hence mode 0600. Writes are validated under o; records
// already stored are served whatever o says, so turning long names off does
// not hide the accounts that have them.
func Open(path string, o fbdata.Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: file is locked by another process (waited %s): %w", path, lockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Batch (called numbers) would wait 10 ms for company by default, and
	// take no more than 1000 writers: the cdr processor applies thousands
	// of records at once.
	db.MaxBatchDelay = time.Millisecond
	db.MaxBatchSize = 10000
	if err := db.Update(prepare); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), db.Close())
	}
	return &Store{db: db, path: path, opts: o, accounts: readcache.New[fbdata.Account](readCacheSize), dids: readcache.New[fbdata.DID](readCacheSize)}, nil
}

// prepare checks the file's layout version, creates missing buckets and
// migrates a version 1 file, all in Open's transaction: a failed migration
// leaves the file as it was.
func prepare(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta != nil {
		if got := string(meta.Get(keySchema)); got != schemaVersion {
			return fmt.Errorf("file has layout version %q; this kradius reads version %s", got, schemaVersion)
		}
	}
	v1 := meta == nil && tx.Bucket(bucketAccounts) != nil
	for _, name := range allBuckets() {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	if v1 {
		if err := migrateV1(tx); err != nil {
			return fmt.Errorf("migrate layout 1 to %s: %w", schemaVersion, err)
		}
	}
	if meta == nil {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(schemaVersion))
	}
	return nil
}

// Close releases the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// view and update check ctx inside the transaction as well as before it: a
// writer may wait for bbolt's single write lock, and a caller that gave up
// meanwhile must not have its write land afterwards.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
}

// Every update may change accounts or DIDs, so it clears their read caches
// once it has committed (or failed); only the called-numbers database, which
// no cache holds, is written with updateCalledNumbers.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	defer s.dids.Invalidate()
	defer s.accounts.Invalidate()
	return s.write(ctx, s.db.Update, fn)
}

// updateCalledNumbers shares its transaction with concurrent callers (bbolt's
// Batch): fn may run more than once and must give the same result each time.
func (s *Store) updateCalledNumbers(ctx context.Context, fn func(*bolt.Tx) error) error {
	return s.write(ctx, s.db.Batch, fn)
}

func (s *Store) write(ctx context.Context, run func(func(*bolt.Tx) error) error, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return run(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
}

// pairKey joins two keys with a NUL. It is unambiguous because
// fbdata.Account.Validate rejects NUL in names, so the first NUL always ends
// the first part.
func pairKey(first, second string) []byte {
	return append(pairPrefix(first), second...)
}

func pairPrefix(first string) []byte {
	return append([]byte(first), 0)
}

// getRecord reads the JSON record stored under key, or fbdata.ErrNotFound.
func getRecord[T any](tx *bolt.Tx, bucket []byte, key, what string) (T, error) {
	var rec T
	v := tx.Bucket(bucket).Get([]byte(key))
	if v == nil {
		return rec, fbdata.ErrNotFound
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("decode %s record: %w", what, err)
	}
	return rec, nil
}

// list reads up to limit records of bucket whose keys sort after after.
func list[T any](ctx context.Context, db *bolt.DB, bucket []byte, after string, limit int, what string) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %ss: %w", what, err)
	}
	var out []T
	err := db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		k, v := c.First()
		if after != "" {
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			var rec T
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode %s record %q: %w", what, k, err)
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", what, err)
	}
	return out, nil
}
