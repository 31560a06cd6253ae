package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDistributedAccountCache: the edge answers logins from its account
// cache while the accounts service reports every change, so a password
// change made through the admin API reaches it within moments, not at the
// cache's TTL (a minute by default).
func TestDistributedAccountCache(t *testing.T) {
	c := startCluster(t)
	oldPassword := `User-Name = "account", User-Password = "password", ` + login
	newPassword := `User-Name = "account", User-Password = "changed", ` + login
	for range 3 {
		if out := radclient(t, c.edge.auth, "testing123", oldPassword); !strings.Contains(out, "Access-Accept") {
			t.Fatalf("login before the change: want Access-Accept in:\n%s", out)
		}
	}
	if live := c.edge.metric("kradius_edge_account_cache_live"); live != 1 {
		t.Fatalf("kradius_edge_account_cache_live = %v, want 1", live)
	}
	if hits := c.edge.metric(`kradius_edge_account_cache_lookups_total{result="hit"}`); hits < 2 {
		t.Fatalf("account cache hits = %v after three logins, want at least 2", hits)
	}

	changed := filepath.Join(t.TempDir(), "changed.yaml")
	if err := os.WriteFile(changed, []byte("accounts:\n  - name: account\n    password: changed\n    type: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binary, "import", "-admin", c.accounts.addr("accounts"), changed).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	start := time.Now()
	for {
		out := radclient(t, c.edge.auth, "testing123", oldPassword)
		if strings.Contains(out, "Access-Reject") {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("the old password still logs in 2s after the change:\n%s", out)
		}
	}
	t.Logf("old password refused %v after the import returned", time.Since(start).Round(time.Millisecond))
	if out := radclient(t, c.edge.auth, "testing123", newPassword); !strings.Contains(out, "Access-Accept") {
		t.Fatalf("login with the new password: want Access-Accept in:\n%s", out)
	}
}
