// Package accountcache keeps, in the edge, the accounts the accounts service
// answered, for as long as the service's change feed (WatchAccounts) says
// they are unchanged. A login then costs the edge a map lookup instead of a
// gRPC call and a Redis read; it is how a distributed edge answers at the
// rate of an all-in-one server.
//
// The cache serves only while a watch is live, and forgets everything when
// the watch ends: a feed that might have missed a change is a feed that
// cannot be trusted. Each entry also expires after a TTL, which bounds how
// stale an answer can be if a change ever escapes the feed (a write made to
// Redis behind kradius's back, a partition the keepalives have not noticed
// yet).
//
// Only successes are kept. A wrong password or an unknown account goes to
// the accounts service every time, so a Reject is always the service's.
package accountcache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/accounts"
	"kradius.dev/services/password"
	"kradius.dev/services/store"
)

// Backend is the accounts service as the FaxBack profile asks it.
type Backend interface {
	Authenticate(ctx context.Context, name, password string) (store.Account, error)
	Get(ctx context.Context, name string) (store.Account, error)
	AccountBy(ctx context.Context, idx store.Index, value string) (store.Account, error)
}

// Watch reports account changes as store.AccountWatcher.WatchAccounts does,
// or fails with an error wrapping accounts.ErrCannotWatch.
type Watch func(ctx context.Context, fn func(store.AccountChange)) error

// Options size the cache.
type Options struct {
	// MaxEntries bounds the accounts kept; a full cache evicts one at random
	// for each new one.
	MaxEntries int
	// TTL bounds how long an account is kept without being read again from
	// the service, whatever the feed says.
	TTL time.Duration
}

// Retry delays of Run.
const (
	minRetry = 100 * time.Millisecond
	maxRetry = 10 * time.Second
	// cannotWatchRetry is how often a service that cannot report changes
	// is asked again: a rollout may replace it with one that can.
	cannotWatchRetry = time.Minute
)

// Cache is a Backend answering from memory what it can. It is safe for
// concurrent use; Run must be running for it to keep anything.
type Cache struct {
	backend   Backend
	opts      Options
	passwords *password.Digester
	now       func() time.Time // tests replace it
	metrics   *metrics

	mu   sync.RWMutex
	live bool
	// gen counts the notices and the ends of watches. An answer fetched
	// while it moved may predate the change it reports, and is not kept.
	gen     uint64
	entries map[string]*entry // by folded name
}

// entry is one account as the service last answered it.
type entry struct {
	account store.Account
	expires time.Time
	// password is the digest of the password the service last accepted
	// for the account, when it did since the entry was made.
	password    password.Digest
	hasPassword bool
}

// New returns a cache in front of b, registering its metrics with reg.
func New(b Backend, o Options, reg prometheus.Registerer) *Cache {
	c := &Cache{backend: b, opts: o, passwords: password.NewDigester(), now: time.Now, entries: map[string]*entry{}}
	c.metrics = newMetrics(reg, c)
	return c
}

// Authenticate answers from the cache when the account is kept and pw is the
// password the service last accepted for it; otherwise it asks the service.
func (c *Cache) Authenticate(ctx context.Context, name, pw string) (store.Account, error) {
	folded := store.Fold(name)
	sum := c.passwords.Sum(folded, pw)
	if a, ok := c.lookup(folded, &sum); ok {
		return a, nil
	}
	gen := c.generation()
	a, err := c.backend.Authenticate(ctx, name, pw)
	if err == nil {
		c.keep(folded, gen, a, &sum)
	}
	return a, err
}

// Get answers from the cache when the account is kept.
func (c *Cache) Get(ctx context.Context, name string) (store.Account, error) {
	folded := store.Fold(name)
	if a, ok := c.lookup(folded, nil); ok {
		return a, nil
	}
	gen := c.generation()
	a, err := c.backend.Get(ctx, name)
	if err == nil {
		c.keep(folded, gen, a, nil)
	}
	return a, err
}

// AccountBy always asks the service: the feed names accounts, not the index
// values they held before a change.
func (c *Cache) AccountBy(ctx context.Context, idx store.Index, value string) (store.Account, error) {
	return c.backend.AccountBy(ctx, idx, value)
}

// lookup returns the account kept under folded, if any, unexpired and, when
// sum is given, last accepted with that password.
func (c *Cache) lookup(folded string, sum *password.Digest) (store.Account, bool) {
	c.mu.RLock()
	e := c.entries[folded]
	ok := e != nil && c.now().Before(e.expires) && (sum == nil || e.hasPassword && e.password == *sum)
	var a store.Account
	if ok {
		a = e.account
	}
	c.mu.RUnlock()
	if !ok {
		c.metrics.misses.Inc()
		return store.Account{}, false
	}
	c.metrics.hits.Inc()
	// The slice is the only memory a caller could change under the others.
	a.Members = append([]string(nil), a.Members...)
	return a, true
}

func (c *Cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// keep stores a, fetched when the generation was gen, if nothing changed
// since and a watch is live. sum is the password the service just accepted,
// or nil after a Get, which keeps the one accepted before: nothing changed.
func (c *Cache) keep(folded string, gen uint64, a store.Account, sum *password.Digest) {
	if c.opts.MaxEntries <= 0 {
		return
	}
	a.Members = append([]string(nil), a.Members...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	e := c.entries[folded]
	if e == nil {
		if len(c.entries) >= c.opts.MaxEntries {
			for k := range c.entries { // Go starts map iteration at random
				delete(c.entries, k)
				break
			}
		}
		e = &entry{}
		c.entries[folded] = e
	}
	e.account, e.expires = a, c.now().Add(c.opts.TTL)
	if sum != nil {
		e.password, e.hasPassword = *sum, true
	}
}

// notice applies one notice of the feed.
func (c *Cache) notice(n store.AccountChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if n.All {
		clear(c.entries)
		c.live = true
		return
	}
	for _, name := range n.Names {
		delete(c.entries, name)
	}
}

// forget empties the cache and stops it keeping anything until the next
// watch is live.
func (c *Cache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = false
	clear(c.entries)
}

func (c *Cache) size() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

func (c *Cache) isLive() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.live
}

// Run keeps a watch going with watch until ctx is done, starting a new one
// whenever one ends. The cache keeps accounts only while a watch is live.
func (c *Cache) Run(ctx context.Context, watch Watch, log *slog.Logger) {
	delay := minRetry
	for ctx.Err() == nil {
		started := c.now()
		err := watch(ctx, func(n store.AccountChange) {
			if n.All && !c.isLive() {
				log.Info("account cache live: the accounts service reports every change", "max_entries", c.opts.MaxEntries, "ttl", c.opts.TTL.String())
			}
			c.notice(n)
		})
		wasLive := c.isLive()
		c.forget()
		if ctx.Err() != nil {
			return
		}
		c.metrics.watchEnds.Inc()
		// A watch that ran a while was healthy; start the backoff over.
		if c.now().Sub(started) > maxRetry {
			delay = minRetry
		}
		wait := delay
		delay = min(2*delay, maxRetry)
		switch {
		case errors.Is(err, accounts.ErrCannotWatch):
			wait = cannotWatchRetry
			log.Warn("account cache off: the accounts service cannot report account changes; every login asks it", "err", err, "retry_in", wait.String())
		case wasLive:
			log.Warn("account watch ended; account cache emptied until a new watch is live", "err", err, "retry_in", wait.String())
		default:
			log.Debug("account watch failed", "err", err, "retry_in", wait.String())
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
}
