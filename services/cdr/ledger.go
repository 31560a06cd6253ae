package cdr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/store/boltfile"
)

var (
	_ BatchLedger = (*RedisLedger)(nil)
	_ BatchLedger = (*BoltLedger)(nil)
	_ Claims      = (*RedisLedger)(nil)
	_ CallStore   = (*RedisLedger)(nil)
	_ CallStore   = (*BoltLedger)(nil)
)

// RedisLedger keeps done-marks in Redis, as keys that expire. They carry the
// data set's hash tag, so that on Redis Cluster they live beside it.
type RedisLedger struct {
	client redis.UniversalClient
	prefix string // of done-marks
	claims string // prefix of claims
	calls  string // prefix of calls
	ttl    time.Duration
}

// NewRedisLedger uses client; prefix is the data set's key prefix ("{kradius}").
func NewRedisLedger(client redis.UniversalClient, prefix string, ttl time.Duration) *RedisLedger {
	return &RedisLedger{client: client, prefix: prefix + ":done:", claims: prefix + ":claim:", calls: prefix + ":call:", ttl: ttl}
}

// Claims implements Claims: a claim is a key holding "partition:offset",
// which expires as a done-mark does. A CDR's done-mark, from the consumer
// before transactions, reads as a claim from partition -1.
func (l *RedisLedger) Claims(ctx context.Context, keys []string) ([]Claim, []bool, error) {
	gets := make([]*redis.StringCmd, len(keys))
	marks := make([]*redis.IntCmd, len(keys))
	_, err := l.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			gets[i] = p.Get(ctx, l.claims+k)
			marks[i] = p.Exists(ctx, l.prefix+k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, err
	}
	claims, ok := make([]Claim, len(keys)), make([]bool, len(keys))
	for i := range keys {
		v, err := gets[i].Result()
		switch {
		case err == nil:
			if _, err := fmt.Sscanf(v, "%d:%d", &claims[i].Partition, &claims[i].Offset); err != nil {
				return nil, nil, fmt.Errorf("claim %s: %q: %w", keys[i], v, err)
			}
			ok[i] = true
		case !errors.Is(err, redis.Nil):
			return nil, nil, err
		case marks[i].Val() == 1:
			claims[i], ok[i] = Claim{Partition: -1, Offset: -1}, true
		}
	}
	return claims, ok, nil
}

// SetClaims implements Claims, in one pipeline.
func (l *RedisLedger) SetClaims(ctx context.Context, keys []string, claims []Claim) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := l.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			p.Set(ctx, l.claims+k, fmt.Sprintf("%d:%d", claims[i].Partition, claims[i].Offset), l.ttl)
		}
		return nil
	})
	return err
}

func (l *RedisLedger) Done(ctx context.Context, key string) (bool, error) {
	n, err := l.client.Exists(ctx, l.prefix+key).Result()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

func (l *RedisLedger) MarkDone(ctx context.Context, key string) error {
	return l.client.Set(ctx, l.prefix+key, "1", l.ttl).Err()
}

// DoneMany checks keys in one pipeline.
func (l *RedisLedger) DoneMany(ctx context.Context, keys []string) ([]bool, error) {
	cmds := make([]*redis.IntCmd, len(keys))
	_, err := l.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Exists(ctx, l.prefix+k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	done := make([]bool, len(keys))
	for i, c := range cmds {
		done[i] = c.Val() == 1
	}
	return done, nil
}

// MarkDoneMany marks keys in one pipeline.
func (l *RedisLedger) MarkDoneMany(ctx context.Context, keys []string) error {
	_, err := l.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, l.prefix+k, "1", l.ttl)
		}
		return nil
	})
	return err
}

// AddCallRecords implements CallStore: a call is a hash of its legs'
// records, which expires a TTL after its last write.
func (l *RedisLedger) AddCallRecords(ctx context.Context, recs []CallRecord) error {
	_, err := l.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range recs {
			p.HSet(ctx, l.calls+r.Call, r.Leg, r.Wire)
			p.Expire(ctx, l.calls+r.Call, l.ttl)
		}
		return nil
	})
	return err
}

// CallRecords implements CallStore.
func (l *RedisLedger) CallRecords(ctx context.Context, calls []string) ([][][]byte, error) {
	cmds := make([]*redis.StringSliceCmd, len(calls))
	if _, err := l.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = p.HVals(ctx, l.calls+c)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	out := make([][][]byte, len(calls))
	for i, cmd := range cmds {
		for _, v := range cmd.Val() {
			out[i] = append(out[i], []byte(v))
		}
	}
	return out, nil
}

// BoltLedger keeps done-marks in a bbolt file, for -target=all. Each mark
// holds its expiry; expired marks are swept at open and then hourly.
type BoltLedger struct {
	db   *bolt.DB
	ttl  time.Duration
	now  func() time.Time
	stop chan struct{}
}

var (
	ledgerBucket = []byte("done")
	// callsBucket holds a bucket per call: its legs' records, and its
	// expiry under callExpiry, which no leg name ("<status>/...") is.
	callsBucket = []byte("calls")
	callExpiry  = []byte{0}
)

// OpenBoltLedger opens (creating) the ledger file at path.
func OpenBoltLedger(path string, ttl time.Duration) (*BoltLedger, error) {
	db, err := boltfile.Open("ledger", path, ledgerBucket, callsBucket)
	if err != nil {
		return nil, err
	}
	l := &BoltLedger{db: db, ttl: ttl, now: time.Now, stop: make(chan struct{})}
	if err := l.sweep(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	go l.sweepHourly()
	return l, nil
}

func (l *BoltLedger) Done(_ context.Context, key string) (bool, error) {
	var done bool
	err := l.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(ledgerBucket).Get([]byte(key))
		done = len(v) == 8 && l.now().Unix() < int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return done, err
}

// MarkDone goes through bbolt's Batch: the processor's lanes mark
// concurrently, and their marks share one transaction and one fsync.
func (l *BoltLedger) MarkDone(_ context.Context, key string) error {
	expires := binary.BigEndian.AppendUint64(nil, uint64(l.now().Add(l.ttl).Unix()))
	return l.db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(ledgerBucket).Put([]byte(key), expires) })
}

// DoneMany checks keys in one read transaction.
func (l *BoltLedger) DoneMany(_ context.Context, keys []string) ([]bool, error) {
	done := make([]bool, len(keys))
	now := l.now().Unix()
	err := l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(ledgerBucket)
		for i, k := range keys {
			v := b.Get([]byte(k))
			done[i] = len(v) == 8 && now < int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return done, err
}

// MarkDoneMany marks keys in one transaction and one fsync.
func (l *BoltLedger) MarkDoneMany(_ context.Context, keys []string) error {
	expires := binary.BigEndian.AppendUint64(nil, uint64(l.now().Add(l.ttl).Unix()))
	return l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(ledgerBucket)
		for _, k := range keys {
			if err := b.Put([]byte(k), expires); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddCallRecords implements CallStore, in one transaction.
func (l *BoltLedger) AddCallRecords(_ context.Context, recs []CallRecord) error {
	expires := binary.BigEndian.AppendUint64(nil, uint64(l.now().Add(l.ttl).Unix()))
	return l.db.Update(func(tx *bolt.Tx) error {
		calls := tx.Bucket(callsBucket)
		for _, r := range recs {
			b, err := calls.CreateBucketIfNotExists([]byte(r.Call))
			if err != nil {
				return err
			}
			if err := errors.Join(b.Put([]byte(r.Leg), r.Wire), b.Put(callExpiry, expires)); err != nil {
				return err
			}
		}
		return nil
	})
}

// CallRecords implements CallStore, in one read transaction.
func (l *BoltLedger) CallRecords(_ context.Context, calls []string) ([][][]byte, error) {
	out := make([][][]byte, len(calls))
	err := l.db.View(func(tx *bolt.Tx) error {
		for i, c := range calls {
			b := tx.Bucket(callsBucket).Bucket([]byte(c))
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, v []byte) error {
				if !bytes.Equal(k, callExpiry) {
					out[i] = append(out[i], bytes.Clone(v))
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (l *BoltLedger) sweep() error {
	now := uint64(l.now().Unix())
	expired := func(v []byte) bool { return len(v) != 8 || binary.BigEndian.Uint64(v) <= now }
	return l.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(ledgerBucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if expired(v) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		calls := tx.Bucket(callsBucket)
		var gone [][]byte
		if err := calls.ForEachBucket(func(k []byte) error {
			if expired(calls.Bucket(k).Get(callExpiry)) {
				gone = append(gone, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range gone {
			if err := calls.DeleteBucket(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (l *BoltLedger) sweepHourly() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			_ = l.sweep() // a failed sweep only delays reclaiming space
		}
	}
}

// Close stops the sweeper and closes the file.
func (l *BoltLedger) Close() error {
	close(l.stop)
	return l.db.Close()
}
