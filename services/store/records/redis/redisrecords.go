// Package redisrecords is the records.Store backend kept in Redis (a single
// server, Sentinel or Cluster), so that several kradius servers share one
// data set. The key layout and the concurrency are in README.md.
package redisrecords

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/store/records"
)

var _ records.Store = (*Store)(nil)

// byTries bounds how often By reads again when the index entry and the
// record disagree: each disagreement is a write landing between its two
// reads, so one that persists is corruption.
const byTries = 5

// Store is a records.Store in Redis.
type Store struct {
	client redis.UniversalClient
	keys   keys
	kinds  map[string]kind
}

// kind is a declared kind, with its indexes as a set.
type kind struct {
	name   string
	unique map[string]bool
}

// New wraps client as the records store of the data set prefix, which must
// start with a Redis hash tag ("{kradius}", "{lab}:records") so that every
// key of the data set shares one slot and one MULTI/EXEC can change any of
// them on Redis Cluster. The store owns the client: Close closes it.
func New(client redis.UniversalClient, prefix string, kinds []records.Kind) (*Store, error) {
	end := strings.IndexByte(prefix, '}')
	if !strings.HasPrefix(prefix, "{") || end < 2 {
		return nil, fmt.Errorf("redis records: prefix %q does not start with a hash tag such as {kradius}", prefix)
	}
	s := &Store{client: client, keys: keys{prefix: prefix}, kinds: make(map[string]kind, len(kinds))}
	for _, k := range kinds {
		if err := validName(k.Name); err != nil {
			return nil, fmt.Errorf("redis records: kind %q: %w", k.Name, err)
		}
		if _, dup := s.kinds[k.Name]; dup {
			return nil, fmt.Errorf("redis records: kind %q declared twice", k.Name)
		}
		d := kind{name: k.Name, unique: make(map[string]bool, len(k.Unique))}
		for _, idx := range k.Unique {
			if err := validName(idx); err != nil {
				return nil, fmt.Errorf("redis records: kind %q: index %q: %w", k.Name, idx, err)
			}
			if d.unique[idx] {
				return nil, fmt.Errorf("redis records: kind %q: index %q declared twice", k.Name, idx)
			}
			d.unique[idx] = true
		}
		s.kinds[k.Name] = d
	}
	return s, nil
}

// validName keeps kind and index names to the contract's alphabet for
// kinds, which leaves out ':' and NUL: the key layout and the referrer
// members rely on both.
func validName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return fmt.Errorf("%q is not a letter, digit, '.', '-' or '_'", c)
		}
	}
	return nil
}

func (s *Store) kind(name string) (kind, error) {
	k, ok := s.kinds[name]
	if !ok {
		return kind{}, fmt.Errorf("kind %q: %w", name, records.ErrUnknownKind)
	}
	return k, nil
}

// Close closes the client.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close redis records %s: %w", s.keys.prefix, err)
	}
	return nil
}

// Get reads one record.
func (s *Store) Get(ctx context.Context, kindName, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := s.kind(kindName); err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", kindName, key, err)
	}
	v, err := s.client.Get(ctx, s.keys.record(kindName, key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("get %s/%s: %w", kindName, key, records.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", kindName, key, err)
	}
	return v, nil
}

// GetMany reads records of one kind with one MGET.
func (s *Store) GetMany(ctx context.Context, kindName string, keys []string) ([][]byte, []error) {
	values, errs := make([][]byte, len(keys)), make([]error, len(keys))
	fail := func(err error) ([][]byte, []error) {
		for i := range errs {
			errs[i] = fmt.Errorf("get %s/%s: %w", kindName, keys[i], err)
		}
		return values, errs
	}
	if len(keys) == 0 {
		return values, errs
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if _, err := s.kind(kindName); err != nil {
		return fail(err)
	}
	rkeys := make([]string, len(keys))
	for i, k := range keys {
		rkeys[i] = s.keys.record(kindName, k)
	}
	got, err := s.client.MGet(ctx, rkeys...).Result()
	if err != nil {
		return fail(err)
	}
	for i, v := range got {
		if v, ok := v.(string); ok {
			values[i] = []byte(v)
		} else {
			errs[i] = fmt.Errorf("get %s/%s: %w", kindName, keys[i], records.ErrNotFound)
		}
	}
	return values, errs
}

// By reads the index entry, then the record and its metadata, and checks
// that the record still holds the value: a write may land between the two
// reads, and then By reads again.
func (s *Store) By(ctx context.Context, kindName, index, value string) (records.Entry, error) {
	if err := ctx.Err(); err != nil {
		return records.Entry{}, err
	}
	k, err := s.kind(kindName)
	if err != nil {
		return records.Entry{}, fmt.Errorf("by %s %s %q: %w", kindName, index, value, err)
	}
	if !k.unique[index] {
		return records.Entry{}, fmt.Errorf("by %s %s %q: index %q: %w", kindName, index, value, index, records.ErrUnknownKind)
	}
	for range byTries {
		key, err := s.client.Get(ctx, s.keys.unique(kindName, index, value)).Result()
		if errors.Is(err, redis.Nil) {
			return records.Entry{}, fmt.Errorf("by %s %s %q: %w", kindName, index, value, records.ErrNotFound)
		}
		if err != nil {
			return records.Entry{}, fmt.Errorf("by %s %s %q: %w", kindName, index, value, err)
		}
		got, err := s.client.MGet(ctx, s.keys.record(kindName, key), s.keys.meta(kindName, key)).Result()
		if err != nil {
			return records.Entry{}, fmt.Errorf("by %s %s %q: %w", kindName, index, value, err)
		}
		v, ok := got[0].(string)
		m, mok := got[1].(string)
		if !ok || !mok {
			continue
		}
		md, err := decodeMeta(m)
		if err != nil {
			return records.Entry{}, fmt.Errorf("by %s %s %q: %s/%s: %w", kindName, index, value, kindName, key, err)
		}
		if md.unique[index] == value {
			return records.Entry{Key: key, Value: []byte(v)}, nil
		}
	}
	// Not ErrNotFound: an index entry naming a record that does not hold
	// the value is a broken data set, not an unknown value.
	return records.Entry{}, fmt.Errorf("by %s %s %q: index entry and record disagree after %d reads (corrupt data set?)", kindName, index, value, byTries)
}

// Referrers reads the target's referrer set over the kind's part of it,
// which ZRANGEBYLEX returns in key order.
func (s *Store) Referrers(ctx context.Context, kindName string, target records.Ref) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := s.kind(kindName); err != nil {
		return nil, fmt.Errorf("referrers of %s in %s: %w", target, kindName, err)
	}
	if _, err := s.kind(target.Kind); err != nil {
		return nil, fmt.Errorf("referrers of %s in %s: %w", target, kindName, err)
	}
	from := kindName + "\x00"
	members, err := s.client.ZRangeByLex(ctx, s.keys.referrers(target.Kind, target.Key), &redis.ZRangeBy{
		Min: "[" + from,
		Max: "(" + kindName + "\x01",
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("referrers of %s in %s: %w", target, kindName, err)
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = m[len(from):]
	}
	return keys, nil
}

// List pages the kind's key set with ZRANGEBYLEX and reads the page with one
// MGET. A key whose record is gone was deleted between the two reads, and is
// left out as a read a moment later would.
func (s *Store) List(ctx context.Context, kindName, after string, limit int) ([]records.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := s.kind(kindName); err != nil {
		return nil, fmt.Errorf("list %s: %w", kindName, err)
	}
	if limit <= 0 {
		return nil, nil
	}
	from := "-"
	if after != "" {
		from = "(" + after
	}
	keys, err := s.client.ZRangeByLex(ctx, s.keys.kindKeys(kindName), &redis.ZRangeBy{Min: from, Max: "+", Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("list %s after %q: %w", kindName, after, err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	rkeys := make([]string, len(keys))
	for i, k := range keys {
		rkeys[i] = s.keys.record(kindName, k)
	}
	got, err := s.client.MGet(ctx, rkeys...).Result()
	if err != nil {
		return nil, fmt.Errorf("list %s after %q: %w", kindName, after, err)
	}
	entries := make([]records.Entry, 0, len(keys))
	for i, v := range got {
		if v, ok := v.(string); ok {
			entries = append(entries, records.Entry{Key: keys[i], Value: []byte(v)})
		}
	}
	return entries, nil
}

// keys spells the Redis keys of one data set. Kind names hold no ':', so
// the part after the kind is the key (or index name) as is, whatever it
// holds.
type keys struct{ prefix string }

func (k keys) record(kind, key string) string { return k.prefix + ":r:" + kind + ":" + key }
func (k keys) kindKeys(kind string) string    { return k.prefix + ":k:" + kind }

// unique is the entry of one index value. The value goes last with its
// length in front, so that the key reads back unambiguously whatever bytes
// the value holds; index names are kept to the kind-name alphabet in New,
// so the part before it is unambiguous too.
func (k keys) unique(kind, index, value string) string {
	return k.prefix + ":u:" + kind + ":" + index + ":" + strconv.Itoa(len(value)) + ":" + value
}
func (k keys) meta(kind, key string) string { return k.prefix + ":m:" + kind + ":" + key }
func (k keys) referrers(kind, key string) string {
	return k.prefix + ":rr:" + kind + ":" + key
}
func (k keys) version() string { return k.prefix + ":ver" }
func (k keys) changes() string { return k.prefix + ":changes" }

// member is a referrer's entry in its target's referrer set.
func member(r records.Ref) string { return r.Kind + "\x00" + r.Key }
