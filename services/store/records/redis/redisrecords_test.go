package redisrecords_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
	"kradius.dev/services/store/records"
	"kradius.dev/services/store/records/recordstest"
	redisrecords "kradius.dev/services/store/records/redis"
)

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests that stop Redis on purpose
	// check the errors the store returns instead.
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// prefixes hands every store a data set of its own, so that each open is
// empty without flushing a server other stores share.
var prefixes atomic.Int64

func nextPrefix() string { return fmt.Sprintf("{records-%d}", prefixes.Add(1)) }

var kinds = []records.Kind{
	{Name: "t.accounts", Unique: []string{"uuid", "mac"}},
	{Name: "t.dids", Unique: []string{"uuid"}},
}

func open(t *testing.T, client redis.UniversalClient) *redisrecords.Store {
	t.Helper()
	s, err := redisrecords.New(client, nextPrefix(), kinds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func acct(key, value string, unique map[string]string, refs ...records.Ref) records.Record {
	return records.Record{Kind: "t.accounts", Key: key, Value: []byte(value), Unique: unique, Refs: refs}
}

func did(key, account string) records.Record {
	return records.Record{Kind: "t.dids", Key: key, Value: []byte(key), Refs: []records.Ref{{Kind: "t.accounts", Key: account}}}
}

func put(s records.Store, rs ...records.Record) error {
	return s.Update(context.Background(), func(tx records.Txn) error {
		for _, r := range rs {
			if err := tx.Put(r); err != nil {
				return err
			}
		}
		return nil
	})
}

func del(s records.Store, kind string, keys ...string) error {
	return s.Update(context.Background(), func(tx records.Txn) error {
		for _, k := range keys {
			if err := tx.Delete(kind, k); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	recordstest.Run(t, func(t *testing.T, kinds []records.Kind) records.Store {
		return mustNew(t, redis.NewClient(&redis.Options{Addr: srv.Addr()}), kinds)
	})
}

// mustNew opens a store for recordstest.Run, which closes it.
func mustNew(t *testing.T, client redis.UniversalClient, kinds []records.Kind) records.Store {
	t.Helper()
	s, err := redisrecords.New(client, nextPrefix(), kinds)
	if err != nil {
		_ = client.Close()
		t.Fatal(err)
	}
	return s
}

func TestNewWantsHashTag(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	for _, prefix := range []string{"", "kradius", "{}", "x{kradius}", "{kradius"} {
		if _, err := redisrecords.New(client, prefix, kinds); err == nil {
			t.Errorf("New(%q) = nil error, want one", prefix)
		}
	}
	for _, bad := range [][]records.Kind{
		{{Name: "a:b"}},
		{{Name: "a"}, {Name: "a"}},
		{{Name: "a", Unique: []string{"x", "x"}}},
		// An index name with ':' would make its entries' keys ambiguous.
		{{Name: "a", Unique: []string{"x:1"}}},
		{{Name: "a", Unique: []string{""}}},
	} {
		if _, err := redisrecords.New(client, "{k}", bad); err == nil {
			t.Errorf("New with kinds %+v = nil error, want one", bad)
		}
	}
}

// TestStore runs the backend's own checks on a single server and on a
// cluster, where every key of a data set must share one slot for
// MULTI/EXEC to work at all.
func TestStore(t *testing.T) {
	srv := redistest.Start(t)
	runChecks(t, func(t *testing.T) *redisrecords.Store {
		return open(t, redis.NewClient(&redis.Options{Addr: srv.Addr()}))
	})
}

func runChecks(t *testing.T, openStore func(t *testing.T) *redisrecords.Store) {
	checks := []struct {
		name string
		run  func(t *testing.T, s *redisrecords.Store)
	}{
		{"Basics", testBasics},
		{"Unique", testUnique},
		{"Refs", testRefs},
		{"LargeTransaction", testLargeTransaction},
		{"RacingClaims", testRacingClaims},
		{"BinaryKeys", testBinaryKeys},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.run(t, openStore(t)) })
	}
}

func testBasics(t *testing.T, s *redisrecords.Store) {
	ctx := t.Context()
	if err := put(s, acct("b", "B", nil), acct("a", "A", nil), acct("c", "C", nil)); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "t.accounts", "a"); err != nil || string(v) != "A" {
		t.Errorf("Get(a) = %q, %v", v, err)
	}
	if _, err := s.Get(ctx, "t.accounts", "z"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("Get(z) = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "t.nope", "a"); !errors.Is(err, records.ErrUnknownKind) {
		t.Errorf("Get of an undeclared kind = %v, want ErrUnknownKind", err)
	}
	vals, errs := s.GetMany(ctx, "t.accounts", []string{"c", "z", "a"})
	if string(vals[0]) != "C" || errs[0] != nil || vals[1] != nil || !errors.Is(errs[1], records.ErrNotFound) || string(vals[2]) != "A" {
		t.Errorf("GetMany = %q, %v", vals, errs)
	}
	page, err := s.List(ctx, "t.accounts", "a", 1)
	if err != nil || len(page) != 1 || page[0].Key != "b" || string(page[0].Value) != "B" {
		t.Errorf("List(after a, 1) = %+v, %v", page, err)
	}

	// A transaction reads its own writes, and an error from fn writes
	// nothing.
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx records.Txn) error {
		if err := tx.Put(acct("d", "D", nil)); err != nil {
			return err
		}
		if v, err := tx.Get("t.accounts", "d"); err != nil || string(v) != "D" {
			t.Errorf("Get in txn after Put = %q, %v", v, err)
		}
		if err := tx.Delete("t.accounts", "a"); err != nil {
			return err
		}
		if _, err := tx.Get("t.accounts", "a"); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("Get in txn after Delete = %v, want ErrNotFound", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update = %v, want fn's error", err)
	}
	if _, err := s.Get(ctx, "t.accounts", "d"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("after a failed Update, Get(d) = %v, want ErrNotFound", err)
	}
	if err := del(s, "t.accounts", "a", "nothing"); err != nil {
		t.Fatal(err)
	}
	page, err = s.List(ctx, "t.accounts", "", 10)
	if err != nil || len(page) != 2 || page[0].Key != "b" || page[1].Key != "c" {
		t.Errorf("List after delete = %+v, %v", page, err)
	}
}

func testUnique(t *testing.T, s *redisrecords.Store) {
	ctx := t.Context()
	if err := put(s, acct("a", "A", map[string]string{"mac": "m1", "uuid": "u1"}), acct("b", "B", map[string]string{"mac": "m2"})); err != nil {
		t.Fatal(err)
	}
	// Another kind's index of the same name is apart.
	if err := put(s, records.Record{Kind: "t.dids", Key: "1", Unique: map[string]string{"uuid": "u1"}, Refs: []records.Ref{{Kind: "t.accounts", Key: "a"}}}); err != nil {
		t.Fatal(err)
	}
	var c *records.Conflict
	if err := put(s, acct("c", "C", map[string]string{"mac": "m1"})); !errors.As(err, &c) || !strings.Contains(err.Error(), "held by a") {
		t.Errorf("taking a's mac = %v, want a Conflict naming a", err)
	}
	if err := put(s, acct("c", "C", map[string]string{"mac": "m3"}), acct("d", "D", map[string]string{"mac": "m3"})); !errors.Is(err, records.ErrConflict) {
		t.Errorf("two records claiming m3 = %v, want ErrConflict", err)
	}
	if err := put(s, acct("a", "A", map[string]string{"nope": "x"})); !errors.Is(err, records.ErrUnknownKind) {
		t.Errorf("undeclared index = %v, want ErrUnknownKind", err)
	}
	// A swap in one transaction.
	if err := put(s, acct("a", "A2", map[string]string{"mac": "m2"}), acct("b", "B2", map[string]string{"mac": "m1"})); err != nil {
		t.Fatalf("swap = %v", err)
	}
	for mac, want := range map[string]string{"m1": "b", "m2": "a"} {
		if e, err := s.By(ctx, "t.accounts", "mac", mac); err != nil || e.Key != want {
			t.Errorf("By(mac %s) = %+v, %v, want %s", mac, e, err, want)
		}
	}
	// a gave up u1 when replaced without it.
	if _, err := s.By(ctx, "t.accounts", "uuid", "u1"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("By(uuid u1) after a dropped it = %v, want ErrNotFound", err)
	}
	if e, err := s.By(ctx, "t.dids", "uuid", "u1"); err != nil || e.Key != "1" {
		t.Errorf("By(dids uuid u1) = %+v, %v", e, err)
	}
	if _, err := s.By(ctx, "t.accounts", "serial", "x"); !errors.Is(err, records.ErrUnknownKind) {
		t.Errorf("By on an undeclared index = %v, want ErrUnknownKind", err)
	}
	if err := del(s, "t.accounts", "b"); err != nil {
		t.Fatal(err)
	}
	if err := put(s, acct("c", "C", map[string]string{"mac": "m1"})); err != nil {
		t.Errorf("taking a deleted record's mac = %v", err)
	}
}

func testRefs(t *testing.T, s *redisrecords.Store) {
	ctx := t.Context()
	if err := put(s, did("100", "a")); !errors.Is(err, records.ErrConflict) {
		t.Errorf("DID naming a missing account = %v, want ErrConflict", err)
	}
	// Defined later in the same transaction.
	if err := put(s, did("100", "a"), did("200", "a"), acct("a", "A", nil), acct("g", "G", nil, records.Ref{Kind: "t.accounts", Key: "a"})); err != nil {
		t.Fatal(err)
	}
	got, err := s.Referrers(ctx, "t.dids", records.Ref{Kind: "t.accounts", Key: "a"})
	if err != nil || !slices.Equal(got, []string{"100", "200"}) {
		t.Errorf("Referrers(dids, a) = %q, %v", got, err)
	}
	got, err = s.Referrers(ctx, "t.accounts", records.Ref{Kind: "t.accounts", Key: "a"})
	if err != nil || !slices.Equal(got, []string{"g"}) {
		t.Errorf("Referrers(accounts, a) = %q, %v", got, err)
	}
	if err := del(s, "t.accounts", "a"); !errors.Is(err, records.ErrConflict) {
		t.Errorf("deleting a referenced account = %v, want ErrConflict", err)
	}
	if err := put(s, did("100", "g")); err != nil {
		t.Fatal(err)
	}
	if err := del(s, "t.accounts", "a"); !errors.Is(err, records.ErrConflict) {
		t.Errorf("deleting a still referenced by 200 and g = %v, want ErrConflict", err)
	}
	// Everything naming a goes in the same transaction.
	if err := del(s, "t.dids", "200"); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx records.Txn) error {
		if err := tx.Put(acct("g", "G", nil)); err != nil {
			return err
		}
		return tx.Delete("t.accounts", "a")
	})
	if err != nil {
		t.Errorf("deleting a with its last referrer let go = %v", err)
	}
	if err := put(s, did("300", "a")); !errors.Is(err, records.ErrConflict) {
		t.Errorf("DID naming the deleted account = %v, want ErrConflict", err)
	}
	got, err = s.Referrers(ctx, "t.dids", records.Ref{Kind: "t.accounts", Key: "g"})
	if err != nil || !slices.Equal(got, []string{"100"}) {
		t.Errorf("Referrers(dids, g) = %q, %v", got, err)
	}
}

// testLargeTransaction crosses the number of keys watched one by one, so
// the version key covers the rest.
func testLargeTransaction(t *testing.T, s *redisrecords.Store) {
	ctx := t.Context()
	var rs []records.Record
	for i := range 2000 {
		rs = append(rs, acct(fmt.Sprintf("a%04d", i), "x", map[string]string{"mac": fmt.Sprintf("m%d", i)}))
	}
	if err := put(s, rs...); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx records.Txn) error {
		for i := range 1000 {
			if _, err := tx.Get("t.accounts", fmt.Sprintf("a%04d", i)); err != nil {
				return err
			}
			if err := tx.Put(did(fmt.Sprint(i), fmt.Sprintf("a%04d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.List(ctx, "t.dids", "", 5000)
	if err != nil || len(page) != 1000 {
		t.Errorf("List(dids) = %d entries, %v", len(page), err)
	}
	if err := put(s, acct("new", "x", map[string]string{"mac": "m1999"})); !errors.Is(err, records.ErrConflict) {
		t.Errorf("taking m1999 = %v, want ErrConflict", err)
	}
}

// testRacingClaims: writers racing for one index value, through both the
// per-key and the version-key path: exactly one wins.
func testRacingClaims(t *testing.T, s *redisrecords.Store) {
	for _, padding := range []int{0, 600} {
		const writers = 8
		var wins atomic.Int64
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				err := s.Update(t.Context(), func(tx records.Txn) error {
					for i := range padding {
						if _, err := tx.Get("t.accounts", fmt.Sprint("pad", i)); err != nil && !errors.Is(err, records.ErrNotFound) {
							return err
						}
					}
					return tx.Put(acct(fmt.Sprintf("w%d-%d", padding, w), "x", map[string]string{"mac": fmt.Sprint("race", padding)}))
				})
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, records.ErrConflict):
					t.Errorf("writer %d: %v", w, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("padding %d: %d writers won, want 1", padding, wins.Load())
		}
	}
}

// testBinaryKeys: keys and index values are bytes, and the metadata keeps
// them exact.
func testBinaryKeys(t *testing.T, s *redisrecords.Store) {
	ctx := t.Context()
	key, mac := "a:\x00\xff{x}", "\xfe\x00"
	if err := put(s, acct(key, "v", map[string]string{"mac": mac}), did("1", key)); err != nil {
		t.Fatal(err)
	}
	if e, err := s.By(ctx, "t.accounts", "mac", mac); err != nil || e.Key != key {
		t.Errorf("By = %+v, %v", e, err)
	}
	if err := put(s, acct(key, "v", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.By(ctx, "t.accounts", "mac", mac); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("By after release = %v, want ErrNotFound", err)
	}
	if err := del(s, "t.dids", "1"); err != nil {
		t.Fatal(err)
	}
	if err := del(s, "t.accounts", key); err != nil {
		t.Fatal(err)
	}
}

// watch runs WatchChanges in the background.
type watching struct {
	changes chan records.Change
	done    chan error
}

func watch(t *testing.T, s records.Store) *watching {
	ctx, cancel := context.WithCancel(t.Context())
	w := &watching{changes: make(chan records.Change, 100), done: make(chan error, 1)}
	go func() { w.done <- s.WatchChanges(ctx, func(c records.Change) { w.changes <- c }) }()
	t.Cleanup(func() {
		cancel()
		<-w.done
	})
	if c := w.next(t); !c.All {
		t.Fatalf("first change = %+v, want All", c)
	}
	return w
}

func (w *watching) next(t *testing.T) records.Change {
	t.Helper()
	select {
	case c := <-w.changes:
		return c
	case err := <-w.done:
		t.Fatalf("watch ended: %v", err)
	case <-time.After(eventually.Limit):
		t.Fatal("no change within the limit")
	}
	return records.Change{}
}

func (w *watching) awaitEnd(t *testing.T) {
	t.Helper()
	for {
		select {
		case <-w.changes:
		case err := <-w.done:
			if err == nil {
				t.Fatal("watch ended without an error")
			}
			w.done <- err
			return
		case <-time.After(eventually.Limit):
			t.Fatal("watch did not end")
		}
	}
}

// TestLayout pins the key layout README.md documents, family by family.
func TestLayout(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	s, err := redisrecords.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), "{lab}", kinds)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := put(s, acct("a", "A", map[string]string{"mac": "m1"}), did("1", "a")); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{
		"{lab}:k:t.accounts", "{lab}:k:t.dids",
		"{lab}:m:t.accounts:a", "{lab}:m:t.dids:1",
		"{lab}:r:t.accounts:a", "{lab}:r:t.dids:1",
		"{lab}:rr:t.accounts:a",
		"{lab}:u:t.accounts:mac:2:m1",
		"{lab}:ver",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("keys = %q\nwant %q", keys, want)
	}
	if v, err := rdb.Get(ctx, "{lab}:r:t.accounts:a").Result(); err != nil || v != "A" {
		t.Errorf("record = %q, %v", v, err)
	}
	if v, err := rdb.Get(ctx, "{lab}:u:t.accounts:mac:2:m1").Result(); err != nil || v != "a" {
		t.Errorf("index entry = %q, %v", v, err)
	}
	if m, err := rdb.ZRange(ctx, "{lab}:rr:t.accounts:a", 0, -1).Result(); err != nil || !slices.Equal(m, []string{"t.dids\x001"}) {
		t.Errorf("referrers = %q, %v", m, err)
	}
	if v, err := rdb.Get(ctx, "{lab}:ver").Result(); err != nil || v != "1" {
		t.Errorf("version = %q, %v", v, err)
	}
	// The value's length keeps ':' and NUL in it from reading as layout.
	if err := put(s, acct("b", "B", map[string]string{"mac": "x:\x00"})); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "{lab}:u:t.accounts:mac:3:x:\x00").Result(); err != nil || v != "b" {
		t.Errorf("index entry of a value with ':' and NUL = %q, %v", v, err)
	}
}

func TestChanges(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	s := open(t, rdb)
	w := watch(t, s)
	if err := put(s, acct("a", "A", nil), did("1", "a")); err != nil {
		t.Fatal(err)
	}
	c := w.next(t)
	want := []records.Ref{{Kind: "t.accounts", Key: "a"}, {Kind: "t.dids", Key: "1"}}
	if c.All || !slices.Equal(c.Refs, want) {
		t.Errorf("change = %+v, want %v", c, want)
	}
	// Nothing written (a delete of nothing, a refusal) publishes nothing;
	// the next notice is the next write's.
	if err := del(s, "t.accounts", "zz"); err != nil {
		t.Fatal(err)
	}
	if err := put(s, did("2", "zz")); !errors.Is(err, records.ErrConflict) {
		t.Fatal(err)
	}
	if err := del(s, "t.dids", "1"); err != nil {
		t.Fatal(err)
	}
	if c := w.next(t); !slices.Equal(c.Refs, []records.Ref{{Kind: "t.dids", Key: "1"}}) {
		t.Errorf("change = %+v, want t.dids/1", c)
	}
	if err := put(s, acct("\xff", "x", nil)); err != nil {
		t.Fatal(err)
	}
	if c := w.next(t); !c.All {
		t.Errorf("change of a non-UTF-8 key = %+v, want All", c)
	}
}

// TestWatchEndsWhenSubscriptionLost: go-redis would quietly resubscribe on
// a new connection, and whatever was published in between would be lost.
func TestWatchEndsWhenSubscriptionLost(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	w := watch(t, open(t, redis.NewClient(&redis.Options{Addr: srv.Addr()})))
	if err := rdb.ClientKillByFilter(t.Context(), "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	w.awaitEnd(t)
}

// TestWatchNoticesSilentDeath: a server that stops answering without
// closing the connection (here, paused for 2 minutes) ends the watch within
// two ping intervals.
func TestWatchNoticesSilentDeath(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	w := watch(t, open(t, redis.NewClient(&redis.Options{Addr: srv.Addr()})))
	if err := rdb.Do(t.Context(), "CLIENT", "PAUSE", "120000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	w.awaitEnd(t)
	srv.Stop()
}

// TestCluster shares one three-node cluster among its subtests: starting
// one costs seconds.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	t.Run("Conformance", func(t *testing.T) {
		recordstest.Run(t, func(t *testing.T, kinds []records.Kind) records.Store {
			return mustNew(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()}), kinds)
		})
	})
	runChecks(t, func(t *testing.T) *redisrecords.Store {
		return open(t, redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()}))
	})
}
