// Package recordcache is the distributed edge's cache of the profiles'
// kinds that are read on every request and rarely written (Schema.EdgeCache:
// the FireBrick routes). Without it, each INVITE's route costs a gRPC call
// to the dids service and a Redis read.
//
// It answers only while a watch of the kind is live (RecordService.
// WatchRecords): each notice forgets every answer of the kind, since a
// notice does not say which record changed, and a watch that breaks
// forgets them all until the next is live. An answer fetched while a
// notice came is passed on but not kept. Lookups that miss are kept too
// (a longest-prefix lookup misses most of its keys), so a cached GetFirst
// costs no round trip.
package recordcache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"kradius.dev/services/nas"
	"kradius.dev/services/rewatch"
	"kradius.dev/services/store/records"
)

// Cache is nas.Records with the answers of some kinds kept. The messages
// it returns are shared: callers must not modify them (the profiles
// don't).
type Cache struct {
	nas.Records
	kinds      map[string]*kind
	maxEntries int
	log        *slog.Logger
	lookups    *prometheus.CounterVec
}

// kind is one kind's answers: by key, a record or nil for "none".
type kind struct {
	mu      sync.RWMutex
	live    bool
	gen     uint64
	entries map[string]proto.Message
}

// New keeps the answers of kinds (their names) read through rs, at most
// maxEntries keys per kind (beyond, the kind's answers are dropped and
// kept afresh); call Run.
func New(rs nas.Records, kinds []string, maxEntries int, reg prometheus.Registerer, log *slog.Logger) *Cache {
	c := &Cache{Records: rs, kinds: map[string]*kind{}, maxEntries: maxEntries, log: log,
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_records_cache_lookups_total",
			Help: "Lookups of the profiles' cached kinds at the edge (FireBrick routes), answered here (hit) or asked of the service (miss).",
		}, []string{"kind", "result"}),
	}
	reg.MustRegister(c.lookups)
	for _, k := range kinds {
		c.kinds[k] = &kind{entries: map[string]proto.Message{}}
		c.lookups.WithLabelValues(k, "hit")
		c.lookups.WithLabelValues(k, "miss")
	}
	return c
}

// Get implements nas.Records.
func (c *Cache) Get(ctx context.Context, kindName, key string) (proto.Message, error) {
	k := c.kinds[kindName]
	if k == nil {
		return c.Records.Get(ctx, kindName, key)
	}
	m, ok, gen := k.lookup(key)
	if ok {
		c.lookups.WithLabelValues(kindName, "hit").Inc()
		return found(m, kindName, key)
	}
	c.lookups.WithLabelValues(kindName, "miss").Inc()
	m, err := c.Records.Get(ctx, kindName, key)
	switch {
	case err == nil:
		c.keep(k, gen, map[string]proto.Message{key: m})
	case errors.Is(err, records.ErrNotFound):
		c.keep(k, gen, map[string]proto.Message{key: nil})
	}
	return m, err
}

// GetFirst implements nas.Records: answered here when every key up to the
// first that exists is known.
func (c *Cache) GetFirst(ctx context.Context, kindName string, keys []string) (string, proto.Message, error) {
	k := c.kinds[kindName]
	if k == nil {
		return c.Records.GetFirst(ctx, kindName, keys)
	}
	key, m, ok, gen := k.first(keys)
	if ok {
		c.lookups.WithLabelValues(kindName, "hit").Inc()
		if m == nil {
			return "", nil, notFound(kindName, keys)
		}
		return key, m, nil
	}
	c.lookups.WithLabelValues(kindName, "miss").Inc()
	key, m, err := c.Records.GetFirst(ctx, kindName, keys)
	if err != nil && !errors.Is(err, records.ErrNotFound) {
		return key, m, err
	}
	// The keys before the one found exist not; the store's key is folded,
	// and the kinds cached fold keys to themselves.
	learned := map[string]proto.Message{}
	for _, kk := range keys {
		if err == nil && kk == key {
			learned[key] = m
			break
		}
		learned[kk] = nil
	}
	c.keep(k, gen, learned)
	return key, m, err
}

func found(m proto.Message, kindName, key string) (proto.Message, error) {
	if m == nil {
		return nil, notFound(kindName, []string{key})
	}
	return m, nil
}

func notFound(kindName string, keys []string) error {
	return &missError{kind: kindName, keys: keys}
}

// missError is a cached "none", as the service would say it.
type missError struct {
	kind string
	keys []string
}

func (e *missError) Error() string { return e.kind + " " + e.keys[0] + ": not found (cached)" }
func (e *missError) Unwrap() error { return records.ErrNotFound }

// lookup is a kept answer of key, while live; gen is the generation a
// fetch must still see to keep its answer.
func (k *kind) lookup(key string) (m proto.Message, ok bool, gen uint64) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if !k.live {
		return nil, false, k.gen
	}
	m, ok = k.entries[key]
	return m, ok, k.gen
}

// first is the answer of a GetFirst from kept answers: ok when every key
// up to the first that exists is known (m nil: none exists).
func (k *kind) first(keys []string) (key string, m proto.Message, ok bool, gen uint64) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if !k.live {
		return "", nil, false, k.gen
	}
	for _, kk := range keys {
		m, known := k.entries[kk]
		if !known {
			return "", nil, false, k.gen
		}
		if m != nil {
			return kk, m, true, k.gen
		}
	}
	return "", nil, true, k.gen
}

// keep stores answers fetched at generation gen, unless a notice came
// since.
func (c *Cache) keep(k *kind, gen uint64, answers map[string]proto.Message) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.live || k.gen != gen {
		return
	}
	if len(k.entries)+len(answers) > c.maxEntries {
		k.entries = map[string]proto.Message{}
	}
	for key, m := range answers {
		k.entries[key] = m
	}
}

// forget drops every answer of the kind, live or not from now.
func (k *kind) forget(live bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	k.live = live
	k.entries = map[string]proto.Message{}
}

// Run watches each cached kind until ctx ends.
func (c *Cache) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for name, k := range c.kinds {
		wg.Go(func() {
			rewatch.Run(ctx, func(ctx context.Context) error {
				// Whatever ends the watch, a change may be missed from here.
				defer k.forget(false)
				return c.Records.Watch(ctx, name, func() { k.forget(true) })
			}, func(err error, wait time.Duration) {
				c.log.Warn("records cache: watch broken; lookups go to the service until the next is live", "kind", name, "err", err, "retry_in", wait.String())
			})
		})
	}
	wg.Wait()
	return nil
}
