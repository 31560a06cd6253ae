package fieldtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// recorder collects what a check reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(r)
}

func (r *recorder) has(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.ContainsFunc(r.errs, func(e string) bool { return strings.Contains(e, w) }) {
			t.Errorf("no report containing %q in %q", w, r.errs)
		}
	}
	if len(r.errs) != len(want) {
		t.Errorf("reports %q, want %d", r.errs, len(want))
	}
}

type inner struct{ Line string }

type record struct {
	Name    string    `json:"name"`
	N       uint32    `json:"n"`
	On      bool      `json:"on,omitempty"`
	Ptr     *int64    `json:"ptr"`
	List    []string  `json:"list"`
	When    time.Time `json:"when"`
	Inner   inner     `json:"inner"`
	PtrIn   *inner    `json:"ptrIn"`
	Dropped string    `json:"-"`
}

func TestFillSetsEveryFieldDistinctly(t *testing.T) {
	var r record
	Fill(t, &r)
	RequireSet(t, "filled", r, nil)
	seen := map[string]bool{}
	for _, s := range []string{r.Name, r.Inner.Line, r.PtrIn.Line, r.Dropped, r.List[0], r.List[1]} {
		if seen[s] {
			t.Errorf("%q filled twice in %+v", s, r)
		}
		seen[s] = true
	}
}

func TestRequireSetNamesUnsetFields(t *testing.T) {
	var r record
	Fill(t, &r)
	r.Inner.Line, r.List, r.Ptr = "", nil, nil
	rec := &recorder{}
	RequireSet(rec, "x", r, Exceptions{"List": "a reason"})
	rec.has(t, "x: Inner.Line is not set", "x: Ptr is not set")
}

func TestRequireEqualNamesDifferences(t *testing.T) {
	var a record
	Fill(t, &a)
	b := a
	n := *b.Ptr + 1
	b.Ptr, b.PtrIn = &n, &inner{Line: "other"}
	b.When = a.When.In(time.FixedZone("east", 3600)) // the same instant
	rec := &recorder{}
	RequireEqual(rec, "x", a, b, nil)
	rec.has(t, "x: Ptr is", "x: PtrIn.Line is")
}

func TestExceptionsMustNameAFieldAndGiveAReason(t *testing.T) {
	var r record
	Fill(t, &r)
	rec := &recorder{}
	RequireSet(rec, "x", r, Exceptions{"Gone": "was removed", "Inner.Line": "", "PtrIn.Line": "ok"})
	rec.has(t, `exception "Gone" names no field`, `exception "Inner.Line" gives no reason`)
}

func TestMessages(t *testing.T) {
	m := &structpb.Value{}
	Fill(t, m) // a oneof: its first field is filled
	if _, ok := m.Kind.(*structpb.Value_NullValue); !ok {
		t.Errorf("oneof filled with %T", m.Kind)
	}
	ts := &timestamppb.Timestamp{}
	Fill(t, ts)
	RequireSet(t, "filled", ts, nil)
	other := &timestamppb.Timestamp{Seconds: ts.Seconds}
	rec := &recorder{}
	RequireSet(rec, "x", other, Exceptions{"seconds": "a reason"})
	RequireEqual(rec, "y", ts, other, nil)
	rec.has(t, "x: nanos is not set", "y: nanos is unset, want")
	rec = &recorder{}
	RequireSet(rec, "x", ts, Exceptions{"second": "misspelt"})
	rec.has(t, `exception "second" names no field`)
}

func TestRequireSameJSON(t *testing.T) {
	type file struct {
		Name  string   `json:"name"`
		N     int64    `json:"n"`
		List  []string `json:"list"`
		Extra string   `json:"extra"`
	}
	type kept struct {
		Name  string   `json:"name"`
		N     uint32   `json:"n"`
		List  []string `json:"list,omitempty"`
		Other string   `json:"other"`
	}
	src := file{Name: "a", N: 7, List: []string{"x"}, Extra: "e"}
	dst := kept{Name: "a", N: 7, Other: "o"}
	rec := &recorder{}
	RequireSameJSON(rec, "x", src, dst, Exceptions{"gone": "a reason"})
	rec.has(t, `exception "gone" names no JSON field`, "x: list is absent", "has other", "has extra")
	rec = &recorder{}
	dst.List = src.List
	RequireSameJSON(rec, "x", src, dst, Exceptions{"extra": "a reason", "other": "a reason"})
	rec.has(t)
}
