package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/eventually"
)

// TestDistributedEdgeCache: the edge answers logins and inbound routes
// from its cache while the accounts service reports every change, so a
// password changed or a DID moved through the admin API reaches it within
// moments, not at the cache's TTL (a minute by default, an hour here).
func TestDistributedEdgeCache(t *testing.T) {
	c := startCluster(t)
	oldPassword := `User-Name = "account", User-Password = "password", ` + login
	newPassword := `User-Name = "account", User-Password = "changed", ` + login
	// The edge listens before its change watch is live, and keeps nothing
	// until it is.
	c.edge.waitMetric("kradius_edge_cache_live", 1)
	for range 3 {
		if out := radclient(t, c.edge.auth, "testing123", oldPassword); !strings.Contains(out, "Access-Accept") {
			t.Fatalf("login before the change: want Access-Accept in:\n%s", out)
		}
	}
	if live := c.edge.metric("kradius_edge_cache_live"); live != 1 {
		t.Fatalf("kradius_edge_cache_live = %v, want 1", live)
	}
	if hits := c.edge.metric(`kradius_edge_cache_lookups_total{kind="account",result="hit"}`); hits < 2 {
		t.Fatalf("account hits = %v after three logins, want at least 2", hits)
	}
	c.importYAML("accounts:\n  - name: account\n    password: changed\n    type: 4\n")
	waitFor(t, "the old password refused", func() string { return radclient(t, c.edge.auth, "testing123", oldPassword) }, "Access-Reject")
	if out := radclient(t, c.edge.auth, "testing123", newPassword); !strings.Contains(out, "Access-Accept") {
		t.Fatalf("login with the new password: want Access-Accept in:\n%s", out)
	}

	// Inbound routing: DID 5551231234 routes to "account"; moved to alice.
	fromDID := `User-Name = "5551231234", FB-Command = Get-Account-From-DID, FB-Context = Pre-Receive-Session`
	for range 3 {
		if out := radclient(t, c.edge.auth, "testing123", fromDID); !strings.Contains(out, `User-Name = "account"`) {
			t.Fatalf("route before the move: want account in:\n%s", out)
		}
	}
	if hits := c.edge.metric(`kradius_edge_cache_lookups_total{kind="did",result="hit"}`); hits < 2 {
		t.Fatalf("DID hits = %v after three routes, want at least 2", hits)
	}
	c.importYAML("dids:\n  - number: \"5551231234\"\n    account: alice\n")
	waitFor(t, "the DID routed to its new account", func() string { return radclient(t, c.edge.auth, "testing123", fromDID) }, `User-Name = "alice"`)
}

// importYAML applies provisioning YAML through the admin API.
func (c *cluster) importYAML(doc string) {
	c.t.Helper()
	f := filepath.Join(c.t.TempDir(), "import.yaml")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.importFile(f)
}

// waitFor sends with send until its answer holds want. The cache's TTL in
// the tests is an hour (withBudgets): only the change feed can make it
// within the wait.
func waitFor(t *testing.T, what string, send func() string, want string) {
	t.Helper()
	start := time.Now()
	eventually.NoError(t, what, func() error {
		if out := send(); !strings.Contains(out, want) {
			return fmt.Errorf("last answer:\n%s", out)
		}
		return nil
	})
	t.Logf("%s %v after the import returned", what, time.Since(start).Round(time.Millisecond))
}
