package recordsrpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	genericv1 "kradius.dev/proto/kradius/generic/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/carrier"
	"kradius.dev/services/nas/firebrick"
	"kradius.dev/services/nas/generic"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/recordsvc/recordsrpc"
	"kradius.dev/services/store/records"
	"kradius.dev/services/store/records/embedded"
)

// adminServer serves the admin API's record RPCs, as admin.Server does.
type adminServer struct {
	adminv1.UnimplementedAdminServiceServer
	*recordsrpc.Admin
}

func (a adminServer) PutRecords(ctx context.Context, r *recordsv1.PutRecordsRequest) (*recordsv1.PutRecordsResponse, error) {
	return a.Admin.PutRecords(ctx, r)
}

func (a adminServer) DeleteRecord(ctx context.Context, r *recordsv1.DeleteRecordRequest) (*recordsv1.DeleteRecordResponse, error) {
	return a.Admin.DeleteRecord(ctx, r)
}

func (a adminServer) ListRecords(ctx context.Context, r *recordsv1.ListRecordsRequest) (*recordsv1.ListRecordsResponse, error) {
	return a.Admin.ListRecords(ctx, r)
}

// serve starts the RecordService and the admin record RPCs on a loopback
// port and returns a connection to them.
func serve(t *testing.T, plugins ...nas.Plugin) *grpc.ClientConn {
	t.Helper()
	kinds := recordsvc.Kinds(append([]nas.Plugin{generic.Plugin}, plugins...))
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	svc := recordsvc.New(rs, kinds, password.NewVerifier(10, time.Minute), password.Params{Memory: 64, Time: 1, Threads: 1})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	recordsv1.RegisterRecordServiceServer(s, recordsrpc.NewServer(svc))
	adminv1.RegisterAdminServiceServer(s, adminServer{Admin: recordsrpc.NewAdmin(svc)})
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func user(t *testing.T, u *genericv1.User) *recordsv1.Record {
	t.Helper()
	v, err := anypb.New(u)
	if err != nil {
		t.Fatal(err)
	}
	return &recordsv1.Record{Kind: generic.KindUsers, Value: v}
}

func TestClientOverGRPC(t *testing.T) {
	ctx := context.Background()
	conn := serve(t)
	admin := adminv1.NewAdminServiceClient(conn)
	if _, err := admin.PutRecords(ctx, &recordsv1.PutRecordsRequest{Records: []*recordsv1.Record{
		user(t, &genericv1.User{Name: "bob", ChapPassword: "pw", ReplyMessage: "welcome"}),
	}}); err != nil {
		t.Fatal(err)
	}
	c := recordsrpc.NewClient(conn, conn, recordsvc.Kinds([]nas.Plugin{generic.Plugin}))

	m, err := c.Verify(ctx, generic.KindUsers, "BOB", &recordsv1.Credential{Method: &recordsv1.Credential_Pap{Pap: &recordsv1.Pap{Password: "pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	if u := m.(*genericv1.User); u.GetReplyMessage() != "welcome" || u.GetChapPassword() != "" {
		t.Errorf("Verify: %v, want the record with its secret cleared", u)
	}
	if _, err := c.Verify(ctx, generic.KindUsers, "bob", &recordsv1.Credential{Method: &recordsv1.Credential_Pap{Pap: &recordsv1.Pap{Password: "no"}}}); !errors.Is(err, nas.ErrWrongCredential) {
		t.Errorf("wrong password: %v, want ErrWrongCredential", err)
	}
	if key, m, err := c.GetFirst(ctx, generic.KindUsers, []string{"carol", "BOB"}); err != nil || key != "bob" || m.(*genericv1.User).GetReplyMessage() != "welcome" {
		t.Errorf("GetFirst: %q %v %v, want bob", key, m, err)
	}
	if _, err := c.Get(ctx, generic.KindUsers, "carol"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	if _, err := c.Get(ctx, "generic.nope", "carol"); !errors.Is(err, records.ErrUnknownKind) {
		t.Errorf("unknown kind: %v, want ErrUnknownKind", err)
	}
}

// The edge merges what it keeps (registrations) and may not write the
// other kinds.
func TestMergeOverGRPC(t *testing.T) {
	ctx := context.Background()
	conn := serve(t, firebrick.Plugin)
	c := recordsrpc.NewClient(conn, conn, recordsvc.Kinds([]nas.Plugin{firebrick.Plugin}))
	contact := &firebrickv1.Contact{Uri: "sip:roamer@192.0.2.10", Expires: timestamppb.New(time.Now().Add(time.Hour))}
	if err := c.Merge(ctx, firebrick.KindRegistrations, "Roamer", &firebrickv1.Registration{User: "roamer", Contacts: []*firebrickv1.Contact{contact}}); err != nil {
		t.Fatal(err)
	}
	m, err := c.Get(ctx, firebrick.KindRegistrations, "roamer")
	if err != nil || len(m.(*firebrickv1.Registration).GetContacts()) != 1 {
		t.Fatalf("after a merge: %v %v", m, err)
	}
	err = c.Merge(ctx, firebrick.KindUsers, "roamer", &firebrickv1.User{Name: "roamer"})
	if !errors.Is(err, records.ErrForbidden) {
		t.Errorf("merge of a user: %v, want ErrForbidden", err)
	}
	err = c.Merge(ctx, firebrick.KindRegistrations, "roamer", &firebrickv1.Registration{User: "roamer", Contacts: []*firebrickv1.Contact{{Uri: "tel:1", Expires: contact.Expires}}})
	if !errors.Is(err, records.ErrInvalid) {
		t.Errorf("merge of a tel: contact: %v, want ErrInvalid", err)
	}
}

// A kind kept in memory: ListAll reads it in pages, and Watch tells of
// each change, the first once the watch is live.
func TestListAndWatchOverGRPC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn := serve(t, firebrick.Plugin)
	c := recordsrpc.NewClient(conn, conn, recordsvc.Kinds([]nas.Plugin{firebrick.Plugin}))
	admin := adminv1.NewAdminServiceClient(conn)
	put := func(name string) {
		t.Helper()
		rec, err := recordsrpc.Pack(carrier.KindName, &carrierv1.Carrier{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.PutRecords(ctx, &recordsv1.PutRecordsRequest{Records: []*recordsv1.Record{rec}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 1500; i += 500 {
		var recs []*recordsv1.Record
		for j := i; j < i+500; j++ {
			rec, _ := recordsrpc.Pack(carrier.KindName, &carrierv1.Carrier{Name: fmt.Sprintf("c%04d", j)})
			recs = append(recs, rec)
		}
		if _, err := admin.PutRecords(ctx, &recordsv1.PutRecordsRequest{Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.ListAll(ctx, carrier.KindName)
	if err != nil || len(all) != 1500 {
		t.Fatalf("ListAll: %d records, %v; want 1500 over two pages", len(all), err)
	}
	notices := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, carrier.KindName, func() { notices <- struct{}{} }) }()
	wait := func(what string) {
		t.Helper()
		select {
		case <-notices:
		case err := <-done:
			t.Fatalf("%s: the watch ended: %v", what, err)
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no notice", what)
		}
	}
	wait("live")
	put("newcomer")
	wait("a carrier written")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watch after cancel: %v, want nil", err)
	}
}

// A record service that cannot be reached is an unknown answer: never
// ErrNotFound or ErrWrongCredential, which would become an Access-Reject.
func TestUnreachableIsNoAnswer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := recordsrpc.NewClient(conn, conn, recordsvc.Kinds([]nas.Plugin{generic.Plugin}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Verify(ctx, generic.KindUsers, "bob", &recordsv1.Credential{})
	if err == nil || errors.Is(err, records.ErrNotFound) || errors.Is(err, nas.ErrWrongCredential) {
		t.Fatalf("unreachable service: %v, want an error that is no answer", err)
	}
}

func TestAdminRecords(t *testing.T) {
	ctx := context.Background()
	admin := adminv1.NewAdminServiceClient(serve(t))
	var recs []*recordsv1.Record
	for _, n := range []string{"d", "a", "c", "b", "e"} {
		recs = append(recs, user(t, &genericv1.User{Name: n, ChapPassword: "pw"}))
	}
	if r, err := admin.PutRecords(ctx, &recordsv1.PutRecordsRequest{Records: recs}); err != nil || r.GetWritten() != 5 {
		t.Fatalf("PutRecords: %v, %v", r, err)
	}
	var keys []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("ListRecords does not end")
		}
		r, err := admin.ListRecords(ctx, &recordsv1.ListRecordsRequest{Kind: generic.KindUsers, PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.GetRecords() {
			keys = append(keys, rec.GetKey())
		}
		if token = r.GetNextPageToken(); token == "" {
			break
		}
	}
	if got := len(keys); got != 5 || keys[0] != "a" || keys[4] != "e" {
		t.Errorf("listed %v, want a..e", keys)
	}

	for _, tc := range []struct {
		name string
		req  *recordsv1.PutRecordsRequest
		want codes.Code
	}{
		{"no value", &recordsv1.PutRecordsRequest{Records: []*recordsv1.Record{{Kind: generic.KindUsers}}}, codes.InvalidArgument},
		{"unknown kind", &recordsv1.PutRecordsRequest{Records: []*recordsv1.Record{{Kind: "x.y", Value: user(t, &genericv1.User{Name: "a", ChapPassword: "p"}).GetValue()}}}, codes.InvalidArgument},
		{"invalid user", &recordsv1.PutRecordsRequest{Records: []*recordsv1.Record{user(t, &genericv1.User{Name: "nopw"})}}, codes.InvalidArgument},
	} {
		if _, err := admin.PutRecords(ctx, tc.req); status.Code(err) != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := admin.ListRecords(ctx, &recordsv1.ListRecordsRequest{Kind: generic.KindUsers, PageSize: 5000}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("oversize page: %v", err)
	}
}
