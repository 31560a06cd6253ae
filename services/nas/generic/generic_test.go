package generic

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records/embedded"
)

const secret = "testing123"

// cheap hashing keeps the test's time its own, not the machine's.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

func newTestProfile(t testing.TB, r nas.Records) *profile {
	t.Helper()
	p, err := Plugin.New(nas.Deps{Records: r, Metrics: prometheus.NewRegistry(), Host: "edge-1"})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*profile)
}

// usersStore is the records service on a real embedded store, with users
// written as the import format gives them.
func usersStore(t testing.TB) nas.Records {
	t.Helper()
	kinds := recordsvc.Kinds([]nas.Plugin{Plugin})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	svc := recordsvc.New(rs, kinds, password.NewVerifier(10, time.Minute), cheap)
	var writes []recordsvc.Write
	for _, fields := range []map[string]any{
		{"name": "alice", "password": "wonderland", "replyMessage": "hello alice"},
		{"name": "bob", "chapPassword": "builder"},
	} {
		u, err := importUser(fields, cheap)
		if err != nil {
			t.Fatal(err)
		}
		writes = append(writes, recordsvc.Write{Kind: KindUsers, Value: u})
	}
	if err := svc.Put(context.Background(), writes); err != nil {
		t.Fatal(err)
	}
	return svc
}

func request(attrs ...func(*radius.Packet)) *nas.Request {
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	// A fixed authenticator makes the wrong-secret case deterministic.
	copy(p.Authenticator[:], "fixed-authentic.")
	for _, a := range attrs {
		a(p)
	}
	return &nas.Request{Packet: p, Client: "nas"}
}

func user(n string) func(*radius.Packet) {
	return func(p *radius.Packet) { rfc2865.UserName_SetString(p, n) }
}

func pap(pw string) func(*radius.Packet) {
	return func(p *radius.Packet) { rfc2865.UserPassword_SetString(p, pw) }
}

// chap answers challenge with secret as a CHAP peer would; a nil
// challenge is sent as the Request Authenticator (no CHAP-Challenge).
func chap(id byte, secret string, challenge []byte) func(*radius.Packet) {
	return func(p *radius.Packet) {
		c := challenge
		if c == nil {
			c = p.Authenticator[:]
		} else {
			rfc2865.CHAPChallenge_Set(p, challenge)
		}
		rfc2865.CHAPPassword_Set(p, append([]byte{id}, CHAPResponse(id, secret, c)...))
	}
}

func TestServeAccess(t *testing.T) {
	p := newTestProfile(t, usersStore(t))
	challenge := []byte("a challenge of 21 oct")
	for _, tc := range []struct {
		name  string
		req   *nas.Request
		code  radius.Code
		reply string
	}{
		{"PAP", request(user("alice"), pap("wonderland")), radius.CodeAccessAccept, "hello alice"},
		{"PAP, name in other case", request(user("ALICE"), pap("wonderland")), radius.CodeAccessAccept, "hello alice"},
		{"PAP against the CHAP password", request(user("bob"), pap("builder")), radius.CodeAccessAccept, ""},
		{"wrong password", request(user("alice"), pap("guess")), radius.CodeAccessReject, "login failed"},
		{"unknown name", request(user("nobody"), pap("guess")), radius.CodeAccessReject, "login failed"},
		{"no User-Name", request(pap("wonderland")), radius.CodeAccessReject, "User-Name missing"},
		{"no password", request(user("alice")), radius.CodeAccessReject, "User-Password or CHAP-Password missing"},
		{"CHAP with CHAP-Challenge", request(user("bob"), chap(9, "builder", challenge)), radius.CodeAccessAccept, ""},
		{"CHAP on the Request Authenticator", request(user("Bob"), chap(200, "builder", nil)), radius.CodeAccessAccept, ""},
		{"CHAP, wrong password", request(user("bob"), chap(9, "bilder", challenge)), radius.CodeAccessReject, "login failed"},
		{"CHAP for a user with a hash only", request(user("alice"), chap(9, "wonderland", challenge)), radius.CodeAccessReject, "login failed"},
		{"CHAP, unknown name", request(user("nobody"), chap(9, "x", challenge)), radius.CodeAccessReject, "login failed"},
	} {
		got, err := p.ServeAccess(context.Background(), tc.req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.Code != tc.code || rfc2865.ReplyMessage_GetString(got) != tc.reply {
			t.Errorf("%s: %v %q, want %v %q", tc.name, got.Code, rfc2865.ReplyMessage_GetString(got), tc.code, tc.reply)
		}
	}
	for labels, want := range map[[2]string]float64{
		{methodPAP, resultAccept}: 3, {methodPAP, resultReject}: 2,
		{methodCHAP, resultAccept}: 2, {methodCHAP, resultReject}: 3,
		{methodNone, resultReject}: 2,
	} {
		if got := testutil.ToFloat64(p.requests.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("requests%v = %v, want %v", labels, got, want)
		}
	}
}

// TestNoReplyForBadInput: a request that cannot be judged gets no reply,
// never a Reject: a PAP password under the wrong secret, a malformed
// CHAP-Password.
func TestNoReplyForBadInput(t *testing.T) {
	p := newTestProfile(t, usersStore(t))
	wrongSecret := request(user("alice"), pap("wonderland"))
	wrongSecret.Packet.Secret = []byte("not-the-secret")
	shortCHAP := request(user("bob"), func(p *radius.Packet) { rfc2865.CHAPPassword_Set(p, []byte{1, 2, 3}) })
	for name, tc := range map[string]struct {
		req    *nas.Request
		reason string
	}{
		"wrong secret": {wrongSecret, nas.ReasonBadAuthenticator},
		"short CHAP":   {shortCHAP, nas.ReasonMalformed},
	} {
		got, err := p.ServeAccess(context.Background(), tc.req)
		if err == nil || got != nil {
			t.Errorf("%s: got %v, %v; want no reply", name, got, err)
			continue
		}
		if r := nas.DropReason(err); r != tc.reason {
			t.Errorf("%s: drop reason %q, want %q", name, r, tc.reason)
		}
	}
}

// downRecords is a records service that cannot answer.
type downRecords struct{ nas.Records }

func (downRecords) Verify(context.Context, string, string, *recordsv1.Credential) (proto.Message, error) {
	return nil, errors.New("connection refused")
}

// TestBackendDownIsNoAnswer: a records service that cannot answer gets the
// NAS no reply, never a Reject.
func TestBackendDownIsNoAnswer(t *testing.T) {
	p := newTestProfile(t, downRecords{})
	got, err := p.ServeAccess(context.Background(), request(user("alice"), pap("wonderland")))
	if err == nil || got != nil {
		t.Fatalf("got %v, %v; want no reply and an error", got, err)
	}
	if nas.DropReason(err) != nas.ReasonBackend {
		t.Errorf("drop reason %q, want %q", nas.DropReason(err), nas.ReasonBackend)
	}
	if got := testutil.ToFloat64(p.requests.WithLabelValues(methodPAP, resultDropped)); got != 1 {
		t.Errorf("dropped = %v, want 1", got)
	}
}

func TestImportUser(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields map[string]any
		want   string
	}{
		{"password and hash", map[string]any{"name": "a", "password": "x", "passwordHash": "$argon2id$..."}, "give one, not both"},
		{"empty password", map[string]any{"name": "a", "password": ""}, "non-empty string"},
		{"unknown field", map[string]any{"name": "a", "pasword": "x"}, "pasword"},
	} {
		if _, err := importUser(tc.fields, cheap); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}

func TestServeAccounting(t *testing.T) {
	p := newTestProfile(t, downRecords{}) // accounting asks no backend
	pkt := radius.New(radius.CodeAccountingRequest, []byte(secret))
	rfc2866.AcctStatusType_Set(pkt, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(pkt, "s-1")
	rfc2865.UserName_SetString(pkt, "alice")
	rfc2866.AcctSessionTime_Set(pkt, 42)
	raw, err := pkt.Encode()
	if err != nil {
		t.Fatal(err)
	}
	req := &nas.AccountingRequest{Raw: raw, Client: "nas", Source: netip.MustParseAddrPort("192.0.2.1:1645"), Received: time.Unix(1700000000, 0)}
	rec, err := p.ServeAccounting(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got accountingv1.Record
	if err := proto.Unmarshal(rec.Wire, &got); err != nil {
		t.Fatal(err)
	}
	if got.GetProfile() != "generic" || got.GetSessionId() != "s-1" || got.GetUserName() != "alice" || got.GetEdge() != "edge-1" || got.GetStatusType() != accountingv1.StatusType_STATUS_TYPE_STOP {
		t.Errorf("record %v", &got)
	}

	rfc2866.AcctSessionID_Del(pkt)
	raw, _ = pkt.Encode()
	req.Raw = raw
	if _, err := p.ServeAccounting(context.Background(), req, nil); nas.DropReason(err) != nas.ReasonNoSessionID {
		t.Errorf("no Acct-Session-Id: %v, want a %s drop", err, nas.ReasonNoSessionID)
	}
	if _, err := p.ServeAccounting(context.Background(), &nas.AccountingRequest{Raw: raw[:22]}, nil); nas.DropReason(err) != nas.ReasonMalformed {
		t.Errorf("truncated: %v, want a %s drop", err, nas.ReasonMalformed)
	}
}
