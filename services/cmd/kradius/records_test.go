package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	genericv1 "kradius.dev/proto/kradius/generic/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/admin"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore"
	"kradius.dev/services/nas/generic"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/recordsvc/recordsrpc"
	recembedded "kradius.dev/services/store/records/embedded"
)

// startAdmin serves the admin service on a loopback port, over an embedded
// store holding b, as `kradius -target=all` does on admin.listen.
func startAdmin(t *testing.T, b fbdata.Batch) (addr string, st fbdata.Store) {
	t.Helper()
	kinds := recordsvc.Kinds(profiles.All)
	rs, err := recembedded.Open(filepath.Join(t.TempDir(), "kradius.db"), append(slices.Clone(fbstore.Kinds), recordsvc.StoreKinds(kinds)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	st = fbstore.New(rs, fbdata.Options{})
	recs := recordsvc.New(rs, kinds, password.NewVerifier(10, time.Minute), password.Params{Memory: 64, Time: 1, Threads: 1})
	if err := st.Apply(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	recordsv1.RegisterRecordServiceServer(srv, recordsrpc.NewServer(recs))
	adminv1.RegisterAdminServiceServer(srv, admin.NewServer(st, recs, password.Params{Memory: 64, Time: 1, Threads: 1}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), st
}

func demoBatch() fbdata.Batch {
	line := uint32(2)
	return fbdata.Batch{
		Accounts: []fbdata.Account{
			{Name: "alice", UUID: "11111111-2222-4333-8444-555555555555", PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", LoginGroup: "EAST", CallAheadMode: "never"},
			{Name: "Bob", UUID: "22222222-2222-4333-8444-555555555555", Type: 4, SendDisabled: true},
			{Name: "lbj", UUID: "33333333-2222-4333-8444-555555555555", Type: 8, Members: []string{"alice", "bob"}},
		},
		DIDs: []fbdata.DID{
			{Number: "2222", Account: "alice", LineNum: &line, LineID: "front desk", ANI: "5551119999"},
			{Number: "5551231234", Account: "bob", Disabled: true},
		},
		CalledNumbers: []fbdata.CalledNumber{
			{Number: "5552223333", FaxVerified: true},
			{Number: "5552224444", VoiceError: true},
		},
	}
}

// times stands in for the times the store sets, always 20 characters.
var times = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// kradius runs one subcommand, as main does, and returns its exit code and
// outputs, times replaced.
func kradius(t *testing.T, addr string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runRecords(args[0], append([]string{"-admin", addr}, args[1:]...), &out, &errOut)
	return code, times.ReplaceAllString(out.String(), "<time---------------"), errOut.String()
}

func TestRecordTables(t *testing.T) {
	addr, _ := startAdmin(t, demoBatch())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "accounts"}, `
NAME   TYPE  UUID                                  LOGIN GROUP  PASSWORD  SEND      RECEIVE  CALL-AHEAD  MODIFIED
alice  0     11111111-2222-4333-8444-555555555555  EAST         yes       enabled   enabled  never       <time---------------
Bob    4     22222222-2222-4333-8444-555555555555  -            no        disabled  enabled  dynamic     <time---------------
lbj    8     33333333-2222-4333-8444-555555555555  -            no        enabled   enabled  dynamic     <time---------------
`},
		{[]string{"get", "account", "ALICE"}, `
NAME   TYPE  UUID                                  LOGIN GROUP  PASSWORD  SEND     RECEIVE  CALL-AHEAD  MODIFIED
alice  0     11111111-2222-4333-8444-555555555555  EAST         yes       enabled  enabled  never       <time---------------
`},
		{[]string{"list", "dids"}, `
NUMBER      ACCOUNT  ENABLED  LINE  LINE ID     ANI
2222        alice    yes      2     front desk  5551119999
5551231234  bob      no       -     -           -
`},
		{[]string{"get", "DID", "5551231234"}, `
NUMBER      ACCOUNT  ENABLED  LINE  LINE ID  ANI
5551231234  bob      no       -     -        -
`},
		{[]string{"list", "groups"}, `
NAME  TYPE  MEMBERS    UUID
lbj   8     alice,bob  33333333-2222-4333-8444-555555555555
`},
		{[]string{"get", "group", "LBJ"}, `
NAME  TYPE  MEMBERS    UUID
lbj   8     alice,bob  33333333-2222-4333-8444-555555555555
`},
		{[]string{"list", "called-numbers"}, `
NUMBER      FAX VERIFIED  VOICE ERROR  UPDATED
5552223333  yes           no           <time---------------
5552224444  no            yes          <time---------------
`},
		{[]string{"get", "calledNumber", "5552224444"}, `
NUMBER      FAX VERIFIED  VOICE ERROR  UPDATED
5552224444  no            yes          <time---------------
`},
	} {
		code, out, errOut := kradius(t, addr, tc.args...)
		if code != 0 || out != tc.want[1:] || errOut != "" {
			t.Errorf("kradius %s: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", strings.Join(tc.args, " "), code, errOut, out, tc.want[1:])
		}
	}
}

// TestProfileKindRecords: a kind with a Schema is read, listed and deleted
// by its name, shown without its secrets.
func TestProfileKindRecords(t *testing.T) {
	addr, _ := startAdmin(t, fbdata.Batch{})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var recs []*recordsv1.Record
	for _, u := range []*genericv1.User{
		{Name: "chapuser", ChapPassword: "secret-1"},
		{Name: "Dialup", ChapPassword: "secret-2", ReplyMessage: "Welcome"},
	} {
		r, err := recordsrpc.Pack(generic.KindUsers, u)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if _, err := adminv1.NewAdminServiceClient(conn).PutRecords(t.Context(), &recordsv1.PutRecordsRequest{Records: recs}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "generic.users"}, `
KEY       NAME      REPLYMESSAGE
chapuser  chapuser  -
dialup    Dialup    Welcome
`},
		{[]string{"get", "generic.users", "DIALUP"}, `
KEY     NAME    REPLYMESSAGE
dialup  Dialup  Welcome
`},
	} {
		code, out, errOut := kradius(t, addr, tc.args...)
		if code != 0 || out != tc.want[1:] || errOut != "" {
			t.Errorf("kradius %s: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", strings.Join(tc.args, " "), code, errOut, out, tc.want[1:])
		}
	}
	code, out, _ := kradius(t, addr, "get", "generic.users", "dialup", "-o", "json")
	if code != 0 || !strings.Contains(out, `"@type": "type.googleapis.com/kradius.generic.v1.User"`) || !strings.Contains(out, `"replyMessage": "Welcome"`) || strings.Contains(out, "secret") {
		t.Errorf("get -o json: exit %d:\n%s", code, out)
	}
	if code, out, errOut := kradius(t, addr, "delete", "generic.users", "Dialup"); code != 0 || out != "deleted generic.users \"Dialup\"\n" {
		t.Errorf("delete: exit %d, %q %q", code, out, errOut)
	}
	if code, _, errOut := kradius(t, addr, "get", "generic.users", "dialup"); code != 1 || errOut != "kradius get: generic.users \"dialup\" not found\n" {
		t.Errorf("get after delete: exit %d, stderr %q", code, errOut)
	}
}

func TestRecordJSON(t *testing.T) {
	addr, _ := startAdmin(t, demoBatch())
	// A list is one array, in order, with the API's JSON names.
	code, out, errOut := kradius(t, addr, "list", "calledNumbers", "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil {
		t.Fatalf("list calledNumbers -o json: exit %d, %v, stderr %q:\n%s", code, err, errOut, out)
	}
	if len(list) != 2 || list[0]["number"] != "5552223333" || list[0]["faxVerified"] != true || list[1]["voiceError"] != true || list[1]["updated"] == nil {
		t.Errorf("list calledNumbers -o json = %v", list)
	}
	// One record is one object; the flag may follow the operands.
	code, out, errOut = kradius(t, addr, "get", "account", "bob", "-o", "json")
	var acct map[string]any
	if err := json.Unmarshal([]byte(out), &acct); code != 0 || err != nil {
		t.Fatalf("get account bob -o json: exit %d, %v, stderr %q:\n%s", code, err, errOut, out)
	}
	if acct["name"] != "Bob" || acct["type"] != float64(4) || acct["sendDisabled"] != true || acct["uuid"] != "22222222-2222-4333-8444-555555555555" {
		t.Errorf("get account bob -o json = %v", acct)
	}
	if _, ok := acct["passwordHash"]; ok {
		t.Errorf("get account bob -o json shows a password hash: %v", acct)
	}
	code, out, _ = kradius(t, addr, "list", "dids", "-o", "json")
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 || list[0]["lineId"] != "front desk" {
		t.Errorf("list dids -o json: exit %d, %v:\n%s", code, err, out)
	}
}

func TestRecordListPages(t *testing.T) {
	b := demoBatch()
	b.CalledNumbers = nil
	for _, n := range []string{"5550000001", "5550000002", "5550000003", "5550000004", "5550000005"} {
		b.CalledNumbers = append(b.CalledNumbers, fbdata.CalledNumber{Number: n, FaxVerified: true})
	}
	addr, _ := startAdmin(t, b)
	defer func(n int32) { listPageSize = n }(listPageSize)
	listPageSize = 2
	code, out, _ := kradius(t, addr, "list", "called-numbers", "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 5 || list[4]["number"] != "5550000005" {
		t.Errorf("list of 5 in pages of 2: exit %d, %v:\n%s", code, err, out)
	}
	// Groups are a filter on the accounts: pages may hold none of them.
	code, out, _ = kradius(t, addr, "list", "groups")
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "lbj") {
		t.Errorf("list groups in pages of 2: exit %d:\n%s", code, out)
	}
}

func TestRecordDelete(t *testing.T) {
	addr, st := startAdmin(t, demoBatch())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"delete", "called-number", "5552224444"}, `deleted called number "5552224444"` + "\n"},
		{[]string{"delete", "did", "2222"}, `deleted DID "2222"` + "\n"},
		{[]string{"delete", "group", "lbj"}, `deleted group "lbj"` + "\n"},
		{[]string{"delete", "account", "ALICE"}, `deleted account "ALICE"` + "\n"},
	} {
		if code, out, errOut := kradius(t, addr, tc.args...); code != 0 || out != tc.want {
			t.Errorf("kradius %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errOut, tc.want)
		}
	}
	if _, err := st.GetCalledNumber(t.Context(), "5552224444"); err == nil {
		t.Error("the called number is still in the store")
	}
	if _, err := st.GetAccount(t.Context(), "alice"); err == nil {
		t.Error("alice is still in the store")
	}
	code, out, _ := kradius(t, addr, "list", "accounts")
	if code != 0 || strings.Contains(out, "alice") || strings.Contains(out, "lbj") || !strings.Contains(out, "Bob") {
		t.Errorf("accounts after the deletes: exit %d:\n%s", code, out)
	}
	// A refusal is the server's, reported as such.
	code, _, errOut := kradius(t, addr, "delete", "account", "bob")
	if code != 1 || !strings.Contains(errOut, "kradius delete: admin service at "+addr+": ") || !strings.Contains(errOut, "DID") {
		t.Errorf("delete of an account that owns a DID: exit %d, stderr %q", code, errOut)
	}
}

func TestRecordErrors(t *testing.T) {
	addr, _ := startAdmin(t, demoBatch())
	var closed string
	{
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed = ln.Addr().String()
		ln.Close()
	}
	for _, tc := range []struct {
		name   string
		addr   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown kind", addr, []string{"get", "users", "x"}, 2,
			`kradius get: unknown kind "users"; the kinds are account(s), did(s), group(s), called-number(s), firebrick.users, firebrick.routes, firebrick.registrations, carriers, generic.users` + "\n"},
		{"no kind", addr, []string{"list"}, 2, "usage: kradius list [flags] KIND   (KIND: account(s), did(s), group(s), called-number(s), firebrick.users, firebrick.routes, firebrick.registrations, carriers, generic.users)\n"},
		{"no name", addr, []string{"get", "did"}, 2, "kradius get: which DID? usage: kradius get did NAME (all of them: kradius list DIDs)\n"},
		{"a name to list", addr, []string{"list", "accounts", "alice"}, 2, "kradius list: too many arguments (alice); usage: kradius list [flags] KIND\n"},
		{"bad output format", addr, []string{"list", "accounts", "-o", "yaml"}, 2, `kradius list: -o "yaml": want table or json` + "\n"},
		{"account not found", addr, []string{"get", "account", "nobody"}, 1, `kradius get: account "nobody" not found` + "\n"},
		{"DID not found", addr, []string{"delete", "did", "999"}, 1, `kradius delete: DID "999" not found` + "\n"},
		{"called number not found", addr, []string{"get", "called-numbers", "555"}, 1, `kradius get: called number "555" not found` + "\n"},
		{"an account that is no group", addr, []string{"get", "group", "alice"}, 1,
			`kradius get: group "alice" not found: that account is not a load-balance group` + "\n"},
		{"admin service down", closed, []string{"list", "accounts"}, 1, "kradius list: admin service at " + closed + ": "},
	} {
		code, out, errOut := kradius(t, tc.addr, tc.args...)
		match := errOut == tc.stderr
		if tc.name == "admin service down" || tc.name == "no kind" {
			match = strings.HasPrefix(errOut, tc.stderr)
		}
		if code != tc.code || !match || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, stderr %q", tc.name, code, out, errOut, tc.code, tc.stderr)
		}
	}
}
