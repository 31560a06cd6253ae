package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
)

// Optimistic transactions are retried this many times when another client
// changes a watched key first, with jittered exponential backoff between
// tries so that writers racing for one record spread out instead of
// colliding again.
const (
	maxAttempts = 16
	minBackoff  = 200 * time.Microsecond
	maxBackoff  = 50 * time.Millisecond
)

// maxWatched is the most keys a write WATCHes one by one. Redis keeps a
// client's watched keys in a list that WATCH scans for each key it adds, so
// watching n keys costs n²: 60,000 keys (a 10,000-account Apply) take
// seconds. A write that reads more watches the data set's version key
// instead, which every account and DID write increments.
const maxWatched = 512

// mgetChunk is the most keys one MGET reads.
const mgetChunk = 1000

// txn is one optimistic transaction. Every key is WATCHed before it is read
// (or, for a large write, the version key is), so EXEC fails if any key the
// decision rests on changed since; the writes are staged in memory, where
// later reads of the same transaction see them (as reads inside a bbolt
// transaction see its own writes), and go out in one MULTI/EXEC at commit.
type txn struct {
	ctx context.Context
	tx  *redis.Tx
	// coarse says the version key, watched from the start, covers every
	// read, so keys are read without WATCH.
	coarse bool
	// bump is the version key the commit increments, or "" for a write
	// (a called number) that no account or DID read depends on.
	bump string
	// notify is the channel the commit publishes notice on, when notice is
	// not empty: which accounts and DIDs the write changes (changes.go).
	notify, notice string
	watched        map[string]bool
	// vals holds every string key read or written, by key.
	vals map[string]value
	// staged are the keys of vals written, in the order first written, so
	// that the commands of a commit come out the same every time.
	staged []string
	// zops are the sorted-set changes, in order: removing and then adding a
	// member must leave it in.
	zops []zop
}

// value is a string key's value as the transaction sees it.
type value struct {
	data    string
	present bool
	staged  bool
}

// zop adds member to the sorted set key (score 0), or removes it.
type zop struct {
	add         bool
	key, member string
}

func newTxn(ctx context.Context, tx *redis.Tx, p plan) *txn {
	t := &txn{ctx: ctx, tx: tx, coarse: p.coarse, bump: p.bump, notify: p.notify, watched: make(map[string]bool, len(p.watch)), vals: make(map[string]value, len(p.watch))}
	for _, k := range p.watch {
		t.watched[k] = true
	}
	return t
}

// load reads the keys the transaction has not read yet, watching them first
// (unless the version key covers them), in one round trip of MGETs. Callers
// load what they know they will read up front, so that a write costs a few
// round trips however many keys it touches.
func (t *txn) load(keys ...string) error {
	var missing, unwatched []string
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if _, ok := t.vals[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		missing = append(missing, k)
		if !t.coarse && !t.watched[k] {
			unwatched = append(unwatched, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if len(unwatched) > 0 {
		if err := t.tx.Watch(t.ctx, unwatched...).Err(); err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		for _, k := range unwatched {
			t.watched[k] = true
		}
	}
	// Several MGETs in one pipeline rather than one: Redis answers other
	// clients (RADIUS lookups) between them.
	var chunks []*redis.SliceCmd
	_, err := t.tx.Pipelined(t.ctx, func(p redis.Pipeliner) error {
		for keys := range slices.Chunk(missing, mgetChunk) {
			chunks = append(chunks, p.MGet(t.ctx, keys...))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	for i, cmd := range chunks {
		for j, v := range cmd.Val() {
			// MGET answers nil for a missing key, and for a key holding
			// something other than a string.
			data, ok := v.(string)
			t.vals[missing[i*mgetChunk+j]] = value{data: data, present: ok}
		}
	}
	return nil
}

// get reads one string key, from the transaction's own writes if it made
// any.
func (t *txn) get(key string) (string, bool, error) {
	if err := t.load(key); err != nil {
		return "", false, err
	}
	v := t.vals[key]
	return v.data, v.present, nil
}

func (t *txn) set(key, data string) { t.stage(key, value{data: data, present: true}) }

func (t *txn) del(key string) { t.stage(key, value{}) }

func (t *txn) stage(key string, v value) {
	if !t.vals[key].staged {
		t.staged = append(t.staged, key)
	}
	v.staged = true
	t.vals[key] = v
}

func (t *txn) zadd(key, member string) {
	t.zops = append(t.zops, zop{add: true, key: key, member: member})
}

func (t *txn) zrem(key, member string) { t.zops = append(t.zops, zop{key: key, member: member}) }

// first reads the lowest member of a sorted set as Redis holds it, watching
// the set. It does not see zadd and zrem of this transaction: it serves
// DeleteAccount, which reads before it writes.
func (t *txn) first(key string) (string, bool, error) {
	if !t.coarse && !t.watched[key] {
		if err := t.tx.Watch(t.ctx, key).Err(); err != nil {
			return "", false, fmt.Errorf("watch: %w", err)
		}
		t.watched[key] = true
	}
	m, err := t.tx.ZRange(t.ctx, key, 0, 0).Result()
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", key, err)
	}
	if len(m) == 0 {
		return "", false, nil
	}
	return m[0], true, nil
}

// commit writes what is staged in one MULTI/EXEC, which Redis refuses
// (redis.TxFailedErr) if a watched key changed. The context is checked last
// here, so that a caller who gave up while the transaction read gets no
// write.
func (t *txn) commit() error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	if len(t.staged) == 0 && len(t.zops) == 0 {
		return nil
	}
	_, err := t.tx.TxPipelined(t.ctx, func(p redis.Pipeliner) error {
		for _, k := range t.staged {
			if v := t.vals[k]; v.present {
				p.Set(t.ctx, k, v.data, 0)
			} else {
				p.Del(t.ctx, k)
			}
		}
		for _, op := range t.zops {
			if op.add {
				p.ZAdd(t.ctx, op.key, redis.Z{Member: op.member})
			} else {
				p.ZRem(t.ctx, op.key, op.member)
			}
		}
		if t.bump != "" {
			p.Incr(t.ctx, t.bump)
		}
		if t.notice != "" {
			// Inside MULTI: the notice goes out when, and only if, the
			// write lands.
			p.Publish(t.ctx, t.notify, t.notice)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.TxFailedErr) {
		return fmt.Errorf("write: %w", err)
	}
	return err
}

// validate checks that no watched key changed, with an EXEC that writes
// nothing: redis.TxFailedErr if one did.
func (t *txn) validate() error {
	_, err := t.tx.TxPipelined(t.ctx, func(p redis.Pipeliner) error {
		p.Ping(t.ctx)
		return nil
	})
	if err != nil && !errors.Is(err, redis.TxFailedErr) {
		return fmt.Errorf("confirm reads: %w", err)
	}
	return err
}

// plan is what a transaction watches from the start (at least one key: a
// Redis Cluster client picks the node by them) and the version key it
// increments.
type plan struct {
	watch  []string
	coarse bool
	bump   string
	notify string
}

// update runs fn as a write of accounts and DIDs. reads are the keys it
// reads first: watched one by one or, past maxWatched, covered by watching
// the version key. The commit increments the version key either way, so that
// a large write starts over when any other write lands while it reads.
func (s *Store) update(ctx context.Context, reads []string, fn func(*txn) error) error {
	p := plan{watch: reads, bump: s.keys.version(), notify: s.keys.changes()}
	if len(reads) > maxWatched {
		p.watch, p.coarse = []string{s.keys.version()}, true
	}
	return s.transact(ctx, p, func(t *txn) error {
		if err := fn(t); err != nil {
			return err
		}
		t.notice = s.keys.changeNotice(t.staged)
		return nil
	})
}

// transact runs fn in an optimistic transaction, then commits what fn
// staged. When another client wrote a watched key first, the whole
// transaction, fn included, runs again on fresh reads.
//
// A refusal (fbdata.ErrConflict, fbdata.ErrNotFound) is returned only once the
// reads it rests on are confirmed unchanged: reads of different keys happen
// at different moments, and a refusal judged on a mix of old and new values
// could describe a state that never existed.
func (s *Store) transact(ctx context.Context, p plan, fn func(*txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	for attempt := range maxAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		err = s.client.Watch(ctx, func(tx *redis.Tx) error {
			t := newTxn(ctx, tx, p)
			if err := fn(t); err != nil {
				if refusal(err) {
					if verr := t.validate(); verr != nil {
						return verr
					}
				}
				return err
			}
			return t.commit()
		}, p.watch...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("gave up after %d attempts: other writers kept changing the same records (contention): %w", maxAttempts, err)
}

func refusal(err error) bool {
	return errors.Is(err, fbdata.ErrConflict) || errors.Is(err, fbdata.ErrNotFound)
}

// backoff is a random wait below minBackoff·2^attempt, capped at maxBackoff.
func backoff(attempt int) time.Duration {
	limit := maxBackoff
	if attempt < 16 {
		limit = min(minBackoff<<attempt, maxBackoff)
	}
	return rand.N(limit) + 1
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
