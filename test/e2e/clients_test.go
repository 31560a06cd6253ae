package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kradius.dev/services/eventually"
)

// TestClientsFileReload: the client table in edge.clients_file is reloaded
// without a restart, and a broken file leaves the running table in place.
func TestClientsFileReload(t *testing.T) {
	dir := t.TempDir()
	clients := filepath.Join(dir, "clients.yaml")
	write := func(secret string) {
		doc := fmt.Sprintf("clients:\n  - {name: portserver, cidrs: [127.0.0.1], secret: %s, profile: faxback, message_authenticator: \"off\"}\n", secret)
		if err := os.WriteFile(clients+".tmp", []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(clients+".tmp", clients); err != nil { // atomically, as the kubelet swaps a Secret volume
			t.Fatal(err)
		}
	}
	write("first-secret")
	cfg := filepath.Join(dir, "kradius.yaml")
	os.WriteFile(cfg, []byte(withBudgets(t, fmt.Sprintf(`
edge:
  clients_file: %s
store:
  bootstrap: [%s]
`, clients, filepath.Join(repoRoot, "deploy/examples/demo-data.yaml")))), 0o600)
	s := launch(t, []string{"-config", cfg, "-edge.auth-listen", "127.0.0.1:0", "-edge.acct-listen", "127.0.0.1:0",
		"-http.listen", "127.0.0.1:0", "-admin.listen", "127.0.0.1:0",
		"-store.embedded.path", filepath.Join(dir, "kradius.db"),
		"-accounting.journal.dir", filepath.Join(dir, "acct"), "-accounting.journal.cdr-dir", filepath.Join(dir, "cdr"),
		"-accounting.journal.ledger", filepath.Join(dir, "ledger.db")}, "edge", "admin", "ops")
	creds := `User-Name = "account", User-Password = "password", ` + login
	accepted := func(secret string) bool {
		return strings.Contains(radclient(t, s.auth, secret, creds), "Access-Accept")
	}

	if !accepted("first-secret") {
		t.Fatal("the client from the file is not served")
	}
	write("second-secret")
	eventually.True(t, "the new secret picked up", func() bool { return accepted("second-secret") })
	// The old secret garbles the password: dropped as such, or (should it
	// decode to text) rejected; the counter tells a drop from a slow reply.
	badAuth := `kradius_edge_drops_total{listener="auth",reason="bad_authenticator"}`
	before := s.metric(badAuth)
	switch out := runRadclient(t, "auth", silenceWait, s.auth, "first-secret", creds); {
	case strings.Contains(out, "Access-Accept"):
		t.Fatal("the old secret still works after the reload")
	case !strings.Contains(out, "Access-Reject"):
		s.waitMetric(badAuth, before+1)
	}
	s.waitMetric(`kradius_edge_client_reloads_total{result="ok"}`, 1)

	os.WriteFile(clients, []byte("clients:\n  - {name: portserver, cidrs: [not-an-address], secret: x, profile: faxback}\n"), 0o600)
	s.waitMetric(`kradius_edge_client_reloads_total{result="error"}`, 1)
	if !accepted("second-secret") {
		t.Fatal("a broken clients file replaced the running table")
	}
}
