package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/password"
	"kradius.dev/services/provision"
	"kradius.dev/services/recordsvc"
)

// TestMigratesTheOldLayout starts kradius on a bbolt file written by the
// store of the layout before records by kind (the fixture of
// services/nas/faxback/fbstore/migrate): the data is migrated on open, the
// old file kept beside it, and the port server's lookups answer from the
// migrated data.
func TestMigratesTheOldLayout(t *testing.T) {
	dir := t.TempDir()
	fixture, err := os.ReadFile(filepath.Join(repoRoot, "services/nas/faxback/fbstore/migrate/testdata/v2.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "kradius.db")
	if err := os.WriteFile(db, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "kradius.yaml")
	if err := os.WriteFile(cfg, []byte(`target: all
edge:
  auth_listen: 127.0.0.1:0
  acct_listen: 127.0.0.1:0
  request_timeout: 10s
  clients:
    - {name: portserver, cidrs: [127.0.0.1/32], secret: testing123, profile: faxback, message_authenticator: "off"}
http:
  listen: 127.0.0.1:0
admin:
  listen: 127.0.0.1:0
store:
  embedded:
    path: kradius.db
accounting:
  journal:
    dir: accounting
    cdr_dir: cdr
    ledger: cdr-ledger.db
`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := launch(t, []string{"-config", cfg}, "edge", "admin", "ops")
	if !strings.Contains(s.logText(), "embedded store migrated to records by kind") {
		t.Errorf("no migration logged:\n%s", s.logText())
	}
	if _, err := os.Stat(db + ".v2"); err != nil {
		t.Errorf("the old file is not kept: %v", err)
	}
	cmd := func(c, ctx string) string { return ", FB-Command = " + c + ", FB-Context = " + ctx }
	for _, tc := range []struct{ name, attrs, want string }{
		{"by serial", `User-Name = "sn-0002", FB-Fax-ATA-Type = 0` + cmd("Get-Account-From-Serial-Number", "For-External-Module"), `User-Name = "bob"`},
		{"by sender e-mail", `User-Name = "CAROL@example.com"` + cmd("Get-Account-From-Sender-Email-Address", "For-External-Module"), `User-Name = "carol"`},
		{"group members", `User-Name = "bgroup"` + cmd("Get-Load-Balance-Group-Members", "Pre-Receive-Session"), `User-Name = "Alice"`}, // the member's provisioned spelling
	} {
		out := radclient(t, s.auth, "testing123", tc.attrs)
		if !strings.Contains(out, "Received Access-Accept") || !strings.Contains(out, tc.want) {
			t.Errorf("%s: want an Accept with %s:\n%s", tc.name, tc.want, out)
		}
	}
}

// TestMigratesTheOldRedisLayout: a Redis data set written by the store of
// the layout before records by kind is migrated when the accounts service
// opens it, and the edge answers from the migrated data.
func TestMigratesTheOldRedisLayout(t *testing.T) {
	c := &cluster{t: t, redis: redistest.StartPersistent(t), accountingYAML: "  log: none\n"}
	// The old layout held FaxBack's kinds only; the demo's generic users
	// are read, and left out.
	batch, err := provision.LoadFile(filepath.Join(repoRoot, "deploy/examples/demo-data.yaml"), password.Params{Memory: 64, Time: 1, Threads: 1}, fbdata.Options{}, recordsvc.Kinds(profiles.All)...)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer client.Close()
	if err := redisstore.New(client, fbdata.Options{}, "{kradius}").Apply(context.Background(), batch.Batch); err != nil {
		t.Fatal(err)
	}
	c.writeConfig()
	c.accounts = c.service("accounts", "127.0.0.1:0")
	if !strings.Contains(c.accounts.logText(), "redis data set migrated to records by kind") {
		t.Errorf("no migration logged:\n%s", c.accounts.logText())
	}
	c.dids = c.service("dids", "127.0.0.1:0")
	c.edge = c.addEdge()
	for _, tc := range []struct{ attrs, want string }{
		{`User-Name = "account", User-Password = "password", ` + login, "FB-Account-Type = Private-Queue-Transfer-Type"},
		{`User-Name = "5551231234", FB-Command = Get-Account-From-DID, FB-Context = Pre-Receive-Session`, `User-Name = "account"`},
	} {
		if out := radclient(t, c.edge.auth, "testing123", tc.attrs); !strings.Contains(out, tc.want) {
			t.Errorf("want %s:\n%s", tc.want, out)
		}
	}
}
