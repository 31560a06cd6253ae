// Package redisstore is the fbdata.Store backend kept in Redis, standalone,
// behind Sentinel or in a Redis Cluster, so that several kradius servers
// serve one data set. Every key of a data set carries one hash tag and so
// lives in one cluster slot: writes are optimistic MULTI/EXEC transactions
// over the record and all its index entries, which Redis Cluster allows only
// within a slot. README.md has the key layout and the trade-off.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/batch"
	"kradius.dev/services/nas/faxback/fbdata"
)

// DefaultPrefix is the key prefix, and hash tag, of a data set when none is
// given.
const DefaultPrefix = "{kradius}"

// Store is a fbdata.Store kept in Redis.
type Store struct {
	client  redis.UniversalClient
	keys    keys
	opts    fbdata.Options
	decoded decoded
	// called batches concurrent RecordCalledNumber calls into one
	// transaction (see called.go).
	called *batch.Batcher[calledUpdate, struct{}]
}

var _ fbdata.Store = (*Store)(nil)

// New returns a store over client, which it takes over: Close closes it, as
// for a store from Open. prefix names the data set (see Prefix); "" is
// DefaultPrefix. Writes are validated under o; records already stored are
// served whatever o says.
func New(client redis.UniversalClient, o fbdata.Options, prefix string) *Store {
	s := &Store{client: client, keys: keys{prefix: Prefix(prefix)}, opts: o}
	s.called = batch.New(s.recordCalledNumbers, calledBatch, calledInFlight)
	return s
}

// Prefix returns the key prefix a data set named prefix uses: prefix itself
// when it holds a Redis hash tag ("{...}" with something between the braces),
// otherwise prefix wrapped in braces, so that "kradius-lab" becomes
// "{kradius-lab}". "" is DefaultPrefix. Either way every key of the data set
// hashes to the slot of that one tag.
func Prefix(prefix string) string {
	if prefix == "" {
		return DefaultPrefix
	}
	// Redis hashes the part between the first "{" and the next "}", if that
	// part is not empty; the prefix must fix it, or names and numbers in the
	// rest of the key would pick the slot.
	if open := strings.IndexByte(prefix, '{'); open >= 0 {
		if n := strings.IndexByte(prefix[open+1:], '}'); n > 0 {
			return prefix
		}
	}
	return "{" + prefix + "}"
}

// Close closes the client.
// Client is the store's Redis client, for the keys that live beside the
// data set (the cdr consumer's done-marks) under Prefix.
func (s *Store) Client() redis.UniversalClient { return s.client }

// KeyPrefix is the data set's key prefix (its hash tag).
func (s *Store) KeyPrefix() string { return s.keys.prefix }

func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close redis store %s: %w", s.keys.prefix, err)
	}
	return nil
}

// keys spells the Redis keys of one data set. Every key starts with the
// prefix, whose hash tag puts the whole data set in one slot. The part after
// the family is the folded name or the number as is: names and numbers may
// hold ':' or braces, but each family has its own fixed middle, so keys of
// different families or records cannot coincide.
type keys struct{ prefix string }

// account is the JSON of fbdata.Account under its folded name.
func (k keys) account(folded string) string { return k.prefix + ":acct:" + folded }

// did is the JSON of fbdata.DID under its number.
func (k keys) did(number string) string { return k.prefix + ":did:" + number }

// allAccounts and allDIDs are sorted sets of every folded name and number,
// score 0, so that listing pages in byte order with ZRANGEBYLEX.
func (k keys) allAccounts() string { return k.prefix + ":accounts" }
func (k keys) allDIDs() string     { return k.prefix + ":dids" }

// didsOf is the sorted set of an account's DID numbers, all of score 0 so
// that Redis orders them by bytes, as the contract wants.
func (k keys) didsOf(folded string) string { return k.prefix + ":did-by-acct:" + folded }

// refs is the sorted set (score 0) of the folded names of the accounts that
// name folded as a member or failover account; its first member is the one a
// refused delete reports, as the embedded backend does.
func (k keys) refs(folded string) string { return k.prefix + ":refs:" + folded }

// called is the JSON of fbdata.CalledNumber under its number.
func (k keys) called(number string) string { return k.prefix + ":called:" + number }

// allCalled is the sorted set (score 0) of every number in the
// called-numbers database, which ListCalledNumbers pages.
func (k keys) allCalled() string { return k.prefix + ":called-numbers" }

// version counts the writes of accounts and DIDs. Large writes watch it
// instead of every key they read (see maxWatched).
func (k keys) version() string { return k.prefix + ":version" }

// changes is the Pub/Sub channel of change notices (changes.go).
func (k keys) changes() string { return k.prefix + ":changes" }

// index holds the folded name of the account found under key in idx.
func (k keys) index(idx fbdata.Index, key string) string {
	return k.prefix + ":idx:" + indexNames[idx] + ":" + key
}

// indexNames are the key families of the indexes, short and stable: they
// are part of the layout, whatever fbdata.Index is spelled.
var indexNames = map[fbdata.Index]string{
	fbdata.IndexUUID:        "uuid",
	fbdata.IndexMAC:         "mac",
	fbdata.IndexSerial:      "serial",
	fbdata.IndexSenderEmail: "email",
}

// decode reads the JSON record v of what (for messages).
func decode[T any](v, what string) (T, error) {
	var rec T
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return rec, fmt.Errorf("decode %s record: %w", what, err)
	}
	return rec, nil
}

func encode(rec any, what string) (string, error) {
	v, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("encode %s record: %w", what, err)
	}
	return string(v), nil
}

// getRecord reads the JSON record under key with a plain GET, or
// fbdata.ErrNotFound. Any other failure, a lost connection say, is returned
// wrapped and never reads as not found: that would turn into a Reject.
func getRecord[T any](ctx context.Context, s *Store, key, what string) (T, error) {
	var rec T
	if err := ctx.Err(); err != nil {
		return rec, err
	}
	v, err := s.client.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return rec, fbdata.ErrNotFound
	}
	if err != nil {
		return rec, fmt.Errorf("read %s: %w", key, err)
	}
	return decodeKept[T](s, v, what)
}

// decodeKept is decode through s.decoded, for the records read on the
// request path.
func decodeKept[T any](s *Store, v, what string) (T, error) {
	if rec, ok := s.decoded.get(v); ok {
		if r, ok := rec.(T); ok {
			return r, nil
		}
	}
	rec, err := decode[T](v, what)
	if err == nil {
		s.decoded.put(v, rec)
	}
	return rec, err
}
