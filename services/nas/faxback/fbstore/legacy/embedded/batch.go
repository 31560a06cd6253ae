package embedded

import (
	"context"

	"kradius.dev/services/nas/faxback/fbdata"
)

// GetAccounts is GetAccount for each of names: in-process, from the read
// cache mostly, there is no round trip to save.
func (s *Store) GetAccounts(ctx context.Context, names []string) ([]fbdata.Account, []error) {
	accounts := make([]fbdata.Account, len(names))
	errs := make([]error, len(names))
	for i, name := range names {
		accounts[i], errs[i] = s.GetAccount(ctx, name)
	}
	return accounts, errs
}

// GetDIDs is GetDID for each of numbers.
func (s *Store) GetDIDs(ctx context.Context, numbers []string) ([]fbdata.DID, []error) {
	dids := make([]fbdata.DID, len(numbers))
	errs := make([]error, len(numbers))
	for i, number := range numbers {
		dids[i], errs[i] = s.GetDID(ctx, number)
	}
	return dids, errs
}
