package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	didsv1 "kradius.dev/proto/kradius/dids/v1"
	genericv1 "kradius.dev/proto/kradius/generic/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore"
	"kradius.dev/services/nas/generic"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/recordsvc/recordsrpc"
	recembedded "kradius.dev/services/store/records/embedded"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// kinds are the other profiles' kinds the tests' store keeps.
var kinds = recordsvc.Kinds([]nas.Plugin{generic.Plugin})

// serve serves the admin API over the serving store: FaxBack's kinds and
// the generic profile's on one embedded records backend.
func serve(t *testing.T) (adminv1.AdminServiceClient, *grpc.ClientConn, fbdata.Store) {
	t.Helper()
	rs, err := recembedded.Open(filepath.Join(t.TempDir(), "kradius.db"), append(slices.Clone(fbstore.Kinds), recordsvc.StoreKinds(kinds)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	st := fbstore.New(rs, fbdata.Options{})
	recs := recordsvc.New(rs, kinds, password.NewVerifier(10, time.Minute), cheap)
	ln := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(srv, NewServer(st, recs, cheap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	recordsv1.RegisterRecordServiceServer(srv, recordsrpc.NewServer(recs))
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return adminv1.NewAdminServiceClient(conn), conn, st
}

func code(err error) codes.Code { return status.Code(err) }

func TestAccountsAndDIDs(t *testing.T) {
	c, _, st := serve(t)
	ctx := context.Background()
	put, err := c.PutAccount(ctx, &adminv1.PutAccountRequest{Record: &adminv1.AccountRecord{
		Account: &accountsv1.Account{Name: "Carol", Type: 4, MacAddress: "00:90:8f:1d:37:f0"}, Password: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	if a := put.GetAccount(); a.GetUuid() == "" || !a.GetHasPassword() || a.GetLastModified() == nil || a.GetMacAddress() != "00908F1D37F0" {
		t.Errorf("stored account: %v", a)
	}
	stored, _ := st.GetAccount(ctx, "carol")
	if ok, _ := password.Verify(stored.PasswordHash, "s3cret"); !ok {
		t.Error("the clear-text password was not hashed into the store")
	}
	if _, err := c.PutDID(ctx, &adminv1.PutDIDRequest{Did: &didsv1.DID{Number: "5551234", Account: "carol", HasLineNum: true, LineNum: 2}}); err != nil {
		t.Fatal(err)
	}
	if d, err := c.GetDID(ctx, &adminv1.GetDIDRequest{Number: "5551234"}); err != nil || d.GetDid().GetLineNum() != 2 {
		t.Errorf("GetDID: %v %v", d, err)
	}
	for name, tc := range map[string]struct {
		err  error
		want codes.Code
	}{
		"invalid account": {func() error {
			_, err := c.PutAccount(ctx, &adminv1.PutAccountRequest{Record: &adminv1.AccountRecord{Account: &accountsv1.Account{Name: "this-name-is-too-long"}}})
			return err
		}(), codes.InvalidArgument},
		"both password forms": {func() error {
			_, err := c.PutAccount(ctx, &adminv1.PutAccountRequest{Record: &adminv1.AccountRecord{Account: &accountsv1.Account{Name: "x"}, Password: "a", PasswordHash: "b"}})
			return err
		}(), codes.InvalidArgument},
		"DID of a missing account": {func() error {
			_, err := c.PutDID(ctx, &adminv1.PutDIDRequest{Did: &didsv1.DID{Number: "1", Account: "nobody"}})
			return err
		}(), codes.FailedPrecondition},
		"deleting an account with DIDs": {func() error {
			_, err := c.DeleteAccount(ctx, &adminv1.DeleteAccountRequest{Name: "carol"})
			return err
		}(), codes.FailedPrecondition},
		"missing account": {func() error {
			_, err := c.GetAccount(ctx, &adminv1.GetAccountRequest{Name: "nobody"})
			return err
		}(), codes.NotFound},
		"bad call result": {func() error {
			_, err := c.RecordCalledNumber(ctx, &adminv1.RecordCalledNumberRequest{Number: "555"})
			return err
		}(), codes.InvalidArgument},
	} {
		if got := code(tc.err); got != tc.want {
			t.Errorf("%s: %v, want %v (%v)", name, got, tc.want, tc.err)
		}
	}
	if _, err := c.DeleteDID(ctx, &adminv1.DeleteDIDRequest{Number: "5551234"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteAccount(ctx, &adminv1.DeleteAccountRequest{Name: "CAROL"}); err != nil {
		t.Fatal(err)
	}
}

func TestGroups(t *testing.T) {
	c, _, _ := serve(t)
	ctx := context.Background()
	for _, n := range []string{"a", "b"} {
		if _, err := c.PutAccount(ctx, &adminv1.PutAccountRequest{Record: &adminv1.AccountRecord{Account: &accountsv1.Account{Name: n}}}); err != nil {
			t.Fatal(err)
		}
	}
	g, err := c.PutGroup(ctx, &adminv1.PutGroupRequest{Group: &adminv1.Group{Name: "lb", Members: []string{"a", "b"}}})
	if err != nil || g.GetGroup().GetType() != 8 || g.GetGroup().GetUuid() == "" {
		t.Fatalf("PutGroup: %v %v", g, err)
	}
	if _, err := c.PutGroup(ctx, &adminv1.PutGroupRequest{Group: &adminv1.Group{Name: "lb", Type: 10, Members: []string{"b"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetGroup(ctx, &adminv1.GetGroupRequest{Name: "LB"})
	if err != nil || got.GetGroup().GetType() != 10 || strings.Join(got.GetGroup().GetMembers(), ",") != "b" {
		t.Errorf("GetGroup: %v %v", got, err)
	}
	if _, err := c.GetGroup(ctx, &adminv1.GetGroupRequest{Name: "a"}); code(err) != codes.NotFound {
		t.Errorf("GetGroup of a plain account: %v", err)
	}
	if _, err := c.PutGroup(ctx, &adminv1.PutGroupRequest{Group: &adminv1.Group{Name: "x", Type: 4}}); code(err) != codes.InvalidArgument {
		t.Errorf("PutGroup of type 4: %v", err)
	}
	if _, err := c.PutGroup(ctx, &adminv1.PutGroupRequest{Group: &adminv1.Group{Name: "y", Members: []string{"ghost"}}}); code(err) != codes.FailedPrecondition {
		t.Errorf("PutGroup with a missing member: %v", err)
	}
	if _, err := c.DeleteGroup(ctx, &adminv1.DeleteGroupRequest{Name: "lb"}); err != nil {
		t.Fatal(err)
	}
}

func chunks(t *testing.T, b fbdata.Batch, recs []recordsvc.Write, size int) int {
	t.Helper()
	c, err := Chunks(b, recs, size)
	if err != nil {
		t.Fatal(err)
	}
	return len(c)
}

// TestImportRecords: the other profiles' records come in the same
// transaction as the FaxBack records of their chunk, and a bad one stops
// the chunk whole.
func TestImportRecords(t *testing.T) {
	_, conn, st := serve(t)
	ctx := context.Background()
	recClient := recordsv1.NewRecordServiceClient(conn)
	b := fbdata.Batch{Accounts: []fbdata.Account{{Name: "fax1"}}}
	users := []recordsvc.Write{
		{Kind: generic.KindUsers, Value: &genericv1.User{Name: "Dial1", ChapPassword: "pw", ReplyMessage: "hi"}},
		{Kind: generic.KindUsers, Value: &genericv1.User{Name: "dial2", ChapPassword: "pw"}},
	}
	if n := chunks(t, b, users, 100); n != 1 {
		t.Fatalf("a small import in %d chunks, want 1 (atomic)", n)
	}
	res, err := Import(ctx, conn, b, users, 100)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetAccounts() != 1 || res.GetRecords() != 2 || res.GetChunks() != 1 {
		t.Errorf("import result %v: want 1 account and 2 records in 1 chunk", res)
	}
	got, err := recClient.GetRecord(ctx, &recordsv1.GetRecordRequest{Kind: generic.KindUsers, Key: "DIAL1"})
	if err != nil {
		t.Fatal(err)
	}
	u := &genericv1.User{}
	if err := got.GetRecord().GetValue().UnmarshalTo(u); err != nil || u.GetName() != "Dial1" || u.GetReplyMessage() != "hi" || u.GetChapPassword() != "" || got.GetRecord().GetKey() != "dial1" {
		t.Errorf("GetRecord: %v (%v), want Dial1 under key dial1, its CHAP password cleared", got, err)
	}

	// A bad user stops its chunk: the account beside it is not written.
	bad := append(users[:1:1], recordsvc.Write{Kind: generic.KindUsers, Value: &genericv1.User{Name: "nopassword"}})
	_, err = Import(ctx, conn, fbdata.Batch{Accounts: []fbdata.Account{{Name: "fax2"}}}, bad, 100)
	if code(err) != codes.InvalidArgument && !errors.Is(err, fbdata.ErrInvalid) {
		t.Errorf("import with a bad user: %v, want invalid", err)
	}
	if !strings.Contains(fmt.Sprint(err), "records[1] (generic.users)") {
		t.Errorf("import error %q does not name the record", err)
	}
	if _, err := st.GetAccount(ctx, "fax2"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("the account of a refused chunk: %v, want not found", err)
	}
	if _, err := recClient.GetRecord(ctx, &recordsv1.GetRecordRequest{Kind: generic.KindUsers, Key: "nopassword"}); code(err) != codes.NotFound {
		t.Errorf("the bad user: %v, want not found", err)
	}
}

func TestImportChunks(t *testing.T) {
	_, conn, st := serve(t)
	ctx := context.Background()
	b := fbdata.Batch{
		Accounts: []fbdata.Account{
			{Name: "grp", Type: 9, Members: []string{"m1", "m2"}}, // refers forward, across chunks
			{Name: "m1", RcvFailoverAccount: "m2"},
			{Name: "m2"},
		},
		DIDs: []fbdata.DID{{Number: "1", Account: "m1"}, {Number: "2", Account: "m2"}, {Number: "3", Account: "grp"}},
	}
	if n := chunks(t, b, nil, 100); n != 1 {
		t.Fatalf("a small batch in %d chunks, want 1 (atomic)", n)
	}
	res, err := Import(ctx, conn, b, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetAccounts() != 5 || res.GetDids() != 3 || res.GetChunks() < 4 {
		t.Errorf("import result %v: want 3 accounts plus 2 rewritten with their references, 3 DIDs, several chunks", res)
	}
	g, err := st.GetAccount(ctx, "grp")
	if err != nil || len(g.Members) != 2 {
		t.Errorf("group after a chunked import: %+v %v", g, err)
	}
	m1, _ := st.GetAccount(ctx, "m1")
	if m1.RcvFailoverAccount != "m2" {
		t.Errorf("failover reference lost: %+v", m1)
	}

	// A chunk that fails stops the import, and says which.
	bad := fbdata.Batch{Accounts: []fbdata.Account{{Name: "ok1"}}, DIDs: []fbdata.DID{{Number: "9", Account: "ghost"}}}
	_, err = Import(ctx, conn, bad, nil, 1)
	if err == nil || !strings.Contains(err.Error(), "chunk 2") {
		t.Fatalf("failing import: %v", err)
	}
}

func TestListPages(t *testing.T) {
	c, _, st := serve(t)
	ctx := context.Background()
	b := fbdata.Batch{}
	for i := range 25 {
		b.Accounts = append(b.Accounts, fbdata.Account{Name: fmt.Sprintf("acct%02d", i)})
		b.DIDs = append(b.DIDs, fbdata.DID{Number: fmt.Sprintf("555%04d", i), Account: fmt.Sprintf("acct%02d", i)})
	}
	b.Accounts = append(b.Accounts, fbdata.Account{Name: "group", Type: 8, Members: []string{"acct01"}})
	if err := st.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	var accounts, dids, groups int
	for token := ""; ; {
		r, err := c.ListAccounts(ctx, &adminv1.ListAccountsRequest{PageSize: 10, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		accounts += len(r.GetAccounts())
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	for token := ""; ; {
		r, err := c.ListDIDs(ctx, &adminv1.ListDIDsRequest{PageSize: 7, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		dids += len(r.GetDids())
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	for token := ""; ; {
		r, err := c.ListGroups(ctx, &adminv1.ListGroupsRequest{PageSize: 4, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		groups += len(r.GetGroups())
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	if accounts != 26 || dids != 25 || groups != 1 {
		t.Errorf("listed %d accounts, %d DIDs, %d groups; want 26, 25, 1", accounts, dids, groups)
	}
}

func TestCalledNumbers(t *testing.T) {
	c, conn, st := serve(t)
	ctx := context.Background()
	if _, err := c.GetCalledNumber(ctx, &adminv1.GetCalledNumberRequest{Number: "5035550100"}); code(err) != codes.NotFound {
		t.Errorf("GetCalledNumber of an unknown number: %v", err)
	}
	// A port server's database, migrated: imported with the accounts, in one
	// transaction when it fits one chunk, in chunks of its own otherwise.
	b := fbdata.Batch{Accounts: []fbdata.Account{{Name: "ata"}}, DIDs: []fbdata.DID{{Number: "100", Account: "ata"}}}
	for i := range 5 {
		b.CalledNumbers = append(b.CalledNumbers, fbdata.CalledNumber{Number: fmt.Sprintf("503555010%d", i), FaxVerified: i%2 == 0, VoiceError: i%2 == 1})
	}
	if n := chunks(t, b, nil, 100); n != 1 {
		t.Fatalf("a small batch in %d chunks, want 1 (atomic)", n)
	}
	res, err := Import(ctx, conn, b, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetAccounts() != 1 || res.GetDids() != 1 || res.GetCalledNumbers() != 5 || res.GetChunks() != 5 {
		t.Errorf("import result %v: want 1 account, 1 DID and 5 called numbers in 5 chunks", res)
	}
	got, err := c.GetCalledNumber(ctx, &adminv1.GetCalledNumberRequest{Number: "5035550101"})
	if n := got.GetCalledNumber(); err != nil || n.GetNumber() != "5035550101" || n.GetFaxVerified() || !n.GetVoiceError() || n.GetUpdated() == nil {
		t.Errorf("GetCalledNumber(5035550101) = %v, %v; want a voice error, with the time it was written", got, err)
	}
	// Entries from Stops are listed beside the imported ones.
	if _, err := c.RecordCalledNumber(ctx, &adminv1.RecordCalledNumberRequest{Number: "5035550099", Result: adminv1.CallResult_CALL_RESULT_SUCCESS}); err != nil {
		t.Fatal(err)
	}
	var numbers []string
	pages := 0
	for token := ""; ; {
		r, err := c.ListCalledNumbers(ctx, &adminv1.ListCalledNumbersRequest{PageSize: 4, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, n := range r.GetCalledNumbers() {
			numbers = append(numbers, n.GetNumber())
		}
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	if got := strings.Join(numbers, ","); got != "5035550099,5035550100,5035550101,5035550102,5035550103,5035550104" || pages != 2 {
		t.Errorf("listed %s in %d pages; want the six numbers in order, in 2 pages", got, pages)
	}

	if _, err := c.DeleteCalledNumber(ctx, &adminv1.DeleteCalledNumberRequest{Number: "5035550101"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetCalledNumber(ctx, "5035550101"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("after DeleteCalledNumber, the store still has it: %v", err)
	}
	if _, err := c.DeleteCalledNumber(ctx, &adminv1.DeleteCalledNumberRequest{Number: "5035550101"}); code(err) != codes.NotFound {
		t.Errorf("DeleteCalledNumber again: %v", err)
	}

	// A bad entry fails its chunk, naming it, and writes nothing of it.
	bad := fbdata.Batch{CalledNumbers: []fbdata.CalledNumber{{Number: "5035550200", FaxVerified: true}, {Number: "5035550201"}}}
	_, err = Import(ctx, conn, bad, nil, 10)
	if !errors.Is(err, fbdata.ErrInvalid) || !strings.Contains(err.Error(), `calledNumbers[1] (number "5035550201")`) {
		t.Errorf("import of an entry that says nothing: %v; want ErrInvalid naming calledNumbers[1]", err)
	}
	if _, err := st.GetCalledNumber(ctx, "5035550200"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("the refused chunk wrote 5035550200: %v", err)
	}
}
