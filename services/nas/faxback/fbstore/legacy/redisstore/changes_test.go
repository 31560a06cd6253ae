package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbdata/fbdatatest"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

// watchStore opens a store on srv and starts a live watch of it.
func watchStore(t *testing.T, srv *redistest.Server) (*redisstore.Store, *fbdatatest.Watching) {
	t.Helper()
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, nextPrefix())
	t.Cleanup(func() { s.Close() })
	w := fbdatatest.Watch(t.Context(), s.WatchChanges)
	w.Live(t)
	return s, w
}

// awaitEnd waits for a watch to end on its own, with an error.
func awaitEnd(t *testing.T, w *fbdatatest.Watching, within time.Duration) {
	t.Helper()
	t.Logf("watch ended: %v", w.End(t, within))
}

// TestWatchNamesExactly: Redis notices name the accounts and DIDs a write
// changed and no others, so that a cache forgets only those.
func TestWatchNamesExactly(t *testing.T) {
	srv := redistest.Start(t)
	s, w := watchStore(t, srv)
	ctx := t.Context()
	expect := func(what string, accounts, dids []string) {
		t.Helper()
		c := w.Next(t)
		slices.Sort(c.Accounts)
		slices.Sort(c.DIDs)
		if c.All || !slices.Equal(c.Accounts, accounts) || !slices.Equal(c.DIDs, dids) {
			t.Errorf("%s: notice = %+v, want accounts %v and DIDs %v alone", what, c, accounts, dids)
		}
	}

	if err := s.PutAccount(ctx, fbdata.Account{Name: "Alice", Type: 4}); err != nil {
		t.Fatal(err)
	}
	expect("PutAccount(Alice)", []string{"alice"}, nil)
	if err := s.PutDID(ctx, fbdata.DID{Number: "5035550100", Account: "alice"}); err != nil {
		t.Fatal(err)
	}
	expect("PutDID", nil, []string{"5035550100"})
	// A called number changes neither: no notice.
	if err := s.RecordCalledNumber(ctx, "5035550100", fbdata.CallSuccess); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, fbdata.Batch{
		Accounts: []fbdata.Account{{Name: "Bob", Type: 4}, {Name: "Carol", Type: 4}},
		DIDs:     []fbdata.DID{{Number: "5035550100", Account: "bob"}},
	}); err != nil {
		t.Fatal(err)
	}
	expect("RecordCalledNumber, then Apply(Bob, Carol, a DID moved to Bob)", []string{"bob", "carol"}, []string{"5035550100"})
	// A refused write publishes nothing: Bob owns a DID.
	if err := s.DeleteAccount(ctx, "bob"); err == nil {
		t.Fatal("DeleteAccount of an account owning a DID succeeded")
	}
	if err := s.DeleteDID(ctx, "5035550100"); err != nil {
		t.Fatal(err)
	}
	expect("refused DeleteAccount(bob), then DeleteDID", nil, []string{"5035550100"})
	if err := s.DeleteAccount(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	expect("DeleteAccount(bob)", []string{"bob"}, nil)

	// Too many for one notice: all.
	var many []fbdata.Account
	for i := range 1001 {
		many = append(many, fbdata.Account{Name: fmt.Sprintf("bulk%d", i), Type: 4})
	}
	if err := s.Apply(ctx, fbdata.Batch{Accounts: many}); err != nil {
		t.Fatal(err)
	}
	if c := w.Next(t); !c.All {
		t.Errorf("Apply of 1001 accounts notice lists %d, want All", len(c.Accounts))
	}

	// A notice this kradius cannot read counts as all: a newer or older
	// format, say.
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	if err := rdb.Publish(ctx, s.KeyPrefix()+":changes", `["alice"]`).Err(); err != nil {
		t.Fatal(err)
	}
	if c := w.Next(t); !c.All {
		t.Errorf("unreadable notice = %+v, want All", c)
	}
}

// TestWatchEndsWhenSubscriptionLost: go-redis would quietly resubscribe on a
// new connection, and whatever was published in between would be lost, so
// the watch ends instead, for its reader to forget what it kept.
func TestWatchEndsWhenSubscriptionLost(t *testing.T) {
	srv := redistest.Start(t)
	_, w := watchStore(t, srv)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	if err := rdb.ClientKillByFilter(t.Context(), "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	awaitEnd(t, w, eventually.Limit)
}

func TestWatchEndsWhenRedisStops(t *testing.T) {
	srv := redistest.Start(t)
	_, w := watchStore(t, srv)
	srv.Stop()
	awaitEnd(t, w, eventually.Limit)
}

// TestWatchNoticesSilentDeath: a subscription whose server stops answering
// without closing the connection (a partition; here, a paused Redis) ends
// within two ping intervals (6 s), long before the server answers again
// (2 minutes): the wait is the scenario's, with room for a busy machine.
func TestWatchNoticesSilentDeath(t *testing.T) {
	srv := redistest.Start(t)
	_, w := watchStore(t, srv)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(t.Context(), eventually.Limit)
	defer cancel()
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", "120000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	awaitEnd(t, w, time.Minute)
}
