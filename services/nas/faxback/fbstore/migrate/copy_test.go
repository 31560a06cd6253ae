package migrate

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
)

// orderChecker is a Restorer that fails a batch naming an account neither
// restored before nor in the batch, a DID before every account is in, or a
// called number before every DID is in, as the new store's references
// would (and stricter on the phases).
type orderChecker struct {
	accounts map[string]bool
	dids     int
	phase    int // 0 accounts, 1 DIDs, 2 called numbers
	batches  []fbdata.Batch
}

func (o *orderChecker) Restore(_ context.Context, b fbdata.Batch) error {
	o.batches = append(o.batches, b)
	kinds := 0
	for _, n := range []int{len(b.Accounts), len(b.DIDs), len(b.CalledNumbers)} {
		if n > 0 {
			kinds++
		}
	}
	if kinds != 1 {
		return fmt.Errorf("batch of %d kinds", kinds)
	}
	in := map[string]bool{}
	for _, a := range b.Accounts {
		in[fbdata.Fold(a.Name)] = true
	}
	for _, a := range b.Accounts {
		if o.phase != 0 {
			return fmt.Errorf("account %q after DIDs", a.Name)
		}
		for _, r := range append(append([]string{}, a.Members...), a.RcvFailoverAccount) {
			if f := fbdata.Fold(r); r != "" && !o.accounts[f] && !in[f] {
				return fmt.Errorf("account %q names %q, not restored yet", a.Name, r)
			}
		}
	}
	for f := range in {
		o.accounts[f] = true
	}
	for _, d := range b.DIDs {
		if o.phase == 2 {
			return fmt.Errorf("DID %q after called numbers", d.Number)
		}
		o.phase = 1
		if !o.accounts[fbdata.Fold(d.Account)] {
			return fmt.Errorf("DID %q names %q, not restored yet", d.Number, d.Account)
		}
		o.dids++
	}
	if len(b.CalledNumbers) > 0 {
		o.phase = 2
	}
	return nil
}

func openToday(t *testing.T, b fbdata.Batch) fbdata.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "today.db"), fbdata.Options{LongNames: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCopyOrder(t *testing.T) {
	b := fixtureBatch()
	// A chain of groups, each sorted before the one it names, so that
	// paging meets them in the worst order.
	b.Accounts = append(b.Accounts,
		fbdata.Account{Name: "g1", Type: 8, Members: []string{"g2"}},
		fbdata.Account{Name: "g2", Type: 8, Members: []string{"g3"}},
		fbdata.Account{Name: "g3", Type: 8, Members: []string{"AGroup", "bob"}},
	)
	from := openToday(t, b)
	for _, chunk := range []int{1, 2, 3, 1000, 0} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			o := &orderChecker{accounts: map[string]bool{}}
			c, err := Copy(context.Background(), from, o, chunk)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Counts{Accounts: 9, DIDs: 4, CalledNumbers: 3}); c != want {
				t.Errorf("counts %+v, want %+v", c, want)
			}
			if len(o.accounts) != 9 || o.dids != 4 || o.phase != 2 {
				t.Errorf("restored %d accounts, %d DIDs, phase %d", len(o.accounts), o.dids, o.phase)
			}
			limit := chunk
			if limit <= 0 {
				limit = DefaultChunk
			}
			for i, b := range o.batches {
				if n := len(b.Accounts) + len(b.DIDs) + len(b.CalledNumbers); n > limit {
					t.Errorf("batch %d holds %d records, chunk is %d", i, n, limit)
				}
			}
		})
	}
}

// Accounts failing over to each other cannot go one before the other; they
// are restored together.
func TestCopyCycle(t *testing.T) {
	from := openToday(t, fbdata.Batch{Accounts: []fbdata.Account{
		{Name: "a", RcvFailoverAccount: "b"},
		{Name: "b", RcvFailoverAccount: "a"},
		{Name: "c", RcvFailoverAccount: "a"},
		{Name: "d"},
	}})
	o := &orderChecker{accounts: map[string]bool{}}
	c, err := Copy(context.Background(), from, o, 1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Accounts != 4 || len(o.accounts) != 4 {
		t.Errorf("copied %d accounts, restored %d", c.Accounts, len(o.accounts))
	}
	if len(o.batches) != 2 || len(o.batches[1].Accounts) != 3 {
		t.Errorf("batches %+v; want d, then a, b and c together", o.batches)
	}
}

// recorder keeps every batch as given.
type recorder struct{ batches []fbdata.Batch }

func (r *recorder) Restore(_ context.Context, b fbdata.Batch) error {
	r.batches = append(r.batches, b)
	return nil
}

// Copy passes records on exactly as read, stored times included.
func TestCopyRecordsAsRead(t *testing.T) {
	from := openToday(t, fixtureBatch())
	want := dumpStore(t, from)
	r := &recorder{}
	if _, err := Copy(context.Background(), from, r, 2); err != nil {
		t.Fatal(err)
	}
	accounts := map[string]fbdata.Account{}
	var got dump
	for _, b := range r.batches {
		for _, a := range b.Accounts {
			accounts[a.Name] = a
		}
		got.DIDs = append(got.DIDs, b.DIDs...)
		for _, n := range b.CalledNumbers {
			n.Updated = n.Updated.UTC().Round(0)
			got.CalledNumbers = append(got.CalledNumbers, n)
		}
	}
	for _, w := range want.Accounts {
		g := accounts[w.Name]
		g.LastModified = g.LastModified.UTC().Round(0)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("account %q:\n got %#v\nwant %#v", w.Name, g, w)
		}
	}
	if len(accounts) != len(want.Accounts) {
		t.Errorf("restored %d accounts, want %d", len(accounts), len(want.Accounts))
	}
	if !reflect.DeepEqual(got.DIDs, want.DIDs) {
		t.Errorf("DIDs %v, want %v", got.DIDs, want.DIDs)
	}
	if !reflect.DeepEqual(got.CalledNumbers, want.CalledNumbers) {
		t.Errorf("called numbers %v, want %v", got.CalledNumbers, want.CalledNumbers)
	}
}

func TestCopyStopsOnError(t *testing.T) {
	from := openToday(t, fixtureBatch())
	if _, err := Copy(context.Background(), from, failingTarget{}, 0); err == nil {
		t.Fatal("Copy ignored Restore's error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Copy(ctx, from, &recorder{}, 0); err == nil {
		t.Fatal("Copy ignored a cancelled context")
	}
}
