package settlement

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/types/known/timestamppb"

	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

// counter is a store with Add returning what it counted.
type counter interface {
	Store
	add(ctx context.Context, recs []*settlementv1.Record) (int, error)
}

// backend opens a fresh, empty store of one kind.
type backend struct {
	name string
	open func(t testing.TB, guardTTL time.Duration) counter
}

// backends are both stores: Redis on a real redis-server (one for the
// caller; each store under a prefix of its own), and bbolt in a temporary
// file.
func backends(t testing.TB) []backend {
	t.Helper()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	var n atomic.Int64
	return []backend{
		{"redis", func(t testing.TB, ttl time.Duration) counter {
			return NewRedis(client, fmt.Sprintf("{test%d}", n.Add(1)), ttl)
		}},
		{"bolt", func(t testing.TB, ttl time.Duration) counter {
			b, err := OpenBolt(filepath.Join(t.TempDir(), "sub", "settlement.db"), ttl)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		}},
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func rec(session, orig, term, start string, seconds uint32) *settlementv1.Record {
	return &settlementv1.Record{
		SessionId: session, OriginatingCarrier: orig, TerminatingCarrier: term,
		Start: timestamppb.New(at(start)), Seconds: seconds, Side: settlementv1.Side_SIDE_ORIGINATING,
	}
}

// rowsText is rows as CSV lines without the header.
func rowsText(rows []Row) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s,%s,%s,%d,%d", r.PeriodStart.Format(time.RFC3339), r.Originating, r.Terminating, r.Calls, r.Seconds))
	}
	return out
}

type addStep struct {
	recs    []*settlementv1.Record
	counted int
	err     string // a part of the error; "" for none
}

type reportStep struct {
	from, to string
	p        Period
	want     []string // rowsText
	err      string
}

var cases = []struct {
	name    string
	adds    []addStep
	reports []reportStep
}{
	{
		name: "same session twice in one Add",
		adds: []addStep{{recs: []*settlementv1.Record{
			rec("s1", "alpha", "beta", "2026-12-01T10:15:00Z", 60),
			rec("s1", "alpha", "beta", "2026-12-01T10:15:00Z", 60),
		}, counted: 1}},
		reports: []reportStep{{from: "2026-12-01T10:00:00Z", to: "2026-12-01T11:00:00Z", p: Hour, want: []string{
			"2026-12-01T10:00:00Z,alpha,beta,1,60",
		}}},
	},
	{
		name: "same session across Adds",
		adds: []addStep{
			{recs: []*settlementv1.Record{rec("s1", "alpha", "beta", "2026-12-01T10:15:00Z", 60)}, counted: 1},
			// The copy counts nothing, whatever it says: the guard is the
			// session's.
			{recs: []*settlementv1.Record{
				rec("s1", "alpha", "beta", "2026-12-01T10:15:00Z", 99),
				rec("s2", "alpha", "beta", "2026-12-01T10:45:00Z", 30),
			}, counted: 1},
			{recs: []*settlementv1.Record{rec("s2", "alpha", "beta", "2026-12-01T10:45:00Z", 30)}, counted: 0},
		},
		reports: []reportStep{{from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", p: Day, want: []string{
			"2026-12-01T00:00:00Z,alpha,beta,2,90",
		}}},
	},
	{
		name: "hours and days across midnight",
		adds: []addStep{{recs: []*settlementv1.Record{
			rec("s1", "alpha", "beta", "2026-12-01T23:10:00Z", 60),
			rec("s2", "alpha", "beta", "2026-12-01T23:50:00Z", 30),
			rec("s3", "alpha", "beta", "2026-12-02T00:05:00Z", 10),
			rec("s4", "beta", "alpha", "2026-12-02T00:20:00Z", 5),
			rec("s5", "alpha", "beta", "2026-12-01T01:00:00Z", 1),
		}, counted: 5}},
		reports: []reportStep{
			{from: "2026-12-01T00:00:00Z", to: "2026-12-03T00:00:00Z", p: Hour, want: []string{
				"2026-12-01T01:00:00Z,alpha,beta,1,1",
				"2026-12-01T23:00:00Z,alpha,beta,2,90",
				"2026-12-02T00:00:00Z,alpha,beta,1,10",
				"2026-12-02T00:00:00Z,beta,alpha,1,5",
			}},
			{from: "2026-12-01T00:00:00Z", to: "2026-12-03T00:00:00Z", p: Day, want: []string{
				"2026-12-01T00:00:00Z,alpha,beta,3,91",
				"2026-12-02T00:00:00Z,alpha,beta,1,10",
				"2026-12-02T00:00:00Z,beta,alpha,1,5",
			}},
			// Times in another zone are the same instants: the periods
			// stay UTC's.
			{from: "2026-12-01T19:00:00-05:00", to: "2026-12-01T20:00:00-05:00", p: Hour, want: []string{
				"2026-12-02T00:00:00Z,alpha,beta,1,10",
				"2026-12-02T00:00:00Z,beta,alpha,1,5",
			}},
		},
	},
	{
		name: "range boundaries",
		adds: []addStep{{recs: []*settlementv1.Record{
			rec("s1", "alpha", "beta", "2026-12-01T10:00:00Z", 1),
			rec("s2", "alpha", "beta", "2026-12-01T10:59:59Z", 2),
			rec("s3", "alpha", "beta", "2026-12-01T11:00:00Z", 4),
			rec("s4", "alpha", "beta", "2026-12-02T00:00:00Z", 8),
		}, counted: 4}},
		reports: []reportStep{
			// to is excluded.
			{from: "2026-12-01T10:00:00Z", to: "2026-12-01T11:00:00Z", p: Hour, want: []string{
				"2026-12-01T10:00:00Z,alpha,beta,2,3",
			}},
			// A period is in when its start is: 10:00 starts before from.
			{from: "2026-12-01T10:30:00Z", to: "2026-12-01T11:30:00Z", p: Hour, want: []string{
				"2026-12-01T11:00:00Z,alpha,beta,1,4",
			}},
			{from: "2026-12-01T10:30:00Z", to: "2026-12-01T10:45:00Z", p: Hour, want: []string{}},
			// ... whole, even when to falls inside it.
			{from: "2026-12-01T00:00:00Z", to: "2026-12-01T10:30:00Z", p: Day, want: []string{
				"2026-12-01T00:00:00Z,alpha,beta,3,7",
			}},
			{from: "2026-12-01T00:00:01Z", to: "2026-12-03T00:00:00Z", p: Day, want: []string{
				"2026-12-02T00:00:00Z,alpha,beta,1,8",
			}},
			{from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", p: Day, want: []string{
				"2026-12-01T00:00:00Z,alpha,beta,3,7",
			}},
			{from: "2026-12-01T11:00:00Z", to: "2026-12-01T11:00:00Z", p: Hour, err: "is empty"},
			{from: "2026-12-02T00:00:00Z", to: "2026-12-01T00:00:00Z", p: Day, err: "is empty"},
			{from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", p: "week", err: `period "week"`},
		},
	},
	{
		name: "unknown carriers kept as unknown",
		adds: []addStep{{recs: []*settlementv1.Record{
			rec("s1", "unknown", "beta", "2026-12-01T10:00:00Z", 1),
			rec("s2", "", "beta", "2026-12-01T10:00:00Z", 2),
			rec("s3", "alpha", "unknown", "2026-12-01T10:00:00Z", 4),
			rec("s4", "unknown", "unknown", "2026-12-01T10:00:00Z", 8),
		}, counted: 4}},
		reports: []reportStep{{from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", p: Day, want: []string{
			"2026-12-01T00:00:00Z,alpha,unknown,1,4",
			"2026-12-01T00:00:00Z,unknown,beta,2,3",
			"2026-12-01T00:00:00Z,unknown,unknown,1,8",
		}}},
	},
	{
		name: "sorted by period, originating, terminating",
		adds: []addStep{{recs: []*settlementv1.Record{
			rec("s1", "carol", "alpha", "2026-12-01T11:00:00Z", 1),
			rec("s2", "carol", "alpha", "2026-12-01T10:00:00Z", 1),
			rec("s3", "alpha", "carol", "2026-12-01T10:00:00Z", 1),
			rec("s4", "alpha", "bob", "2026-12-01T10:00:00Z", 1),
			rec("s5", "bob", "alpha", "2026-12-01T10:00:00Z", 1),
			rec("s6", "Zed", "alpha", "2026-12-01T10:00:00Z", 1),
		}, counted: 6}},
		reports: []reportStep{{from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", p: Hour, want: []string{
			"2026-12-01T10:00:00Z,Zed,alpha,1,1",
			"2026-12-01T10:00:00Z,alpha,bob,1,1",
			"2026-12-01T10:00:00Z,alpha,carol,1,1",
			"2026-12-01T10:00:00Z,bob,alpha,1,1",
			"2026-12-01T10:00:00Z,carol,alpha,1,1",
			"2026-12-01T11:00:00Z,carol,alpha,1,1",
		}}},
	},
	{
		name: "an invalid record counts none of its batch",
		adds: []addStep{
			{recs: []*settlementv1.Record{
				rec("s1", "alpha", "beta", "2026-12-01T10:00:00Z", 1),
				{SessionId: "s2", OriginatingCarrier: "alpha", TerminatingCarrier: "beta", Seconds: 2},
			}, err: `record 1 (session "s2"): no start`},
			{recs: []*settlementv1.Record{rec("", "alpha", "beta", "2026-12-01T10:00:00Z", 1)}, err: "no session_id"},
			{recs: []*settlementv1.Record{nil}, err: "nil record"},
			{recs: []*settlementv1.Record{rec("s3", "al\x1fpha", "beta", "2026-12-01T10:00:00Z", 1)}, err: "unit separator"},
			// s1 was not guarded by the refused batch.
			{recs: []*settlementv1.Record{rec("s1", "alpha", "beta", "2026-12-01T10:00:00Z", 1)}, counted: 1},
			{recs: nil, counted: 0},
		},
		reports: []reportStep{{from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", p: Day, want: []string{
			"2026-12-01T00:00:00Z,alpha,beta,1,1",
		}}},
	},
	{
		name: "before 1970",
		adds: []addStep{{recs: []*settlementv1.Record{
			rec("s1", "alpha", "beta", "1969-12-31T23:30:00Z", 1),
			rec("s2", "alpha", "beta", "1970-01-01T00:30:00Z", 2),
		}, counted: 2}},
		reports: []reportStep{{from: "1969-12-31T00:00:00Z", to: "1970-01-02T00:00:00Z", p: Hour, want: []string{
			"1969-12-31T23:00:00Z,alpha,beta,1,1",
			"1970-01-01T00:00:00Z,alpha,beta,1,2",
		}}},
	},
}

func TestStores(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					s := be.open(t, time.Hour)
					for i, a := range tc.adds {
						n, err := s.add(t.Context(), a.recs)
						switch {
						case a.err == "" && err != nil:
							t.Fatalf("add %d: %v", i, err)
						case a.err != "" && (err == nil || !strings.Contains(err.Error(), a.err) || !errors.Is(err, ErrInvalid)):
							t.Fatalf("add %d: error %v, want ErrInvalid with %q", i, err, a.err)
						case n != a.counted:
							t.Errorf("add %d: counted %d, want %d", i, n, a.counted)
						}
					}
					for _, r := range tc.reports {
						rows, err := s.Report(t.Context(), at(r.from), at(r.to), r.p)
						what := fmt.Sprintf("report [%s, %s) by %s", r.from, r.to, r.p)
						if r.err != "" {
							if err == nil || !strings.Contains(err.Error(), r.err) || !errors.Is(err, ErrInvalid) {
								t.Errorf("%s: error %v, want ErrInvalid with %q", what, err, r.err)
							}
							continue
						}
						if err != nil {
							t.Fatalf("%s: %v", what, err)
						}
						if got := rowsText(rows); !slices.Equal(got, r.want) {
							t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(r.want, "\n"))
						}
						for _, row := range rows {
							if row.PeriodStart.Location() != time.UTC {
								t.Errorf("%s: period start %v is not in UTC", what, row.PeriodStart)
							}
						}
					}
				})
			}
		})
	}
}

// TestGuardTTL shows the exactness rule's limit: a copy of a record that
// comes after the guard has expired counts again.
func TestGuardTTL(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			s := be.open(t, 100*time.Millisecond)
			r := rec("s1", "alpha", "beta", "2026-12-01T10:00:00Z", 5)
			for i, want := range []int{1, 0} {
				if n, err := s.add(t.Context(), []*settlementv1.Record{r}); err != nil || n != want {
					t.Fatalf("add %d: counted %d, %v; want %d", i, n, err, want)
				}
			}
			time.Sleep(250 * time.Millisecond)
			if n, err := s.add(t.Context(), []*settlementv1.Record{r}); err != nil || n != 1 {
				t.Fatalf("after the TTL: counted %d, %v; want 1 (counted again)", n, err)
			}
			rows, err := s.Report(t.Context(), at("2026-12-01T10:00:00Z"), at("2026-12-01T11:00:00Z"), Hour)
			if got, want := rowsText(rows), []string{"2026-12-01T10:00:00Z,alpha,beta,2,10"}; err != nil || !slices.Equal(got, want) {
				t.Errorf("report: %v, %v; want %v", got, err, want)
			}
		})
	}
}

// TestConcurrentCopies adds the same records from several goroutines at
// once: each counts once.
func TestConcurrentCopies(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			s := be.open(t, time.Hour)
			var recs []*settlementv1.Record
			for i := range 300 {
				recs = append(recs, rec(fmt.Sprintf("s%d", i), "alpha", "beta", "2026-12-01T10:00:00Z", 1))
			}
			var total atomic.Int64
			errs := make(chan error, 4)
			for range 4 {
				go func() {
					n, err := s.add(t.Context(), recs)
					total.Add(int64(n))
					errs <- err
				}()
			}
			for range 4 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			if total.Load() != 300 {
				t.Errorf("counted %d in all, want 300", total.Load())
			}
			rows, err := s.Report(t.Context(), at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z"), Day)
			if got, want := rowsText(rows), []string{"2026-12-01T00:00:00Z,alpha,beta,300,300"}; err != nil || !slices.Equal(got, want) {
				t.Errorf("report: %v, %v; want %v", got, err, want)
			}
		})
	}
}

// TestRedisKeys checks the documented key layout.
func TestRedisKeys(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	ctx := t.Context()
	s := NewRedis(client, "{kradius}", time.Hour)
	if err := s.Add(ctx, []*settlementv1.Record{rec("c1", "alpha", "beta", "2026-12-01T10:20:00Z", 42)}); err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	hourStart := at("2026-12-01T10:00:00Z").Unix()
	hour := fmt.Sprint(hourStart)
	if want := []string{"{kradius}:settle:" + hour, "{kradius}:settle:hours", "{kradius}:settle:seen:c1"}; !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	fields, _ := client.HGetAll(ctx, "{kradius}:settle:"+hour).Result()
	if want := map[string]string{"alpha\x1fbeta\x1fcalls": "1", "alpha\x1fbeta\x1fseconds": "42"}; fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("hour hash %q, want %q", fields, want)
	}
	if ttl := client.PTTL(ctx, "{kradius}:settle:seen:c1").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("guard TTL %s, want about an hour", ttl)
	}
	if z := client.ZRangeWithScores(ctx, "{kradius}:settle:hours", 0, -1).Val(); len(z) != 1 || z[0].Member != hour || int64(z[0].Score) != hourStart {
		t.Errorf("hours %v, want %s scored by itself", z, hour)
	}
}

// TestBoltReopen keeps the totals across a reopen, and sweeps expired
// guards at open.
func TestBoltReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settlement.db")
	b, err := OpenBolt(path, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(t.Context(), []*settlementv1.Record{rec("s1", "alpha", "beta", "2026-12-01T10:00:00Z", 5)}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	b, err = OpenBolt(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(seenBucket).Stats().KeyN; n != 0 {
			t.Errorf("%d guards left after the sweep at open, want 0", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rows, err := b.Report(t.Context(), at("2026-12-01T00:00:00Z"), at("2026-12-02T00:00:00Z"), Day)
	if got, want := rowsText(rows), []string{"2026-12-01T00:00:00Z,alpha,beta,1,5"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("report after reopen: %v, %v; want %v", got, err, want)
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]Period{"hour": Hour, "day": Day} {
		if p, err := ParsePeriod(in); err != nil || p != want {
			t.Errorf("ParsePeriod(%q) = %q, %v", in, p, err)
		}
	}
	for _, in := range []string{"", "Hour", "week", "1h"} {
		if _, err := ParsePeriod(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePeriod(%q): error %v, want ErrInvalid", in, err)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "period_start,originating_carrier,terminating_carrier,calls,seconds\n"; got != want {
		t.Errorf("no rows: %q, want %q", got, want)
	}
	buf.Reset()
	rows := []Row{
		{PeriodStart: at("2026-12-01T00:00:00Z"), Originating: "alpha", Terminating: "beta, inc", Calls: 3, Seconds: 91},
		{PeriodStart: at("2026-12-01T19:00:00-05:00"), Originating: "unknown", Terminating: "beta", Calls: 1, Seconds: 0},
	}
	if err := WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := "period_start,originating_carrier,terminating_carrier,calls,seconds\n" +
		"2026-12-01T00:00:00Z,alpha,\"beta, inc\",3,91\n" +
		"2026-12-02T00:00:00Z,unknown,beta,1,0\n"
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, nil); err != nil || buf.Len() != 0 {
		t.Errorf("no rows: %q, %v; want nothing", buf.String(), err)
	}
	rows := []Row{
		{PeriodStart: at("2026-12-01T00:00:00Z"), Originating: "a&b", Terminating: "beta", Calls: 3, Seconds: 91},
		{PeriodStart: at("2026-12-01T19:00:00-05:00"), Originating: "unknown", Terminating: "beta", Calls: 1},
	}
	if err := WriteJSON(&buf, rows); err != nil {
		t.Fatal(err)
	}
	want := `{"period_start":"2026-12-01T00:00:00Z","originating_carrier":"a&b","terminating_carrier":"beta","calls":3,"seconds":91}` + "\n" +
		`{"period_start":"2026-12-02T00:00:00Z","originating_carrier":"unknown","terminating_carrier":"beta","calls":1,"seconds":0}` + "\n"
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}
