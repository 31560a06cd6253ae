package faxback

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/accounts"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/store"
)

// fakeAccounts knows "account"/"password" (type 4, login group "east"), and
// fails every call while down is set. A fake is enough for the decisions;
// the end-to-end test runs the real accounts service.
type fakeAccounts struct{ down bool }

func (f fakeAccounts) Authenticate(_ context.Context, name, password string) (store.Account, error) {
	switch {
	case f.down:
		return store.Account{}, errors.New("store unreachable")
	case store.Fold(name) != "account":
		return store.Account{}, fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	case password != "password":
		return store.Account{}, accounts.ErrWrongPassword
	}
	return store.Account{Name: "Account", Type: 4, LoginGroup: "east"}, nil
}

func request(cmd fbattr.FBCommand, ctx fbattr.FBContext, user, password string) *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, []byte("s3cret"))
	p.Add(rfc2865.VendorSpecific_Type, vsa([]byte{1, 0, 0, 0, byte(cmd)}, []byte{2, 0, 0, 0, byte(ctx)}))
	if user != "" {
		rfc2865.UserName_SetString(p, user)
	}
	if password != "" {
		rfc2865.UserPassword_SetString(p, password)
	}
	return p
}

func serve(t *testing.T, h *Handler, p *radius.Packet) (*radius.Packet, error) {
	t.Helper()
	return h.ServeAccess(context.Background(), &nas.Request{Packet: p, Client: "test"})
}

func TestLogin(t *testing.T) {
	h := New(fakeAccounts{}, prometheus.NewRegistry())
	login, validate := fbattr.FBCommand_Value_GetAccount, fbattr.FBContext_Value_AccountLogin
	for _, tc := range []struct {
		name      string
		p         *radius.Packet
		code      radius.Code
		group     string // FB-Account-Login-Group expected in an Accept
		replyText string // Reply-Message expected in a Reject
	}{
		{"login", request(login, validate, "account", "password"), radius.CodeAccessAccept, "east", ""},
		{"login, name in other case", request(login, validate, "ACCount", "password"), radius.CodeAccessAccept, "east", ""},
		{"validate", request(login, fbattr.FBContext_Value_AccountValidate, "account", "password"), radius.CodeAccessAccept, "", ""},
		{"wrong password", request(login, validate, "account", "nope"), radius.CodeAccessReject, "", ""},
		{"unknown account", request(login, validate, "nobody", "password"), radius.CodeAccessReject, "", ""},
		{"no User-Name", request(login, validate, "", "password"), radius.CodeAccessReject, "", "User-Name missing"},
		{"no User-Password", request(login, validate, "account", ""), radius.CodeAccessReject, "", "User-Password missing"},
		{"unknown command", request(99, 1, "account", "password"), radius.CodeAccessReject, "", "unknown FB-Command/FB-Context 99/1"},
		{"command outside the seed's table", request(8, 1, "account", "password"), radius.CodeAccessReject, "", "unknown FB-Command/FB-Context 8/1"},
	} {
		reply, err := serve(t, h, tc.p)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if reply.Code != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, reply.Code, tc.code)
			continue
		}
		msg := rfc2865.ReplyMessage_GetString(reply)
		if reply.Code == radius.CodeAccessReject {
			if msg != tc.replyText {
				t.Errorf("%s: Reply-Message %q, want %q", tc.name, msg, tc.replyText)
			}
			continue
		}
		if typ, err := fbattr.FBAccountType_Lookup(reply); err != nil || typ != 4 {
			t.Errorf("%s: FB-Account-Type = %v, %v", tc.name, typ, err)
		}
		if got := fbattr.FBAccountLoginGroup_GetString(reply); got != tc.group {
			t.Errorf("%s: FB-Account-Login-Group = %q, want %q", tc.name, got, tc.group)
		}
	}
	if got := testutil.ToFloat64(h.requests.WithLabelValues("Get-Account", "Account-Login", "accept")); got != 2 {
		t.Errorf("accept counter = %v, want 2", got)
	}
	if got := testutil.ToFloat64(h.requests.WithLabelValues("unknown", "Account-Login", "reject")); got != 1 {
		t.Errorf("unknown-command counter = %v, want 1", got)
	}
}

func TestLoginNeverRejectsOnDoubt(t *testing.T) {
	login, ctx := fbattr.FBCommand_Value_GetAccount, fbattr.FBContext_Value_AccountLogin
	wrongSecret := request(login, ctx, "account", "password")
	wrongSecret.Secret = []byte("not the secret it was encrypted with")
	for _, tc := range []struct {
		name     string
		accounts fakeAccounts
		p        *radius.Packet
		reason   string
	}{
		{"backend down", fakeAccounts{down: true}, request(login, ctx, "account", "password"), nas.ReasonBackend},
		{"wrong shared secret", fakeAccounts{}, wrongSecret, nas.ReasonBadAuthenticator},
		{"seed command not built yet", fakeAccounts{}, request(fbattr.FBCommand_Value_GetDID, fbattr.FBContext_Value_PreSendSession, "5551231234", ""), nas.ReasonUnsupported},
	} {
		reply, err := serve(t, New(tc.accounts, prometheus.NewRegistry()), tc.p)
		if reply != nil || err == nil {
			t.Errorf("%s: reply %v, err %v; want no reply", tc.name, reply, err)
			continue
		}
		if got := nas.DropReason(err); got != tc.reason {
			t.Errorf("%s: drop reason %q, want %q (%v)", tc.name, got, tc.reason, err)
		}
	}
}

// TestSeedPackets sends the seed's own requests and compares the reply with
// the seed's: an Accept of Length=32 carrying one VSA, FB-Account-Type = 4.
func TestSeedPackets(t *testing.T) {
	h := New(fakeAccounts{}, prometheus.NewRegistry())
	for _, file := range []string{"account-login.hex", "account-validate.hex"} {
		p := seedPacket(t, file, "s3cret", "password")
		reply, err := serve(t, h, p)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if strings.HasPrefix(file, "account-login") {
			fbattr.FBAccountLoginGroup_Del(reply) // the seed's account has no login group
		}
		b, err := reply.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if radius.Code(b[0]) != radius.CodeAccessAccept || len(b) != 32 {
			t.Errorf("%s: %v of %d bytes, want the seed's Access-Accept, Length=32", file, radius.Code(b[0]), len(b))
		}
		if got := fmt.Sprintf("%x", b[20:]); got != "1a0c000077e60a0600000004" {
			t.Errorf("%s: reply attributes %s, want the seed's FB-Account-Type(10)=4 VSA", file, got)
		}
	}
}
