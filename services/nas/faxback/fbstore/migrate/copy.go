// Package migrate moves the FaxBack data of today's store layouts (the
// embedded bbolt file of layout 1 or 2, and redisstore's keys) into a new
// store through its Restore, which writes records exactly as given: UUIDs,
// LastModified and called numbers' Updated are kept, so port servers do not
// see every group as changed after an upgrade.
package migrate

import (
	"context"
	"fmt"

	"kradius.dev/services/nas/faxback/fbdata"
)

// Restorer writes records exactly as given, all of a batch or none of it,
// checking references against what it already holds and the batch itself.
type Restorer interface {
	Restore(ctx context.Context, b fbdata.Batch) error
}

// Counts are the records copied.
type Counts struct {
	Accounts, DIDs, CalledNumbers int
}

// DefaultChunk is the records per Restore when Copy is given chunk <= 0.
const DefaultChunk = 1000

// Copy pages through from and restores everything into to, chunk records
// per Restore. Restore checks references, so the order satisfies them:
// accounts that name no other account first, then groups and failover
// accounts in rounds, each round naming only accounts already restored,
// then DIDs, then called numbers.
//
// Memory: accounts that name no other account, DIDs and called numbers are
// streamed a page at a time. The accounts that do name others (groups and
// failover accounts) are held until the plain ones are in, because paging
// is by name and a group may sort before its members; they are a small share
// of a data set. Accounts that name each other in a cycle (A fails over to
// B, B to A) cannot be restored one before the other, so whatever is left
// when no round makes progress is restored in one batch.
func Copy(ctx context.Context, from fbdata.Store, to Restorer, chunk int) (Counts, error) {
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	var c Counts
	var naming []fbdata.Account
	done := map[string]bool{}
	var pending []fbdata.Account
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := to.Restore(ctx, fbdata.Batch{Accounts: pending}); err != nil {
			return fmt.Errorf("restore accounts %q to %q: %w", pending[0].Name, pending[len(pending)-1].Name, err)
		}
		for _, a := range pending {
			done[fbdata.Fold(a.Name)] = true
		}
		c.Accounts += len(pending)
		pending = nil
		return nil
	}

	// A page of accounts is decoded whole, so it is bounded by chunk too.
	after := ""
	for {
		page, err := from.ListAccounts(ctx, after, chunk)
		if err != nil {
			return c, fmt.Errorf("list accounts after %q: %w", after, err)
		}
		if len(page) == 0 {
			break
		}
		after = fbdata.Fold(page[len(page)-1].Name)
		for _, a := range page {
			if len(refs(a)) > 0 {
				naming = append(naming, a)
				continue
			}
			pending = append(pending, a)
		}
		// Only names are kept of the restored accounts: done grows with
		// the data set, the records do not.
		if len(pending) >= chunk {
			if err := flush(); err != nil {
				return c, err
			}
		}
	}
	if err := flush(); err != nil {
		return c, err
	}

	for len(naming) > 0 {
		var ready, wait []fbdata.Account
		for _, a := range naming {
			if allDone(refs(a), done) {
				ready = append(ready, a)
			} else {
				wait = append(wait, a)
			}
		}
		if len(ready) == 0 {
			// A cycle, or a name no account has (which Restore rejects,
			// naming it).
			pending = wait
			if err := flush(); err != nil {
				return c, err
			}
			break
		}
		for len(ready) > 0 {
			n := min(chunk, len(ready))
			pending = ready[:n:n]
			ready = ready[n:]
			if err := flush(); err != nil {
				return c, err
			}
		}
		naming = wait
	}

	after = ""
	for {
		page, err := from.ListDIDs(ctx, after, chunk)
		if err != nil {
			return c, fmt.Errorf("list DIDs after %q: %w", after, err)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].Number
		if err := to.Restore(ctx, fbdata.Batch{DIDs: page}); err != nil {
			return c, fmt.Errorf("restore DIDs %q to %q: %w", page[0].Number, after, err)
		}
		c.DIDs += len(page)
	}

	after = ""
	for {
		page, err := from.ListCalledNumbers(ctx, after, chunk)
		if err != nil {
			return c, fmt.Errorf("list called numbers after %q: %w", after, err)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].Number
		if err := to.Restore(ctx, fbdata.Batch{CalledNumbers: page}); err != nil {
			return c, fmt.Errorf("restore called numbers %q to %q: %w", page[0].Number, after, err)
		}
		c.CalledNumbers += len(page)
	}
	return c, nil
}

// refs are the folded names of the other accounts a names: an account
// failing over to itself needs nothing restored before it.
func refs(a fbdata.Account) []string {
	self := fbdata.Fold(a.Name)
	var out []string
	for _, m := range a.Members {
		if f := fbdata.Fold(m); f != self {
			out = append(out, f)
		}
	}
	if a.RcvFailoverAccount != "" {
		if f := fbdata.Fold(a.RcvFailoverAccount); f != self {
			out = append(out, f)
		}
	}
	return out
}

func allDone(names []string, done map[string]bool) bool {
	for _, n := range names {
		if !done[n] {
			return false
		}
	}
	return true
}
