package fbstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/store/records"
)

// Apply implements fbdata.Store: every record is validated first, then the
// whole batch is one transaction, so what the records backend checks at
// commit is the state the batch leaves behind (two accounts may swap a MAC
// address, a DID may name an account created later in the batch). A later
// record for the same key replaces an earlier one.
func (s *Store) Apply(ctx context.Context, b fbdata.Batch) error {
	return s.ApplyWith(ctx, b, nil)
}

// ApplyWith is Apply with more writes in the same transaction, after the
// batch's: the import writes a chunk's records of other profiles' kinds
// with it, all or nothing. more may be nil; like the batch's writes, it
// may run more than once.
func (s *Store) ApplyWith(ctx context.Context, b fbdata.Batch, more func(records.Txn) error) error {
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
	uuids := make([]string, len(accounts))
	for i := range uuids {
		uuids[i] = fbdata.NewUUID()
	}
	err := s.update(ctx, func(t records.Txn) error {
		now := time.Now()
		for i, a := range accounts {
			if err := putAccount(t, a, uuids[i], now); err != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err)
			}
		}
		for i, d := range b.DIDs {
			r, err := didRecord(d)
			if err == nil {
				err = t.Put(r)
			}
			if err != nil {
				return fmt.Errorf("dids[%d] (number %q): %w", i, d.Number, err)
			}
		}
		for i, c := range b.CalledNumbers {
			c.Updated = now
			r, err := calledNumberRecord(c)
			if err == nil {
				err = t.Put(r)
			}
			if err != nil {
				return fmt.Errorf("calledNumbers[%d] (number %q): %w", i, c.Number, err)
			}
		}
		if more != nil {
			return more(t)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply batch: %w", s.explainBatchConflict(ctx, b, accounts, err))
	}
	return nil
}

// explainBatchConflict says which record of the batch a commit-time
// conflict is about, by its position, as the validation errors do.
func (s *Store) explainBatchConflict(ctx context.Context, b fbdata.Batch, accounts []fbdata.Account, err error) error {
	var c *records.Conflict
	if !errors.As(err, &c) {
		return mapErr(err)
	}
	switch c.Ref.Kind {
	case KindAccounts:
		rewritten := make(map[string]bool, len(accounts))
		for _, a := range accounts {
			rewritten[fbdata.Fold(a.Name)] = true
		}
		for i, a := range accounts {
			if held := s.indexHeld(ctx, a, rewritten); held != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, held)
			}
		}
		for i := len(accounts) - 1; i >= 0; i-- {
			if fbdata.Fold(accounts[i].Name) == c.Ref.Key {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, accounts[i].Name, mapErr(err))
			}
		}
	case KindDIDs:
		for i := len(b.DIDs) - 1; i >= 0; i-- {
			if b.DIDs[i].Number == c.Ref.Key {
				return fmt.Errorf("dids[%d] (number %q): %w", i, b.DIDs[i].Number, mapErr(err))
			}
		}
	}
	return mapErr(err)
}

// Restore writes b exactly as given: UUIDs, LastModified and the called
// numbers' Updated are kept, and nothing is validated beyond the unique
// indexes and references the records backend checks. It is for a data
// migration copying records another store validated when they were
// written.
func (s *Store) Restore(ctx context.Context, b fbdata.Batch) error {
	recs := make([]records.Record, 0, len(b.Accounts)+len(b.DIDs)+len(b.CalledNumbers))
	for _, a := range b.Accounts {
		r, err := accountRecord(a)
		if err != nil {
			return fmt.Errorf("restore account %q: %w", a.Name, err)
		}
		recs = append(recs, r)
	}
	for _, d := range b.DIDs {
		r, err := didRecord(d)
		if err != nil {
			return fmt.Errorf("restore DID %q: %w", d.Number, err)
		}
		recs = append(recs, r)
	}
	for _, c := range b.CalledNumbers {
		r, err := calledNumberRecord(c)
		if err != nil {
			return fmt.Errorf("restore called number %q: %w", c.Number, err)
		}
		recs = append(recs, r)
	}
	err := s.update(ctx, func(t records.Txn) error {
		for _, r := range recs {
			if err := t.Put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore: %w", mapErr(err))
	}
	return nil
}
