package embedded

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/nas/faxback/fbdata"
)

// Apply validates the whole batch, then writes it in one transaction so that
// what is checked is the state the batch leaves behind:
//
//   - the stored accounts the batch replaces first give up their index
//     entries, so two accounts may swap a MAC address (say) in one batch;
//   - accounts are written before DIDs, and members and failover accounts
//     are checked once every account is in, so any record may refer to an
//     account the same batch creates, before or after it;
//   - called numbers replace what the database knew of their numbers.
//
// Within a batch a later record for the same key replaces an earlier one.
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
	err := s.update(ctx, func(tx *bolt.Tx) error {
		for i, a := range accounts {
			stored, err := getAccount(tx, fbdata.Fold(a.Name))
			if errors.Is(err, fbdata.ErrNotFound) {
				continue
			}
			if err == nil {
				err = releaseIndexes(tx, stored)
			}
			if err != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err)
			}
		}
		now := time.Now()
		last := make(map[string]int, len(accounts))
		for i, a := range accounts {
			if err := putAccount(tx, a, now); err != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err)
			}
			last[fbdata.Fold(a.Name)] = i
		}
		for i, a := range accounts {
			if last[fbdata.Fold(a.Name)] != i {
				continue // replaced later in the batch
			}
			if err := checkRefs(tx, a); err != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err)
			}
		}
		for i, d := range b.DIDs {
			if err := putDID(tx, d); err != nil {
				return fmt.Errorf("dids[%d] (number %q): %w", i, d.Number, err)
			}
		}
		for i, c := range b.CalledNumbers {
			if err := putCalledNumber(tx, c, now); err != nil {
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
