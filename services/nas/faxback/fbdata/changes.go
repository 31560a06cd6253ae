package fbdata

import "context"

// Change is one notice of a change feed (ChangeWatcher).
type Change struct {
	// All says anything may have changed. It is the first notice of every
	// watch: whatever a reader kept from before is to be forgotten.
	All bool
	// Accounts are the folded names (Fold) of the accounts one write
	// created, replaced or deleted; DIDs the numbers of its DIDs.
	Accounts []string
	DIDs     []string
}

// ChangeWatcher is a store that can tell a reader keeping accounts and DIDs
// in memory which of them each write changes, whichever server made it.
type ChangeWatcher interface {
	// WatchChanges calls fn, from one goroutine, with a notice of All once
	// the feed is established, then with the changes of every write
	// committed after that. It returns when ctx is done, or with an error
	// as soon as it may have missed a change (a lost connection): fn is not
	// called after. fn must not block for long.
	WatchChanges(ctx context.Context, fn func(Change)) error
}
