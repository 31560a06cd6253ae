package fbdata

import "context"

// BatchReader reads many records at once, for the services' batch RPCs: in
// one round trip where the backend is remote. Item i of the answers is for item i of the question, and
// means exactly what the single read would have answered: an unknown name or
// number fails with an error wrapping ErrNotFound, and a failure of the
// backend fails every item with an error that does not.
type BatchReader interface {
	// GetAccounts is GetAccount for each of names.
	GetAccounts(ctx context.Context, names []string) ([]Account, []error)
	// GetDIDs is GetDID for each of numbers.
	GetDIDs(ctx context.Context, numbers []string) ([]DID, []error)
}
