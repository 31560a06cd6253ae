package redisrecords

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/store/records"
)

// Update runs fn again when another client changed a watched key first,
// this many times at most, with jittered exponential backoff so that
// writers racing for one key spread out instead of colliding again. Each
// index value has a key of its own, so writers of different records of one
// kind contend only when they claim the same value.
const (
	maxAttempts = 32
	minBackoff  = 200 * time.Microsecond
	maxBackoff  = 50 * time.Millisecond
)

// maxWatched is the most keys a transaction WATCHes one by one: Redis scans
// a client's watched keys for each it adds, so watching n keys costs n².
// Past it the transaction watches the version key, which every write
// increments, and reads the rest unwatched.
const maxWatched = 512

// mgetChunk is the most keys one MGET reads, so that Redis serves other
// clients between the MGETs of a large transaction.
const mgetChunk = 1000

// txn is one optimistic transaction: every key is WATCHed before it is read
// (or the version key covers it), fn's writes are staged in memory, where
// its own reads see them, and finish checks and writes them in one
// MULTI/EXEC, which Redis refuses if a watched key changed.
type txn struct {
	s       *Store
	ctx     context.Context
	tx      *redis.Tx
	coarse  bool
	watched map[string]bool
	// read are the stored values of record keys fn read, by Redis key.
	read map[string]*string
	// recs are the records fn wrote or deleted, in the order first
	// touched, so that a commit's commands come out the same every time.
	recs  map[records.Ref]*staged
	order []records.Ref
}

// staged is a record's state when the transaction commits.
type staged struct {
	present bool
	value   string
	meta    meta
	// old is the stored metadata, nil for a record not stored; loaded by
	// finish.
	old *meta
}

var _ records.Txn = (*txn)(nil)

func (t *txn) Get(kindName, key string) ([]byte, error) {
	if _, err := t.s.kind(kindName); err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", kindName, key, err)
	}
	ref := records.Ref{Kind: kindName, Key: key}
	if r, ok := t.recs[ref]; ok {
		if !r.present {
			return nil, fmt.Errorf("get %s: %w", ref, records.ErrNotFound)
		}
		return []byte(r.value), nil
	}
	rkey := t.s.keys.record(kindName, key)
	v, ok := t.read[rkey]
	if !ok {
		if err := t.watch(rkey); err != nil {
			return nil, fmt.Errorf("get %s: %w", ref, err)
		}
		got, err := t.tx.Get(t.ctx, rkey).Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, fmt.Errorf("get %s: %w", ref, err)
		default:
			v = &got
		}
		t.read[rkey] = v
	}
	if v == nil {
		return nil, fmt.Errorf("get %s: %w", ref, records.ErrNotFound)
	}
	return []byte(*v), nil
}

func (t *txn) Put(r records.Record) error {
	ref := records.Ref{Kind: r.Kind, Key: r.Key}
	k, err := t.s.kind(r.Kind)
	if err != nil {
		return fmt.Errorf("put %s: %w", ref, err)
	}
	if r.Key == "" {
		return fmt.Errorf("put %s: empty key: %w", ref, records.ErrInvalid)
	}
	m := meta{}
	for idx, v := range r.Unique {
		if !k.unique[idx] {
			return fmt.Errorf("put %s: index %q: %w", ref, idx, records.ErrUnknownKind)
		}
		if v == "" {
			return fmt.Errorf("put %s: index %q: empty value: %w", ref, idx, records.ErrInvalid)
		}
		if m.unique == nil {
			m.unique = make(map[string]string, len(r.Unique))
		}
		m.unique[idx] = v
	}
	for _, target := range r.Refs {
		if _, err := t.s.kind(target.Kind); err != nil {
			return fmt.Errorf("put %s: reference %s: %w", ref, target, err)
		}
		// One reference is one member of the target's referrer set
		// however often the record names it.
		if !slices.Contains(m.refs, target) {
			m.refs = append(m.refs, target)
		}
	}
	t.stage(ref, &staged{present: true, value: string(r.Value), meta: m})
	return nil
}

func (t *txn) Delete(kindName, key string) error {
	ref := records.Ref{Kind: kindName, Key: key}
	if _, err := t.s.kind(kindName); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	t.stage(ref, &staged{})
	return nil
}

func (t *txn) stage(ref records.Ref, r *staged) {
	if _, ok := t.recs[ref]; !ok {
		t.order = append(t.order, ref)
	}
	t.recs[ref] = r
}

// watch WATCHes keys not yet watched, or switches to the version key once
// they would be too many. Keys watched before the switch stay watched, and
// every write increments the version key, so each read stays covered.
func (t *txn) watch(keys ...string) error {
	if t.coarse {
		return nil
	}
	var add []string
	for _, k := range keys {
		if !t.watched[k] && !slices.Contains(add, k) {
			add = append(add, k)
		}
	}
	if len(add) == 0 {
		return nil
	}
	if len(t.watched)+len(add) > maxWatched {
		add, t.coarse = []string{t.s.keys.version()}, true
	}
	if err := t.tx.Watch(t.ctx, add...).Err(); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	for _, k := range add {
		t.watched[k] = true
	}
	return nil
}

// finish checks the state the transaction leaves behind and writes it. It
// reads in two round trips whatever fn's writes need: the stored metadata of
// every record written (which index entries and references it gives up),
// then the owners of the index values claimed, the existence of the
// records referenced and the referrer counts of the records deleted.
func (t *txn) finish() error {
	if len(t.order) == 0 {
		return nil
	}
	mkeys := make([]string, len(t.order))
	for i, ref := range t.order {
		mkeys[i] = t.s.keys.meta(ref.Kind, ref.Key)
	}
	if err := t.watch(mkeys...); err != nil {
		return err
	}
	var chunks []*redis.SliceCmd
	if _, err := t.tx.Pipelined(t.ctx, func(p redis.Pipeliner) error {
		for c := range slices.Chunk(mkeys, mgetChunk) {
			chunks = append(chunks, p.MGet(t.ctx, c...))
		}
		return nil
	}); err != nil {
		return fmt.Errorf("read metadata: %w", err)
	}
	for i, c := range chunks {
		for j, v := range c.Val() {
			ref := t.order[i*mgetChunk+j]
			s, ok := v.(string)
			if !ok {
				continue
			}
			m, err := decodeMeta(s)
			if err != nil {
				return fmt.Errorf("%s: %w", ref, err)
			}
			t.recs[ref].old = &m
		}
	}

	type claim struct{ kind, index, value string }
	claims := map[claim][]string{}
	var claimOrder []claim
	owners := map[claim]*redis.StringCmd{}
	targets := map[records.Ref]*redis.IntCmd{}
	counts := map[records.Ref]*redis.IntCmd{}
	var watch []string
	for _, ref := range t.order {
		r := t.recs[ref]
		if !r.present {
			if r.old != nil {
				watch = append(watch, t.s.keys.referrers(ref.Kind, ref.Key))
				counts[ref] = nil
			}
			continue
		}
		for _, idx := range sortedIndexes(r.meta.unique) {
			c := claim{ref.Kind, idx, r.meta.unique[idx]}
			if _, ok := claims[c]; !ok {
				claimOrder = append(claimOrder, c)
				watch = append(watch, t.s.keys.unique(c.kind, c.index, c.value))
				owners[c] = nil
			}
			claims[c] = append(claims[c], ref.Key)
		}
		for _, target := range r.meta.refs {
			if _, ok := t.recs[target]; !ok {
				watch = append(watch, t.s.keys.record(target.Kind, target.Key))
				targets[target] = nil
			}
		}
	}
	if len(watch) > 0 {
		if err := t.watch(watch...); err != nil {
			return err
		}
		if _, err := t.tx.Pipelined(t.ctx, func(p redis.Pipeliner) error {
			for c := range owners {
				owners[c] = p.Get(t.ctx, t.s.keys.unique(c.kind, c.index, c.value))
			}
			for ref := range targets {
				targets[ref] = p.Exists(t.ctx, t.s.keys.record(ref.Kind, ref.Key))
			}
			for ref := range counts {
				counts[ref] = p.ZCard(t.ctx, t.s.keys.referrers(ref.Kind, ref.Key))
			}
			return nil
		}); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("read indexes and references: %w", err)
		}
	}

	// The checks judge the state after the transaction: records it writes
	// hold what they are written with, the others what they hold now.
	for _, c := range claimOrder {
		keys := claims[c]
		if len(keys) > 1 {
			return &records.Conflict{Ref: records.Ref{Kind: c.kind, Key: keys[1]}, Reason: fmt.Sprintf("%s %q is also written to %s", c.index, c.value, keys[0])}
		}
		owner, err := owners[c].Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read index %s of %s: %w", c.index, c.kind, err)
		}
		if _, written := t.recs[records.Ref{Kind: c.kind, Key: owner}]; owner != keys[0] && !written {
			return &records.Conflict{Ref: records.Ref{Kind: c.kind, Key: keys[0]}, Reason: fmt.Sprintf("%s %q is held by %s", c.index, c.value, owner)}
		}
	}
	for _, ref := range t.order {
		r := t.recs[ref]
		if !r.present {
			continue
		}
		for _, target := range r.meta.refs {
			if w, ok := t.recs[target]; ok {
				if !w.present {
					return &records.Conflict{Ref: ref, Reason: fmt.Sprintf("references %s, which the transaction deletes", target)}
				}
				continue
			}
			n, err := targets[target].Result()
			if err != nil {
				return fmt.Errorf("read %s: %w", target, err)
			}
			if n == 0 {
				return &records.Conflict{Ref: ref, Reason: fmt.Sprintf("references %s, which does not exist", target)}
			}
		}
	}
	for _, ref := range t.order {
		cmd, ok := counts[ref]
		if !ok {
			continue
		}
		n, err := cmd.Result()
		if err != nil {
			return fmt.Errorf("read referrers of %s: %w", ref, err)
		}
		// The stored set less the records of this transaction that named
		// ref before, plus those that name it after.
		for _, other := range t.order {
			o := t.recs[other]
			if o.old != nil && slices.Contains(o.old.refs, ref) {
				n--
			}
			if o.present && slices.Contains(o.meta.refs, ref) {
				n++
			}
		}
		if n > 0 {
			return &records.Conflict{Ref: ref, Reason: fmt.Sprintf("still referenced by %d record(s)", n)}
		}
	}
	return t.commit()
}

// commit writes the staged records, their index entries and referrer sets,
// increments the version key and publishes the change, in one MULTI/EXEC.
// Entries are removed before any is added, so that two records may swap an
// index value, or a record replace a reference, in one transaction.
func (t *txn) commit() error {
	var changed []records.Ref
	for _, ref := range t.order {
		if r := t.recs[ref]; r.present || r.old != nil {
			changed = append(changed, ref)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	// Checked last, so that a caller who gave up while the transaction
	// read gets no write.
	if err := t.ctx.Err(); err != nil {
		return err
	}
	k := t.s.keys
	_, err := t.tx.TxPipelined(t.ctx, func(p redis.Pipeliner) error {
		for _, ref := range changed {
			r := t.recs[ref]
			if r.old == nil {
				continue
			}
			for idx, v := range r.old.unique {
				if !r.present || r.meta.unique[idx] != v {
					p.Del(t.ctx, k.unique(ref.Kind, idx, v))
				}
			}
			for _, target := range r.old.refs {
				if !r.present || !slices.Contains(r.meta.refs, target) {
					p.ZRem(t.ctx, k.referrers(target.Kind, target.Key), member(ref))
				}
			}
		}
		for _, ref := range changed {
			r := t.recs[ref]
			if !r.present {
				p.Del(t.ctx, k.record(ref.Kind, ref.Key), k.meta(ref.Kind, ref.Key))
				p.ZRem(t.ctx, k.kindKeys(ref.Kind), ref.Key)
				continue
			}
			p.Set(t.ctx, k.record(ref.Kind, ref.Key), r.value, 0)
			p.Set(t.ctx, k.meta(ref.Kind, ref.Key), r.meta.encode(), 0)
			p.ZAdd(t.ctx, k.kindKeys(ref.Kind), redis.Z{Member: ref.Key})
			for _, idx := range sortedIndexes(r.meta.unique) {
				p.Set(t.ctx, k.unique(ref.Kind, idx, r.meta.unique[idx]), ref.Key, 0)
			}
			for _, target := range r.meta.refs {
				p.ZAdd(t.ctx, k.referrers(target.Kind, target.Key), redis.Z{Member: member(ref)})
			}
		}
		p.Incr(t.ctx, k.version())
		// Inside MULTI: the notice goes out when, and only if, the write
		// lands, and in the order the writes land.
		p.Publish(t.ctx, k.changes(), notice(changed))
		return nil
	})
	if err != nil && !errors.Is(err, redis.TxFailedErr) {
		return fmt.Errorf("write: %w", err)
	}
	return err
}

// validate checks, with an EXEC that writes nothing, that no watched key
// changed: redis.TxFailedErr if one did.
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

// Update runs fn in an optimistic transaction and commits what it staged;
// when another client wrote a watched key first, fn runs again on fresh
// reads.
//
// A refusal (ErrConflict, ErrNotFound, from the checks or from fn) is
// returned only once the reads it rests on are confirmed unchanged: reads of
// different keys happen at different moments, and a refusal judged on a mix
// of old and new values could describe a state that never existed.
func (s *Store) Update(ctx context.Context, fn func(records.Txn) error) error {
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
		// A Cluster client picks the node by the first watched key, so
		// one is needed before fn names any: the change channel's name,
		// which no write ever sets as a key, so it never fails an EXEC.
		err = s.client.Watch(ctx, func(tx *redis.Tx) error {
			t := &txn{s: s, ctx: ctx, tx: tx, watched: map[string]bool{}, read: map[string]*string{}, recs: map[records.Ref]*staged{}}
			err := fn(t)
			if err == nil {
				err = t.finish()
			}
			if refusal(err) {
				if verr := t.validate(); verr != nil {
					return verr
				}
			}
			return err
		}, s.keys.changes())
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
	}
	return fmt.Errorf("update: gave up after %d attempts: other writers kept changing the same keys (contention): %w", maxAttempts, err)
}

func refusal(err error) bool {
	return errors.Is(err, records.ErrConflict) || errors.Is(err, records.ErrNotFound)
}

func sortedIndexes(m map[string]string) []string {
	idx := make([]string, 0, len(m))
	for k := range m {
		idx = append(idx, k)
	}
	slices.Sort(idx)
	return idx
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
