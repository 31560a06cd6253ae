package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbdata/fbdatatest"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
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

func nextPrefix() string { return fmt.Sprintf("{kradius-%d}", prefixes.Add(1)) }

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	open := func(t *testing.T, o fbdata.Options) fbdata.Store {
		return redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), o, nextPrefix())
	}
	fbdatatest.Run(t, open)
	fbdatatest.RunChanges(t, open)
}

// TestCluster shares one three-node cluster among its subtests: starting one
// costs seconds.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)

	t.Run("Conformance", func(t *testing.T) {
		open := func(t *testing.T, o fbdata.Options) fbdata.Store {
			return redisstore.New(redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()}), o, nextPrefix())
		}
		fbdatatest.Run(t, open)
		fbdatatest.RunChanges(t, open)
	})

	t.Run("OneSlot", func(t *testing.T) {
		s, err := redisstore.Open(t.Context(), redisstore.Config{Addrs: c.Addrs()}, fbdata.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		writeEveryKeyFamily(t, s)

		var holders []string
		var keys []string
		for _, addr := range c.Addrs() {
			node := redis.NewClient(&redis.Options{Addr: addr})
			defer node.Close()
			// Only this data set: the conformance run left others.
			got, err := node.Keys(t.Context(), redisstore.DefaultPrefix+":*").Result()
			if err != nil {
				t.Fatalf("KEYS on %s: %v", addr, err)
			}
			if len(got) > 0 {
				holders = append(holders, addr)
			}
			for _, k := range got {
				slot, err := node.ClusterKeySlot(t.Context(), k).Result()
				if err != nil {
					t.Fatalf("CLUSTER KEYSLOT %q: %v", k, err)
				}
				if want, _ := node.ClusterKeySlot(t.Context(), redisstore.DefaultPrefix).Result(); slot != want {
					t.Errorf("key %q is in slot %d, want the data set's slot %d", k, slot, want)
				}
			}
			keys = append(keys, got...)
		}
		if len(holders) != 1 {
			t.Errorf("keys are on nodes %q, want one node", holders)
		}
		slices.Sort(keys)
		if want := everyKeyFamily(); !slices.Equal(keys, want) {
			t.Errorf("keys written:\n%s\nwant (README.md's layout):\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("OpenOneSeedOfACluster", func(t *testing.T) {
		// Data sets whose slots other nodes serve: a single-node client
		// would get MOVED for them.
		var stores []*redisstore.Store
		for i := range 6 {
			s, err := redisstore.Open(t.Context(), redisstore.Config{Addrs: c.Addrs()[:1], KeyPrefix: fmt.Sprintf("seed-%d", i)}, fbdata.Options{})
			if err != nil {
				t.Fatalf("Open with one seed: %v", err)
			}
			defer s.Close()
			stores = append(stores, s)
		}
		for i, s := range stores {
			if err := s.PutAccount(t.Context(), fbdata.Account{Name: "acct", Type: 4}); err != nil {
				t.Errorf("store %d: PutAccount: %v", i, err)
			}
			if _, err := s.GetAccount(t.Context(), "acct"); err != nil {
				t.Errorf("store %d: GetAccount: %v", i, err)
			}
		}
		others := 0
		for _, addr := range c.Addrs()[1:] {
			node := redis.NewClient(&redis.Options{Addr: addr})
			defer node.Close()
			n, err := node.DBSize(t.Context()).Result()
			if err != nil {
				t.Fatalf("DBSIZE on %s: %v", addr, err)
			}
			others += int(n)
		}
		if others == 0 {
			t.Error("every data set landed on the seed node; the test proves nothing about redirects")
		}
	})
}

// writeEveryKeyFamily writes one record of each kind, so that every family of
// keys in README.md's layout exists.
func writeEveryKeyFamily(t *testing.T, s fbdata.Store) {
	t.Helper()
	ata := fbdata.Account{
		Name: "ATA", UUID: "05a32765-c400-4993-90d8-35289f96988a", Type: 4,
		MACAddress: "00:90:8f:1d:37:f0", SerialNumber: "SN-1", SndEmail: "Fax@Example.org",
	}
	lb := fbdata.Account{Name: "LB", UUID: "9b2f0c1e-6a4d-4f3b-8e2a-1c7d5e9f0a3b", Type: 8, Members: []string{"ata"}}
	primary := fbdata.Account{Name: "primary", UUID: "11111111-2222-4333-8444-555555555555", Type: 4, RcvFailoverAccount: "lb"}
	err := s.Apply(t.Context(), fbdata.Batch{
		Accounts: []fbdata.Account{ata, lb, primary},
		DIDs:     []fbdata.DID{{Number: "5035550100", Account: "ata"}},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := s.RecordCalledNumber(t.Context(), "5035550199", fbdata.CallSuccess); err != nil {
		t.Fatalf("RecordCalledNumber: %v", err)
	}
}

func everyKeyFamily() []string {
	keys := []string{
		"{kradius}:acct:ata",
		"{kradius}:acct:lb",
		"{kradius}:acct:primary",
		"{kradius}:accounts",
		"{kradius}:called:5035550199",
		"{kradius}:called-numbers",
		"{kradius}:did-by-acct:ata",
		"{kradius}:did:5035550100",
		"{kradius}:dids",
		"{kradius}:idx:email:fax@example.org",
		"{kradius}:idx:mac:00908F1D37F0",
		"{kradius}:idx:serial:sn-1",
		"{kradius}:idx:uuid:05a32765-c400-4993-90d8-35289f96988a",
		"{kradius}:idx:uuid:11111111-2222-4333-8444-555555555555",
		"{kradius}:idx:uuid:9b2f0c1e-6a4d-4f3b-8e2a-1c7d5e9f0a3b",
		"{kradius}:refs:ata",
		"{kradius}:refs:lb",
		"{kradius}:version",
	}
	slices.Sort(keys)
	return keys
}

// TestKeyValues pins what the keys of README.md's layout hold, so that other
// tools (a migration, an operator with redis-cli) can rely on it.
func TestKeyValues(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "")
	defer s.Close()
	writeEveryKeyFamily(t, s)
	ctx := t.Context()

	for _, tt := range []struct{ key, want string }{
		{"{kradius}:idx:uuid:05a32765-c400-4993-90d8-35289f96988a", "ata"},
		{"{kradius}:idx:mac:00908F1D37F0", "ata"},
		{"{kradius}:idx:serial:sn-1", "ata"},
		{"{kradius}:idx:email:fax@example.org", "ata"},
		// One Apply; recording a called number does not count.
		{"{kradius}:version", "1"},
	} {
		if got, err := client.Get(ctx, tt.key).Result(); err != nil || got != tt.want {
			t.Errorf("GET %s = %q, %v; want %q", tt.key, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		key  string
		want []string
	}{
		{"{kradius}:did-by-acct:ata", []string{"5035550100"}},
		{"{kradius}:accounts", []string{"ata", "lb", "primary"}},
		{"{kradius}:dids", []string{"5035550100"}},
		{"{kradius}:called-numbers", []string{"5035550199"}},
		{"{kradius}:refs:ata", []string{"lb"}},
		{"{kradius}:refs:lb", []string{"primary"}},
	} {
		if got, err := client.ZRange(ctx, tt.key, 0, -1).Result(); err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ZRANGE %s = %q, %v; want %q", tt.key, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ key, field string }{
		{"{kradius}:acct:ata", `"name":"ATA"`},
		{"{kradius}:did:5035550100", `"account":"ata"`},
		{"{kradius}:called:5035550199", `"faxVerified":true`},
	} {
		if got, err := client.Get(ctx, tt.key).Result(); err != nil || !strings.Contains(got, tt.field) {
			t.Errorf("GET %s = %q, %v; want JSON with %s", tt.key, got, err, tt.field)
		}
	}
}

func TestPrefix(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "{kradius}"},
		{"{kradius}", "{kradius}"},
		{"kradius-lab", "{kradius-lab}"},
		{"{tenant-a}:kradius", "{tenant-a}:kradius"},
		{"app:{tenant-b}", "app:{tenant-b}"},
		// An empty or unclosed tag does not fix the slot: Redis would hash
		// the whole key, names and numbers included.
		{"{}kradius", "{{}kradius}"},
		{"{kradius", "{{kradius}"},
		{"kradius}", "{kradius}}"},
	} {
		if got := redisstore.Prefix(tt.in); got != tt.want {
			t.Errorf("Prefix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrefixesIsolateDataSets(t *testing.T) {
	srv := redistest.Start(t)
	a := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "tenant-a")
	defer a.Close()
	b := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "tenant-b")
	defer b.Close()
	acct := fbdata.Account{Name: "same", Type: 4, MACAddress: "00908F1D37F0"}
	if err := a.PutAccount(t.Context(), acct); err != nil {
		t.Fatalf("PutAccount in tenant-a: %v", err)
	}
	if _, err := b.GetAccount(t.Context(), "same"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("tenant-b GetAccount = %v, want ErrNotFound", err)
	}
	// The same MAC address in another data set is no conflict.
	if err := b.PutAccount(t.Context(), acct); err != nil {
		t.Errorf("PutAccount of the same account in tenant-b: %v", err)
	}
}

// TestConnectionErrorIsNotNotFound: with Redis gone, every call fails, and
// none with ErrNotFound, which the RADIUS edge would turn into a Reject for
// accounts that exist.
func TestConnectionErrorIsNotNotFound(t *testing.T) {
	// Mostly waiting for go-redis to give up on dialling: overlap it with
	// the rest.
	t.Parallel()
	srv := redistest.Start(t)
	s, err := redisstore.Open(t.Context(), redisstore.Config{Addrs: []string{srv.Addr()}}, fbdata.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	present := fbdata.Account{Name: "present", Type: 4, MACAddress: "00908F1D37F0"}
	if err := s.PutAccount(t.Context(), present); err != nil {
		t.Fatalf("PutAccount: %v", err)
	}
	if err := s.PutDID(t.Context(), fbdata.DID{Number: "100", Account: "present"}); err != nil {
		t.Fatalf("PutDID: %v", err)
	}
	srv.Stop()

	for _, tt := range []struct {
		name string
		call func(context.Context) error
	}{
		{"GetAccount", func(ctx context.Context) error { _, err := s.GetAccount(ctx, "present"); return err }},
		{"GetAccount absent", func(ctx context.Context) error { _, err := s.GetAccount(ctx, "absent"); return err }},
		{"AccountBy", func(ctx context.Context) error {
			_, err := s.AccountBy(ctx, fbdata.IndexMAC, "00908F1D37F0")
			return err
		}},
		{"AccountBy absent", func(ctx context.Context) error {
			_, err := s.AccountBy(ctx, fbdata.IndexUUID, "05a32765-c400-4993-90d8-35289f96988a")
			return err
		}},
		{"GetDID", func(ctx context.Context) error { _, err := s.GetDID(ctx, "100"); return err }},
		{"GetAccounts", func(ctx context.Context) error {
			_, errs := s.GetAccounts(ctx, []string{"present", "absent"})
			return worstItem(errs)
		}},
		{"GetDIDs", func(ctx context.Context) error {
			_, errs := s.GetDIDs(ctx, []string{"100", "200"})
			return worstItem(errs)
		}},
		{"DIDsForAccount", func(ctx context.Context) error { _, err := s.DIDsForAccount(ctx, "present"); return err }},
		{"GetCalledNumber", func(ctx context.Context) error { _, err := s.GetCalledNumber(ctx, "5035550100"); return err }},
		{"PutAccount", func(ctx context.Context) error { return s.PutAccount(ctx, fbdata.Account{Name: "new", Type: 4}) }},
		{"DeleteAccount", func(ctx context.Context) error { return s.DeleteAccount(ctx, "absent") }},
		{"PutDID", func(ctx context.Context) error { return s.PutDID(ctx, fbdata.DID{Number: "200", Account: "present"}) }},
		{"DeleteDID", func(ctx context.Context) error { return s.DeleteDID(ctx, "200") }},
		{"Apply", func(ctx context.Context) error {
			return s.Apply(ctx, fbdata.Batch{Accounts: []fbdata.Account{{Name: "new", Type: 4}}})
		}},
		{"RecordCalledNumber", func(ctx context.Context) error {
			return s.RecordCalledNumber(ctx, "5035550100", fbdata.CallSuccess)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Each call spends go-redis's dial retries (about 2 s) finding
			// Redis gone; in parallel they cost that once.
			t.Parallel()
			err := tt.call(t.Context())
			if err == nil || errors.Is(err, fbdata.ErrNotFound) {
				t.Errorf("%s with Redis stopped: err = %v, want an error that is not ErrNotFound", tt.name, err)
			}
		})
	}
}

// worstItem is the first item of a batch read that succeeded or was not
// found, either of which is wrong with Redis gone; otherwise the first error.
func worstItem(errs []error) error {
	for _, err := range errs {
		if err == nil || errors.Is(err, fbdata.ErrNotFound) {
			return err
		}
	}
	return errs[0]
}

// TestOpenFailsFast: a wrong address fails Open within its ping timeout,
// with a message naming the address.
func TestOpenFailsFast(t *testing.T) {
	t.Parallel()
	bad := []string{closedAddr(t), closedAddr(t)}
	for _, tt := range []struct {
		name string
		cfg  redisstore.Config
		want []string
	}{
		{"no address", redisstore.Config{}, []string{"no addresses"}},
		{"one server", redisstore.Config{Addrs: bad[:1]}, bad[:1]},
		{"cluster", redisstore.Config{Addrs: bad}, bad},
		{"sentinel", redisstore.Config{Addrs: bad[:1], MasterName: "kradius"}, []string{bad[0], `"kradius"`}},
		{"cluster database", redisstore.Config{Addrs: bad, DB: 2}, []string{"db 2", "only database 0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			s, err := redisstore.Open(t.Context(), tt.cfg, fbdata.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if took := time.Since(start); took > 7*time.Second {
				t.Errorf("Open took %s to fail", took)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestIndexTakenOnce races pairs of writers for one MAC address: in each pair
// exactly one wins, the other gets ErrConflict, and the index names the
// winner.
func TestIndexTakenOnce(t *testing.T) {
	srv := redistest.Start(t)
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "")
	defer s.Close()
	const pairs = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([][2]error, pairs)
	for p := range pairs {
		mac := fmt.Sprintf("00908F1D%04X", p)
		for w := range 2 {
			a := fbdata.Account{Name: fmt.Sprintf("pair%d-%d", p, w), Type: 4, MACAddress: mac}
			wg.Go(func() {
				<-start
				// One writer of each pair uses Apply, so that both write
				// paths are in the race.
				if w == 0 {
					errs[p][w] = s.PutAccount(t.Context(), a)
				} else {
					errs[p][w] = s.Apply(t.Context(), fbdata.Batch{Accounts: []fbdata.Account{a}})
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for p := range pairs {
		mac := fmt.Sprintf("00908F1D%04X", p)
		var winners []string
		for w, err := range errs[p] {
			name := fmt.Sprintf("pair%d-%d", p, w)
			switch {
			case err == nil:
				winners = append(winners, name)
			case !errors.Is(err, fbdata.ErrConflict):
				t.Errorf("%s: err = %v, want nil or ErrConflict", name, err)
			}
		}
		if len(winners) != 1 {
			t.Errorf("MAC %s was taken by %q, want exactly one account", mac, winners)
			continue
		}
		if got, err := s.AccountBy(t.Context(), fbdata.IndexMAC, mac); err != nil || got.Name != winners[0] {
			t.Errorf("AccountBy(mac, %s) = %q, %v; want %q", mac, got.Name, err, winners[0])
		}
	}
}

// TestBrokenLinksAreNotNotFound: an index entry or DID list naming a record
// that is not there is corruption, reported as an error and never as
// ErrNotFound, the same rule as the embedded backend's.
func TestBrokenLinksAreNotNotFound(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "")
	defer s.Close()
	if err := s.PutAccount(t.Context(), fbdata.Account{Name: "other", Type: 4}); err != nil {
		t.Fatalf("PutAccount: %v", err)
	}
	ctx := t.Context()
	for _, tt := range []struct {
		name    string
		corrupt func() error
		call    func() error
	}{
		{"index entry naming no account",
			func() error { return client.Set(ctx, "{kradius}:idx:mac:00908F1D37F0", "ghost", 0).Err() },
			func() error { _, err := s.AccountBy(ctx, fbdata.IndexMAC, "00908F1D37F0"); return err }},
		{"index entry naming an account without the value",
			func() error { return client.Set(ctx, "{kradius}:idx:serial:sn-9", "other", 0).Err() },
			func() error { _, err := s.AccountBy(ctx, fbdata.IndexSerial, "SN-9"); return err }},
		{"DID list naming no DID",
			func() error { return client.ZAdd(ctx, "{kradius}:did-by-acct:other", redis.Z{Member: "100"}).Err() },
			func() error { _, err := s.DIDsForAccount(ctx, "other"); return err }},
	} {
		if err := tt.corrupt(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		err := tt.call()
		if err == nil || errors.Is(err, fbdata.ErrNotFound) {
			t.Errorf("%s: err = %v, want an error that is not ErrNotFound", tt.name, err)
		}
	}
}

// bigBatch is a batch that reads some 1,500 keys, well past the number a
// write WATCHes one by one, so that Apply watches the data set's version
// key instead.
func bigBatch(tag string) fbdata.Batch {
	var b fbdata.Batch
	for i := range 300 {
		name := fmt.Sprintf("%s-%d", tag, i)
		b.Accounts = append(b.Accounts, fbdata.Account{Name: name, Type: 4, MACAddress: fmt.Sprintf("02%010X", len(tag)<<32|i)})
		b.DIDs = append(b.DIDs, fbdata.DID{Number: fmt.Sprintf("%s-%d", tag, i), Account: name})
	}
	return b
}

// TestLargeApply checks the version-key path of Apply: what it writes, that
// it judges swaps by the end state, and that it and a small write racing for
// one MAC address never both win.
func TestLargeApply(t *testing.T) {
	srv := redistest.Start(t)
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}), fbdata.Options{}, "")
	defer s.Close()
	ctx := t.Context()

	b := bigBatch("big")
	if err := s.Apply(ctx, b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for _, i := range []int{0, 299} {
		a := b.Accounts[i]
		if got, err := s.AccountBy(ctx, fbdata.IndexMAC, a.MACAddress); err != nil || got.Name != a.Name {
			t.Errorf("AccountBy(mac, %s) = %q, %v; want %q", a.MACAddress, got.Name, err, a.Name)
		}
		if dids, err := s.DIDsForAccount(ctx, a.Name); err != nil || len(dids) != 1 {
			t.Errorf("DIDsForAccount(%q) = %v, %v; want one DID", a.Name, dids, err)
		}
	}
	// The first two accounts swap MAC addresses; a third account's claim on
	// one of them refuses the whole batch.
	b.Accounts[0].MACAddress, b.Accounts[1].MACAddress = b.Accounts[1].MACAddress, b.Accounts[0].MACAddress
	if err := s.Apply(ctx, b); err != nil {
		t.Fatalf("Apply swapping MAC addresses: %v", err)
	}
	if got, err := s.AccountBy(ctx, fbdata.IndexMAC, b.Accounts[1].MACAddress); err != nil || got.Name != b.Accounts[1].Name {
		t.Errorf("after the swap, AccountBy(mac, %s) = %q, %v; want %q", b.Accounts[1].MACAddress, got.Name, err, b.Accounts[1].Name)
	}
	b.Accounts[2].MACAddress = b.Accounts[0].MACAddress
	if err := s.Apply(ctx, b); !errors.Is(err, fbdata.ErrConflict) {
		t.Errorf("Apply with two accounts claiming one MAC: err = %v, want ErrConflict", err)
	}

	for round := range 20 {
		mac := fmt.Sprintf("0A0000000%03X", round)
		big := bigBatch(fmt.Sprintf("race%d", round))
		big.Accounts[150].MACAddress = mac
		small := fbdata.Account{Name: fmt.Sprintf("small%d", round), Type: 4, MACAddress: mac}
		var bigErr, smallErr error
		var wg sync.WaitGroup
		wg.Go(func() { bigErr = s.Apply(ctx, big) })
		wg.Go(func() { smallErr = s.PutAccount(ctx, small) })
		wg.Wait()
		if (bigErr == nil) == (smallErr == nil) {
			t.Errorf("round %d: Apply err = %v, PutAccount err = %v; want exactly one to take MAC %s", round, bigErr, smallErr, mac)
			continue
		}
		for _, err := range []error{bigErr, smallErr} {
			if err != nil && !errors.Is(err, fbdata.ErrConflict) {
				t.Errorf("round %d: loser's err = %v, want ErrConflict", round, err)
			}
		}
	}
}
