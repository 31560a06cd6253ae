package store

import "context"

// AccountChange is one notice of an account-change feed (AccountWatcher).
type AccountChange struct {
	// All says any account may have changed. It is the first notice of
	// every watch: whatever a reader kept from before is to be forgotten.
	All bool
	// Names are the folded names (Fold) of the accounts one write created,
	// replaced or deleted.
	Names []string
}

// AccountWatcher is a store that can tell a reader keeping accounts in
// memory which accounts each write changes, whichever server made it.
type AccountWatcher interface {
	// WatchAccounts calls fn, from one goroutine, with a notice of All once
	// the feed is established, then with the changes of every write
	// committed after that. It returns when ctx is done, or with an error
	// as soon as it may have missed a change (a lost connection): fn is not
	// called after. fn must not block for long.
	WatchAccounts(ctx context.Context, fn func(AccountChange)) error
}
