package faxback

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/accounts"
	"kradius.dev/services/dids"
	"kradius.dev/services/edge"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
	"kradius.dev/services/password"
	"kradius.dev/services/provision"
)

const secret = "s3cret"

// cheap keeps argon2 fast in tests; production parameters are tested in package password.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// fixture is a store loaded from a provisioning file, as kradius import loads it.
func fixture(t testing.TB, yamlText string, o fbdata.Options) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	batch, err := provision.Load(strings.NewReader(yamlText), cheap, o)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	if err := st.Apply(context.Background(), batch.Batch); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return st
}

// startEdge serves h on a loopback UDP port through the real edge.
func startEdge(t *testing.T, h nas.Handler) *net.UDPAddr {
	t.Helper()
	client := &edge.Client{
		Name: "portserver", Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Secret: []byte(secret), Policy: edge.PolicyOff, Handler: h,
	}
	table, err := edge.NewClientTable([]*edge.Client{client})
	if err != nil {
		t.Fatal(err)
	}
	// A decision budget no busy machine reaches: the replies are what is
	// tested, not their speed.
	srv := edge.New(edge.Config{AuthAddr: "127.0.0.1:0", AcctAddr: "127.0.0.1:0", RequestTimeout: replyWait}, table, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv.AuthAddr().(*net.UDPAddr)
}

// replyWait bounds a hang, not the time a reply may take.
const replyWait = time.Minute

// exchange sends raw and returns the reply.
func exchange(t *testing.T, addr *net.UDPAddr, raw []byte) []byte {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write(raw)
	conn.SetReadDeadline(time.Now().Add(replyWait))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	return buf[:n]
}

// withPassword re-encrypts the User-Password of a seed request in place.
func withPassword(t *testing.T, raw []byte, pw string) []byte {
	t.Helper()
	raw = bytes.Clone(raw)
	for off := 20; off < len(raw); off += int(raw[off+1]) {
		if raw[off] == byte(rfc2865.UserPassword_Type) {
			enc, err := radius.NewUserPassword([]byte(pw), []byte(secret), raw[4:20])
			if err != nil || len(enc) != int(raw[off+1])-2 {
				t.Fatalf("re-encrypting: %v", err)
			}
			copy(raw[off+2:], enc)
		}
	}
	return raw
}

const (
	seedAccount = `
accounts:
  - name: account
    password: password
    type: 4
`
	qp = `<QPXml Rf="0" Dn="1" Ndn="1" Ea="" Ef="" Ln="en-US" Tz="Pacific*" />`
)

// TestSeedExamples sends every example request of the seed through the edge
// and compares the reply with the seed's. Each example gets the data its
// reply implies (the manual's examples are not one consistent data set: DID
// 2222 belongs to testata in one and to TEST in another).
func TestSeedExamples(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		faxNumbers []string // verified in the called-numbers database
	}{
		{name: "account-login", data: seedAccount},
		{name: "account-validate", data: seedAccount},
		{name: "account-pre-send", data: seedAccount},
		{name: "account-pre-receive", data: seedAccount},
		{name: "account-external", data: seedAccount},
		{name: "from-did-pre-receive", data: seedAccount + "dids:\n  - {number: \"5551231234\", account: account}\n"},
		{name: "from-did-external", data: seedAccount + "    rcvEmail: email@domain.com\ndids:\n  - {number: \"5551231234\", account: account}\n"},
		{name: "from-mac", data: seedAccount + "    macAddress: 00908F1D37F0\n    queueProfile: '" + qp + "'\n"},
		{name: "from-serial", data: seedAccount + "    serialNumber: \"27482734\"\n    queueProfile: '" + qp + "'\n"},
		{name: "call-ahead", data: seedAccount, faxNumbers: []string{"5551231234"}},
		{name: "from-sender-email", data: seedAccount + "    sndEmail: emailaddress@domain.com\n"},
		{name: "did-pre-send", data: "accounts:\n  - {name: testata, type: 4}\ndids:\n  - {number: \"2222\", account: testata, ani: \"5551119999\"}\n"},
		{name: "did-external", data: "accounts:\n  - {name: testata, type: 4}\ndids:\n  - {number: \"2222\", account: testata, ani: \"5551119999\"}\n"},
		{name: "dids-for-account", data: "accounts:\n  - {name: TEST}\ndids:\n  - {number: \"1111\", account: TEST}\n  - {number: \"2222\", account: TEST}\n"},
		{name: "group-members", data: "accounts:\n  - {name: Account}\n  - {name: lbj, type: 8, members: [Account]}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := fixture(t, tc.data, fbdata.Options{})
			for _, n := range tc.faxNumbers {
				if err := st.RecordCalledNumber(context.Background(), n, fbdata.CallSuccess); err != nil {
					t.Fatal(err)
				}
			}
			profile := NewProfile(accounts.New(st, nil), dids.New(st), prometheus.NewRegistry())
			addr := startEdge(t, profile.ForClient(Options{}))

			g := readGolden(t, tc.name)
			req := withPassword(t, g.request, "password")
			reply := exchange(t, addr, req)
			if !radius.IsAuthenticResponse(reply, req, []byte(secret)) {
				t.Fatal("Response Authenticator does not verify")
			}
			if got := radius.Code(reply[0]); got != g.replyCode {
				t.Fatalf("reply %v, the seed's %v (Reply-Message %q)", got, g.replyCode, replyMessage(reply))
			}
			if !bytes.Equal(reply[20:], g.replyAttrs) {
				t.Fatalf("reply attributes\n  got  %s\n  seed %s", hex.EncodeToString(reply[20:]), hex.EncodeToString(g.replyAttrs))
			}
		})
	}
}

func replyMessage(raw []byte) string {
	p, err := radius.Parse(raw, []byte(secret))
	if err != nil {
		return ""
	}
	return rfc2865.ReplyMessage_GetString(p)
}
