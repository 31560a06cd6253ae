package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
)

// readAttempts bounds the retries of a read of two keys (an index entry and
// its account, a DID list and its DIDs) that found them disagreeing. The
// writes that change both are atomic, so a disagreement is a write landing
// between the two reads and the next try sees it whole; one that persists is
// corruption.
const readAttempts = 5

// GetAccount looks an account up by name, case-insensitively.
func (s *Store) GetAccount(ctx context.Context, name string) (fbdata.Account, error) {
	a, err := getRecord[fbdata.Account](ctx, s, s.keys.account(fbdata.Fold(name)), "account")
	if err != nil {
		return fbdata.Account{}, fmt.Errorf("get account %q: %w", name, err)
	}
	return a, nil
}

// AccountBy looks an account up by one of its indexed fields: the index
// entry, then the account it names. A value that cannot be a key of idx (a
// malformed MAC address, say) is simply not found: it is what a NAS sent, not
// a write to refuse.
func (s *Store) AccountBy(ctx context.Context, idx fbdata.Index, value string) (fbdata.Account, error) {
	if idx.Field() == "" {
		return fbdata.Account{}, fmt.Errorf("get account by %s: %w: unknown index", idx, fbdata.ErrInvalid)
	}
	a, err := s.accountBy(ctx, idx, value)
	if err != nil {
		return fbdata.Account{}, fmt.Errorf("get account by %s %q: %w", idx, value, err)
	}
	return a, nil
}

func (s *Store) accountBy(ctx context.Context, idx fbdata.Index, value string) (fbdata.Account, error) {
	if err := ctx.Err(); err != nil {
		return fbdata.Account{}, err
	}
	key, err := fbdata.IndexKey(idx, value)
	if err != nil {
		return fbdata.Account{}, fmt.Errorf("%w (%v)", fbdata.ErrNotFound, err)
	}
	var disagree error
	for range readAttempts {
		owner, err := s.client.Get(ctx, s.keys.index(idx, key)).Result()
		if errors.Is(err, redis.Nil) {
			return fbdata.Account{}, fbdata.ErrNotFound
		}
		if err != nil {
			return fbdata.Account{}, fmt.Errorf("read index entry %q: %w", key, err)
		}
		a, err := getRecord[fbdata.Account](ctx, s, s.keys.account(owner), "account")
		switch {
		case err == nil && holds(a, idx, key):
			return a, nil
		case err == nil:
			disagree = fmt.Errorf("index entry %q names account %q, which does not hold it", key, owner)
		case errors.Is(err, fbdata.ErrNotFound):
			// %v: the account missing is a broken index, and must not
			// read as not found, which would become a Reject.
			disagree = fmt.Errorf("index entry %q names account %q: %v", key, owner, err)
		default:
			return fbdata.Account{}, err
		}
	}
	return fbdata.Account{}, disagree
}

// holds reports whether a is found under key in idx.
func holds(a fbdata.Account, idx fbdata.Index, key string) bool {
	for _, e := range a.IndexEntries() {
		if e.Index == idx && e.Key == key {
			return true
		}
	}
	return false
}

// PutAccount creates or replaces an account; the key is the folded name, so a
// new spelling of an existing name replaces it.
func (s *Store) PutAccount(ctx context.Context, a fbdata.Account) error {
	if err := a.Validate(s.opts); err != nil {
		return fmt.Errorf("put account %q: %w", a.Name, err)
	}
	accounts := []fbdata.Account{a.Canonical()}
	fresh := freshUUIDs(accounts)
	first := s.firstReads(accounts, fresh, nil)
	err := s.update(ctx, first, func(t *txn) error {
		if err := s.loadStored(t, first, accounts); err != nil {
			return err
		}
		if err := s.putAccount(t, accounts[0], fresh[0], time.Now()); err != nil {
			return err
		}
		return s.checkRefs(t, accounts[0])
	})
	if err != nil {
		return fmt.Errorf("put account %q: %w", a.Name, err)
	}
	return nil
}

// DeleteAccount removes an account that owns no DIDs and that no other
// account names as a member or failover account.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	key := fbdata.Fold(name)
	watch := []string{s.keys.account(key), s.keys.didsOf(key), s.keys.refs(key)}
	err := s.update(ctx, watch, func(t *txn) error {
		a, found, err := s.account(t, key)
		if err != nil {
			return err
		}
		if !found {
			return fbdata.ErrNotFound
		}
		if number, ok, err := t.first(s.keys.didsOf(key)); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%w: account still owns DID %q", fbdata.ErrConflict, number)
		}
		if referrer, ok, err := t.first(s.keys.refs(key)); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%w: account %q names it as a member or rcvFailoverAccount", fbdata.ErrConflict, s.storedName(t, referrer))
		}
		if err := t.load(s.indexKeys(a)...); err != nil {
			return err
		}
		if err := s.releaseIndexes(t, a); err != nil {
			return err
		}
		for _, target := range a.References() {
			t.zrem(s.keys.refs(target), key)
		}
		t.del(s.keys.account(key))
		t.zrem(s.keys.allAccounts(), key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete account %q: %w", name, err)
	}
	return nil
}

// freshUUIDs draws a UUID for each account that has none, before the
// transaction, so that its index entry is read with the other first reads
// rather than one round trip per new account. An account that turns out to
// be a replacement keeps its stored UUID and its draw goes unused.
func freshUUIDs(accounts []fbdata.Account) []string {
	fresh := make([]string, len(accounts))
	for i, a := range accounts {
		if a.UUID == "" {
			fresh[i] = fbdata.NewUUID()
		}
	}
	return fresh
}

// firstReads are the keys a write of accounts and dids reads whatever is
// stored: the accounts, the index entries they claim, the accounts they and
// the DIDs name, and the DIDs. The write watches them from the start and
// loads them in one MGET; loadStored then adds the index entries of the
// stored accounts being replaced.
func (s *Store) firstReads(accounts []fbdata.Account, fresh []string, dids []fbdata.DID) []string {
	var keys []string
	for i, a := range accounts {
		keys = append(keys, s.keys.account(fbdata.Fold(a.Name)))
		if a.UUID == "" {
			a.UUID = fresh[i]
		}
		keys = append(keys, s.indexKeys(a)...)
		for _, m := range a.Members {
			keys = append(keys, s.keys.account(fbdata.Fold(m)))
		}
		if a.RcvFailoverAccount != "" {
			keys = append(keys, s.keys.account(fbdata.Fold(a.RcvFailoverAccount)))
		}
	}
	for _, d := range dids {
		keys = append(keys, s.keys.did(d.Number), s.keys.account(fbdata.Fold(d.Account)))
	}
	return keys
}

// loadStored reads first, then the index entries of the stored accounts that
// accounts replace, which the write releases.
func (s *Store) loadStored(t *txn, first []string, accounts []fbdata.Account) error {
	if err := t.load(first...); err != nil {
		return err
	}
	var old []string
	for _, a := range accounts {
		stored, found, err := s.account(t, fbdata.Fold(a.Name))
		if err != nil {
			return err
		}
		if found {
			old = append(old, s.indexKeys(stored)...)
		}
	}
	return t.load(old...)
}

// indexKeys are the keys of a's index entries.
func (s *Store) indexKeys(a fbdata.Account) []string {
	var keys []string
	for _, e := range a.IndexEntries() {
		keys = append(keys, s.keys.index(e.Index, e.Key))
	}
	return keys
}

// account reads the account stored under key, a folded name.
func (s *Store) account(t *txn, key string) (fbdata.Account, bool, error) {
	v, found, err := t.get(s.keys.account(key))
	if err != nil || !found {
		return fbdata.Account{}, false, err
	}
	a, err := decode[fbdata.Account](v, "account")
	return a, err == nil, err
}

// storedName is the spelling of the account under key, for messages; the key
// itself if the record cannot be read.
func (s *Store) storedName(t *txn, key string) string {
	if a, found, err := s.account(t, key); err == nil && found {
		return a.Name
	}
	return key
}

// putAccount writes a valid, canonical account at now, replacing the stored
// one of the same folded name. fresh is its UUID if it has none and replaces
// none. It does not check that a's members and failover account exist;
// callers do, once every account of the write is in.
func (s *Store) putAccount(t *txn, a fbdata.Account, fresh string, now time.Time) error {
	prev, found, err := s.account(t, fbdata.Fold(a.Name))
	if err != nil {
		return err
	}
	a.LastModified = now.UTC()
	if !found {
		return s.writeAccount(t, nil, a, fresh)
	}
	return s.writeAccount(t, &prev, a, fresh)
}

// writeAccount stores a in place of prev (nil when a is new), giving it
// prev's UUID or fresh if it has none, and keeps the indexes and references
// in step.
func (s *Store) writeAccount(t *txn, prev *fbdata.Account, a fbdata.Account, fresh string) error {
	key := fbdata.Fold(a.Name)
	if a.UUID == "" {
		if prev != nil && prev.UUID != "" {
			a.UUID = prev.UUID
		} else {
			a.UUID = fresh
		}
	}
	if prev != nil {
		if err := s.releaseIndexes(t, *prev); err != nil {
			return err
		}
		for _, target := range prev.References() {
			t.zrem(s.keys.refs(target), key)
		}
	}
	for _, e := range a.IndexEntries() {
		entry := s.keys.index(e.Index, e.Key)
		owner, taken, err := t.get(entry)
		if err != nil {
			return err
		}
		if taken && owner != key {
			return fmt.Errorf("%w: %s %q already belongs to account %q", fbdata.ErrConflict, e.Index.Field(), e.Key, s.storedName(t, owner))
		}
		t.set(entry, key)
	}
	for _, target := range a.References() {
		t.zadd(s.keys.refs(target), key)
	}
	v, err := encode(a, "account")
	if err != nil {
		return err
	}
	t.set(s.keys.account(key), v)
	t.zadd(s.keys.allAccounts(), key)
	return nil
}

// releaseIndexes removes a's index entries that still name a. An entry
// another account has taken over in the same transaction is left alone.
func (s *Store) releaseIndexes(t *txn, a fbdata.Account) error {
	key := fbdata.Fold(a.Name)
	for _, e := range a.IndexEntries() {
		entry := s.keys.index(e.Index, e.Key)
		owner, ok, err := t.get(entry)
		if err != nil {
			return err
		}
		if ok && owner == key {
			t.del(entry)
		}
	}
	return nil
}

// checkRefs fails with fbdata.ErrConflict if a member or the failover account
// of a does not exist.
func (s *Store) checkRefs(t *txn, a fbdata.Account) error {
	for _, m := range a.Members {
		if _, ok, err := t.get(s.keys.account(fbdata.Fold(m))); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: member %q does not exist", fbdata.ErrConflict, m)
		}
	}
	if f := a.RcvFailoverAccount; f != "" {
		if _, ok, err := t.get(s.keys.account(fbdata.Fold(f))); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: rcvFailoverAccount %q does not exist", fbdata.ErrConflict, f)
		}
	}
	return nil
}
