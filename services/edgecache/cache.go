// Package edgecache keeps, in the edge, the accounts and DIDs the accounts
// and dids services answered, for as long as the services' change feed
// (WatchChanges) says they are unchanged. A login or an inbound route then
// costs the edge a map lookup instead of a gRPC call and a Redis read; it is
// how a distributed edge answers at the rate of an all-in-one server.
//
// The cache serves only while a watch is live, and forgets everything when
// the watch ends: a feed that might have missed a change is a feed that
// cannot be trusted. Each entry also expires after a TTL, which bounds how
// stale an answer can be if a change ever escapes the feed (a write made to
// Redis behind kradius's back, a partition the keepalives have not noticed
// yet).
//
// Only successes are kept. A wrong password, an unknown account or DID goes
// to the services every time, so a Reject is always theirs.
package edgecache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/accounts"
	"kradius.dev/services/dids"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
)

// Accounts and DIDs are the services as the profiles ask them; the cache
// answers the same questions.
type (
	Accounts = nas.Accounts
	DIDs     = nas.DIDs
)

// Watch reports changes as fbdata.ChangeWatcher.WatchChanges does, or fails
// with an error wrapping accounts.ErrCannotWatch.
type Watch func(ctx context.Context, fn func(fbdata.Change)) error

// Options size the cache.
type Options struct {
	// MaxEntries bounds the accounts kept, and the DIDs; a full table
	// evicts one at random for each new one.
	MaxEntries int
	// TTL bounds how long an account or DID is kept without being read
	// again from its service, whatever the feed says.
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

// Cache holds what the edge keeps. Its Accounts and DIDs answer from it what
// they can. It is safe for concurrent use; Run must be running for it to
// keep anything.
type Cache struct {
	opts      Options
	passwords *password.Digester
	now       func() time.Time // tests replace it
	metrics   *metrics

	mu   sync.RWMutex
	live bool
	// gen counts the notices and the ends of watches. An answer fetched
	// while it moved may predate the change it reports, and is not kept.
	gen      uint64
	accounts table[keptAccount] // by folded name
	dids     table[fbdata.DID]  // by number
}

// keptAccount is an account as the service last answered it, with the
// digest of the password it last accepted for it, if it did since.
type keptAccount struct {
	account     fbdata.Account
	password    password.Digest
	hasPassword bool
}

// New returns an empty cache, registering its metrics with reg.
func New(o Options, reg prometheus.Registerer) *Cache {
	c := &Cache{opts: o, passwords: password.NewDigester(), now: time.Now}
	c.accounts.init(o.MaxEntries)
	c.dids.init(o.MaxEntries)
	c.metrics = newMetrics(reg, c)
	return c
}

// Accounts returns b answering from the cache what it can.
func (c *Cache) Accounts(b Accounts) Accounts { return &cachedAccounts{c: c, backend: b} }

// DIDs returns b answering from the cache what it can. Route keeps the
// account it answers with as well, for the logins and routes after it.
func (c *Cache) DIDs(b DIDs) DIDs { return &cachedDIDs{c: c, backend: b} }

type cachedAccounts struct {
	c       *Cache
	backend Accounts
}

// Authenticate answers from the cache when the account is kept and pw is the
// password the service last accepted for it; otherwise it asks the service.
func (ca *cachedAccounts) Authenticate(ctx context.Context, name, pw string) (fbdata.Account, error) {
	c := ca.c
	folded := fbdata.Fold(name)
	sum := c.passwords.Sum(folded, pw)
	if a, ok := c.account(folded, &sum); ok {
		return a, nil
	}
	gen := c.generation()
	a, err := ca.backend.Authenticate(ctx, name, pw)
	if err == nil {
		c.keepAccount(folded, gen, a, &sum)
	}
	return a, err
}

// Get answers from the cache when the account is kept.
func (ca *cachedAccounts) Get(ctx context.Context, name string) (fbdata.Account, error) {
	c := ca.c
	folded := fbdata.Fold(name)
	if a, ok := c.account(folded, nil); ok {
		return a, nil
	}
	gen := c.generation()
	a, err := ca.backend.Get(ctx, name)
	if err == nil {
		c.keepAccount(folded, gen, a, nil)
	}
	return a, err
}

// AccountBy always asks the service: the feed names accounts, not the index
// values they held before a change.
func (ca *cachedAccounts) AccountBy(ctx context.Context, idx fbdata.Index, value string) (fbdata.Account, error) {
	return ca.backend.AccountBy(ctx, idx, value)
}

type cachedDIDs struct {
	c       *Cache
	backend DIDs
}

// Route answers from the cache when both the DID and its account are kept.
func (cd *cachedDIDs) Route(ctx context.Context, number string) (dids.Route, error) {
	c := cd.c
	if d, ok := c.did(number); ok {
		if a, ok := c.account(fbdata.Fold(d.Account), nil); ok {
			return dids.Route{DID: d, Account: a, HasAccount: true}, nil
		}
	}
	gen := c.generation()
	r, err := cd.backend.Route(ctx, number)
	if err == nil {
		c.keepDID(number, gen, r.DID)
		if r.HasAccount {
			c.keepAccount(fbdata.Fold(r.DID.Account), gen, r.Account, nil)
		}
	}
	return r, err
}

// DIDsForAccount always asks the service: a notice names the DIDs that
// changed, not the accounts they left.
func (cd *cachedDIDs) DIDsForAccount(ctx context.Context, name string) ([]fbdata.DID, error) {
	return cd.backend.DIDsForAccount(ctx, name)
}

// CalledNumber always asks the service: the cdr consumer updates it with
// every call, and the feed does not report it.
func (cd *cachedDIDs) CalledNumber(ctx context.Context, number string) (fbdata.CalledNumber, error) {
	return cd.backend.CalledNumber(ctx, number)
}

// account returns the account kept under folded, if any, unexpired and, when
// sum is given, last accepted with that password.
func (c *Cache) account(folded string, sum *password.Digest) (fbdata.Account, bool) {
	c.mu.RLock()
	k, ok := c.accounts.get(folded, c.now())
	ok = ok && (sum == nil || k.hasPassword && k.password == *sum)
	c.mu.RUnlock()
	c.metrics.lookup(kindAccount, ok)
	if !ok {
		return fbdata.Account{}, false
	}
	// The slice is the only memory a caller could change under the others.
	k.account.Members = append([]string(nil), k.account.Members...)
	return k.account, true
}

func (c *Cache) did(number string) (fbdata.DID, bool) {
	c.mu.RLock()
	d, ok := c.dids.get(number, c.now())
	c.mu.RUnlock()
	c.metrics.lookup(kindDID, ok)
	if !ok {
		return fbdata.DID{}, false
	}
	return d.Clone(), true
}

func (c *Cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// keepAccount stores a, fetched when the generation was gen, if nothing
// changed since and a watch is live. sum is the password the service just
// accepted, or nil after a read, which keeps the one accepted before:
// nothing changed.
func (c *Cache) keepAccount(folded string, gen uint64, a fbdata.Account, sum *password.Digest) {
	a.Members = append([]string(nil), a.Members...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	k := keptAccount{account: a}
	if sum != nil {
		k.password, k.hasPassword = *sum, true
	} else if old, ok := c.accounts.get(folded, c.now()); ok {
		k.password, k.hasPassword = old.password, old.hasPassword
	}
	c.accounts.put(folded, k, c.now().Add(c.opts.TTL))
}

func (c *Cache) keepDID(number string, gen uint64, d fbdata.DID) {
	d = d.Clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	c.dids.put(number, d, c.now().Add(c.opts.TTL))
}

// notice applies one notice of the feed.
func (c *Cache) notice(n fbdata.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n.All {
		c.reset(true)
		return
	}
	c.gen++
	for _, name := range n.Accounts {
		c.accounts.delete(name)
	}
	for _, number := range n.DIDs {
		c.dids.delete(number)
	}
}

// forget empties the cache and stops it keeping anything until the next
// watch is live.
func (c *Cache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset(false)
}

// reset empties the cache, keeping from now on only if live. Called with
// c.mu held.
func (c *Cache) reset(live bool) {
	c.gen++
	c.live = live
	c.accounts.clear()
	c.dids.clear()
}

func (c *Cache) sizes() (accounts, dids int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.accounts.len(), c.dids.len()
}

func (c *Cache) isLive() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.live
}

// Run keeps a watch going with watch until ctx is done, starting a new one
// whenever one ends. The cache keeps nothing unless a watch is live.
func (c *Cache) Run(ctx context.Context, watch Watch, log *slog.Logger) {
	delay := minRetry
	for ctx.Err() == nil {
		started := c.now()
		err := watch(ctx, func(n fbdata.Change) {
			if n.All && !c.isLive() {
				log.Info("edge cache live: the accounts service reports every change", "max_entries", c.opts.MaxEntries, "ttl", c.opts.TTL.String())
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
			log.Warn("edge cache off: the accounts service cannot report changes; every request asks the services", "err", err, "retry_in", wait.String())
		case wasLive:
			log.Warn("change watch ended; edge cache emptied until a new watch is live", "err", err, "retry_in", wait.String())
		default:
			log.Debug("change watch failed", "err", err, "retry_in", wait.String())
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
}
