package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
)

// Apply validates the whole batch, then writes it in one transaction so that
// what is checked is the state the batch leaves behind, exactly as the
// embedded backend does:
//
//   - the stored accounts the batch replaces first give up their index
//     entries, so two accounts may swap a MAC address (say) in one batch;
//   - accounts are written before DIDs, and members and failover accounts
//     are checked once every account is in, so any record may refer to an
//     account the same batch creates, before or after it;
//   - called numbers replace what the database knew of their numbers.
//
// Within a batch a later record for the same key replaces an earlier one.
// The transaction watches every key the batch reads and goes out as one
// MULTI/EXEC; see README.md for how large a batch that suits.
func (s *Store) Apply(ctx context.Context, b fbdata.Batch) error {
	var invalid []error
	accounts := make([]fbdata.Account, len(b.Accounts))
	for i, a := range b.Accounts {
		if err := a.Validate(s.opts); err != nil {
			invalid = append(invalid, fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err))
		}
		accounts[i] = a.Canonical()
	}
	for i, d := range b.DIDs {
		if err := d.Validate(); err != nil {
			invalid = append(invalid, fmt.Errorf("dids[%d] (number %q): %w", i, d.Number, err))
		}
	}
	for i, c := range b.CalledNumbers {
		if err := c.Validate(); err != nil {
			invalid = append(invalid, fmt.Errorf("calledNumbers[%d] (number %q): %w", i, c.Number, err))
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("apply batch: %w", errors.Join(invalid...))
	}
	if len(accounts) == 0 && len(b.DIDs) == 0 {
		return s.applyCalledNumbers(ctx, b.CalledNumbers)
	}
	fresh := freshUUIDs(accounts)
	first := s.firstReads(accounts, fresh, b.DIDs)
	err := s.update(ctx, first, func(t *txn) error {
		if err := s.loadStored(t, first, accounts); err != nil {
			return err
		}
		for i, a := range accounts {
			stored, found, err := s.account(t, fbdata.Fold(a.Name))
			if err == nil && found {
				err = s.releaseIndexes(t, stored)
			}
			if err != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err)
			}
		}
		now := time.Now()
		last := make(map[string]int, len(accounts))
		for i, a := range accounts {
			if err := s.putAccount(t, a, fresh[i], now); err != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err)
			}
			last[fbdata.Fold(a.Name)] = i
		}
		for i, a := range accounts {
			if last[fbdata.Fold(a.Name)] != i {
				continue // replaced later in the batch
			}
			if err := s.checkRefs(t, a); err != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err)
			}
		}
		for i, d := range b.DIDs {
			if err := s.putDID(t, d); err != nil {
				return fmt.Errorf("dids[%d] (number %q): %w", i, d.Number, err)
			}
		}
		for i, c := range b.CalledNumbers {
			if err := s.putCalledNumber(t, c, now); err != nil {
				return fmt.Errorf("calledNumbers[%d] (number %q): %w", i, c.Number, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply batch: %w", err)
	}
	return nil
}

// applyCalledNumbers is Apply of a batch of called numbers alone. It reads
// nothing and does not bump the version, as no account or DID write reads
// called numbers; it watches one of its keys, which a Cluster client needs
// to pick the node.
func (s *Store) applyCalledNumbers(ctx context.Context, cs []fbdata.CalledNumber) error {
	if len(cs) == 0 {
		// An empty batch writes nothing.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("apply batch: %w", err)
		}
		return nil
	}
	now := time.Now()
	err := s.transact(ctx, plan{watch: []string{s.keys.called(cs[0].Number)}}, func(t *txn) error {
		for i, c := range cs {
			if err := s.putCalledNumber(t, c, now); err != nil {
				return fmt.Errorf("calledNumbers[%d] (number %q): %w", i, c.Number, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply batch: %w", err)
	}
	return nil
}
