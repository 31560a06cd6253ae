package cdr

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/acctlog/journal"
)

// TestJournalReaders: a reader goes on after what it read; resumed, it
// starts again after what it committed; readers are independent, and the
// marker's name is refused.
func TestJournalReaders(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(filepath.Join(t.TempDir(), "cdr"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for i := range 5 {
		v, _ := proto.Marshal(&accountingv1.CDR{SessionId: fmt.Sprintf("s-%d", i)})
		if err := j.Append(ctx, nil, v); err != nil {
			t.Fatal(err)
		}
	}
	r := NewJournalReaders(j)
	defer r.Close()
	ids := func(cs []JournalCDR) string {
		var s string
		for _, c := range cs {
			s += c.CDR.GetSessionId() + " "
		}
		return s
	}
	got, end, err := r.Read(ctx, "billing", true, 3, 0)
	if err != nil || ids(got) != "s-0 s-1 s-2 " || end != 5 {
		t.Fatalf("first read: %q end %d, %v", ids(got), end, err)
	}
	if err := r.Commit(ctx, "billing", got[1].Offset); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := r.Read(ctx, "billing", false, 10, 0); ids(got) != "s-3 s-4 " {
		t.Errorf("read on: %q, want what follows the previous read", ids(got))
	}
	if got, _, _ := r.Read(ctx, "billing", true, 10, 0); ids(got) != "s-2 s-3 s-4 " {
		t.Errorf("resumed: %q, want what follows the commit", ids(got))
	}
	if got, _, _ := r.Read(ctx, "audit", true, 2, 0); ids(got) != "s-0 s-1 " {
		t.Errorf("another reader: %q, want its own position", ids(got))
	}
	if got, _, err := r.Read(ctx, "billing", false, 10, 0); err != nil || len(got) != 0 {
		t.Errorf("read at the end: %q, %v; want nothing at once", ids(got), err)
	}
	if _, _, err := r.Read(ctx, markerName, true, 1, 0); !errors.Is(err, ErrReservedReader) {
		t.Errorf("the marker's name: %v", err)
	}
	if err := r.Commit(ctx, "billing", 99); !errors.Is(err, journal.ErrBeyondEnd) {
		t.Errorf("commit past the end: %v", err)
	}
}
