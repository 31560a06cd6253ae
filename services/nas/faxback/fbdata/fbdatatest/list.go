package fbdatatest

import (
	"fmt"
	"strings"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
)

var listTests = []test{
	{"ListAccountsPages", testListAccountsPages},
	{"ListDIDsPages", testListDIDsPages},
	{"ListCalledNumbersPages", testListCalledNumbersPages},
}

// names joins what a page returned, for comparison.
func names[T any](recs []T, f func(T) string) string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = f(r)
	}
	return strings.Join(out, ",")
}

func testListAccountsPages(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	ctx := t.Context()
	if got, err := s.ListAccounts(ctx, "", 10); err != nil || len(got) != 0 {
		t.Fatalf("ListAccounts on an empty store = %v, %v", got, err)
	}
	for _, n := range []string{"Carol", "alice", "Bob", "dave", "erin"} {
		mustPutAccount(t, s, account(n))
	}
	name := func(a fbdata.Account) string { return a.Name }
	for _, tc := range []struct {
		after string
		limit int
		want  string
	}{
		{"", 2, "alice,Bob"},
		{"bob", 2, "Carol,dave"},
		{"dave", 2, "erin"},
		{"erin", 2, ""},
		{"", 10, "alice,Bob,Carol,dave,erin"},
		{"b", 1, "Bob"}, // after need not be a stored name
	} {
		got, err := s.ListAccounts(ctx, tc.after, tc.limit)
		if err != nil || names(got, name) != tc.want {
			t.Errorf("ListAccounts(%q, %d) = %s, %v; want %s", tc.after, tc.limit, names(got, name), err, tc.want)
		}
	}
	if err := s.DeleteAccount(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListAccounts(ctx, "", 10); names(got, name) != "alice,Bob,dave,erin" {
		t.Errorf("after a delete: %s", names(got, name))
	}
	// Replacing an account lists it once, with its new spelling.
	mustPutAccount(t, s, account("ALICE"))
	if got, _ := s.ListAccounts(ctx, "", 10); names(got, name) != "ALICE,Bob,dave,erin" {
		t.Errorf("after a replace: %s", names(got, name))
	}
}

func testListDIDsPages(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	ctx := t.Context()
	mustPutAccount(t, s, account("a"))
	mustPutAccount(t, s, account("b"))
	var b fbdata.Batch
	for i := range 7 {
		b.DIDs = append(b.DIDs, fbdata.DID{Number: fmt.Sprintf("55500%d", i), Account: []string{"a", "b"}[i%2]})
	}
	if err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	number := func(d fbdata.DID) string { return d.Number }
	var all []string
	for after := ""; ; {
		page, err := s.ListDIDs(ctx, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, names(page, number))
		after = page[len(page)-1].Number
	}
	if got := strings.Join(all, "|"); got != "555000,555001,555002|555003,555004,555005|555006" {
		t.Errorf("pages = %s", got)
	}
	if err := s.DeleteDID(ctx, "555003"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListDIDs(ctx, "555002", 2); names(got, number) != "555004,555005" {
		t.Errorf("after a delete: %s", names(got, number))
	}
}

func testListCalledNumbersPages(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	ctx := t.Context()
	if got, err := s.ListCalledNumbers(ctx, "", 10); err != nil || len(got) != 0 {
		t.Fatalf("ListCalledNumbers on an empty store = %v, %v", got, err)
	}
	// Entries come from Stops and from provisioning alike; both are listed.
	var b fbdata.Batch
	for i := range 7 {
		if i%2 == 0 {
			b.CalledNumbers = append(b.CalledNumbers, fbdata.CalledNumber{Number: fmt.Sprintf("55500%d", i), FaxVerified: true})
		} else if err := s.RecordCalledNumber(ctx, fmt.Sprintf("55500%d", i), fbdata.CallVoiceError); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	number := func(c fbdata.CalledNumber) string { return c.Number }
	var all []string
	for after := ""; ; {
		page, err := s.ListCalledNumbers(ctx, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, names(page, number))
		after = page[len(page)-1].Number
	}
	if got := strings.Join(all, "|"); got != "555000,555001,555002|555003,555004,555005|555006" {
		t.Errorf("pages = %s", got)
	}
	if got, _ := s.ListCalledNumbers(ctx, "555000", 2); len(got) != 2 || !got[0].VoiceError || got[0].FaxVerified || !got[1].FaxVerified || got[1].VoiceError {
		t.Errorf("ListCalledNumbers(555000, 2) = %+v, want 555001 a voice error and 555002 a verified fax", got)
	}
	// A result for a listed number lists it once.
	if err := s.RecordCalledNumber(ctx, "555004", fbdata.CallVoiceError); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCalledNumber(ctx, "555003"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListCalledNumbers(ctx, "555002", 10); names(got, number) != "555004,555005,555006" {
		t.Errorf("after a delete: %s", names(got, number))
	}
	if got, _ := s.ListCalledNumbers(ctx, "5550", 1); names(got, number) != "555000" {
		t.Errorf("ListCalledNumbers(5550, 1) = %s; after need not be a stored number", names(got, number))
	}
}
