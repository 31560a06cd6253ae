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
	"kradius.dev/services/accounts"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
	"kradius.dev/services/password"
	"kradius.dev/services/provision"
)

const secret = "testing123"

// cheap hashing keeps the test's time its own, not the machine's.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

func newTestProfile(t *testing.T, a nas.Accounts) (*profile, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	p, err := Plugin.New(nas.Deps{Accounts: a, Metrics: reg, Host: "edge-1"})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*profile), reg
}

func accountsStore(t *testing.T) nas.Accounts {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	batch, err := provision.Load(strings.NewReader("accounts:\n  - {name: alice, password: wonderland}\n  - {name: group, type: 8}\n"), cheap, fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return accounts.New(st, nil)
}

func request(attrs ...func(*radius.Packet)) *nas.Request {
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
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

func TestServeAccess(t *testing.T) {
	p, _ := newTestProfile(t, accountsStore(t))
	for _, tc := range []struct {
		name  string
		req   *nas.Request
		code  radius.Code
		reply string
	}{
		{"PAP", request(user("alice"), pap("wonderland")), radius.CodeAccessAccept, ""},
		{"PAP, name in other case", request(user("ALICE"), pap("wonderland")), radius.CodeAccessAccept, ""},
		{"wrong password", request(user("alice"), pap("guess")), radius.CodeAccessReject, "login failed"},
		{"unknown name", request(user("nobody"), pap("guess")), radius.CodeAccessReject, "login failed"},
		{"account without password", request(user("group"), pap("x")), radius.CodeAccessReject, "login failed"},
		{"no User-Name", request(pap("wonderland")), radius.CodeAccessReject, "User-Name missing"},
		{"no password", request(user("alice")), radius.CodeAccessReject, "User-Password missing"},
		{"CHAP", request(user("alice"), func(p *radius.Packet) {
			rfc2865.CHAPPassword_Set(p, make([]byte, 17))
		}), radius.CodeAccessReject, "CHAP is not supported: the accounts store keeps no clear passwords; use PAP"},
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
	for result, want := range map[string]float64{resultAccept: 2, resultReject: 5, resultCHAPUnsupported: 1} {
		if got := testutil.ToFloat64(p.requests.WithLabelValues(result)); got != want {
			t.Errorf("requests{result=%q} = %v, want %v", result, got, want)
		}
	}
}

// downAccounts is an accounts service that cannot answer.
type downAccounts struct{ nas.Accounts }

func (downAccounts) Authenticate(context.Context, string, string) (fbdata.Account, error) {
	return fbdata.Account{}, errors.New("connection refused")
}

// TestBackendDownIsNoAnswer: an accounts service that cannot answer gets
// the NAS no reply, never a Reject.
func TestBackendDownIsNoAnswer(t *testing.T) {
	p, _ := newTestProfile(t, downAccounts{})
	got, err := p.ServeAccess(context.Background(), request(user("alice"), pap("wonderland")))
	if err == nil || got != nil {
		t.Fatalf("got %v, %v; want no reply and an error", got, err)
	}
	if nas.DropReason(err) != nas.ReasonBackend {
		t.Errorf("drop reason %q, want %q", nas.DropReason(err), nas.ReasonBackend)
	}
	if got := testutil.ToFloat64(p.requests.WithLabelValues(resultDropped)); got != 1 {
		t.Errorf("dropped = %v, want 1", got)
	}
}

func TestServeAccounting(t *testing.T) {
	p, _ := newTestProfile(t, downAccounts{}) // accounting asks no backend
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
