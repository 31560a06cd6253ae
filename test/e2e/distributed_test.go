package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/store/redisstore/redistest"
)

// cluster is kradius distributed: three processes on one redis-server.
type cluster struct {
	t              *testing.T
	accountingYAML string // the accounting section's keys, indented
	redis          *redistest.Server
	cfg            string
	accounts       *server
	dids           *server
	edge           *server
}

// startCluster starts accounts and dids on Redis, imports the demo data
// through the admin service, and starts an edge that uses them.
func startCluster(t *testing.T) *cluster {
	return startClusterWith(t, "  log: none\n")
}

// startClusterWith starts the cluster with the given accounting section.
func startClusterWith(t *testing.T, accountingYAML string) *cluster {
	t.Helper()
	c := &cluster{t: t, redis: redistest.StartPersistent(t), accountingYAML: accountingYAML}
	c.cfg = filepath.Join(t.TempDir(), "kradius.yaml")
	demo, err := os.ReadFile(filepath.Join(repoRoot, "deploy/examples/kradius.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The demo config, with Redis as the store and without the bootstrap:
	// the data goes in through kradius import, as in production.
	cfg := strings.Replace(string(demo), "  backend: embedded\n", fmt.Sprintf("  backend: redis\n  redis:\n    addresses: [%s]\n", c.redis.Addr()), 1)
	cfg = strings.Replace(cfg, "  bootstrap:\n    - demo-data.yaml\n", "", 1)
	cfg = strings.Replace(cfg, "accounting:\n  log: journal\n", "accounting:\n"+c.accountingYAML, 1)
	if err := os.WriteFile(c.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c.accounts = c.service("accounts", "127.0.0.1:0")
	c.dids = c.service("dids", "127.0.0.1:0")
	c.importFile(filepath.Join(repoRoot, "deploy/examples/demo-data.yaml"))
	c.edge = c.addEdge()
	return c
}

// importFile applies a provisioning file with kradius import, as an
// operator would.
func (c *cluster) importFile(path string) {
	c.t.Helper()
	if out, err := exec.Command(binary, "import", "-admin", c.accounts.addr("accounts"), path).CombinedOutput(); err != nil {
		c.t.Fatalf("import: %v\n%s", err, out)
	}
}

// addEdge starts one more edge process on the same backends.
func (c *cluster) addEdge() *server {
	return launch(c.t, []string{"-config", c.cfg, "-target=edge",
		"-backends.accounts", c.accounts.addr("accounts"), "-backends.dids", c.dids.addr("dids"),
		"-edge.auth-listen", "127.0.0.1:0", "-edge.acct-listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0"}, "edge", "acct", "ops")
}

func (c *cluster) service(target, grpcAddr string) *server {
	return launch(c.t, []string{"-config", c.cfg, "-target=" + target, "-grpc.listen", grpcAddr, "-http.listen", "127.0.0.1:0"}, target, "ops")
}

func TestDistributedWithRadclient(t *testing.T) {
	c := startCluster(t)
	for _, tc := range []struct{ attrs, want string }{
		{`User-Name = "account", User-Password = "password", ` + login, "FB-Account-Type = Private-Queue-Transfer-Type"},
		{`User-Name = "account", User-Password = "wrong", ` + login, "Received Access-Reject"},
		{`User-Name = "5551231234", FB-Command = Get-Account-From-DID, FB-Context = Pre-Receive-Session`, `User-Name = "account"`},
		{`User-Name = "00:90:8f:1d:37:f0", FB-Command = Get-Account-From-MAC-Address, FB-Context = For-External-Module`, `FB-Queue-Profile = "<QPXml`},
		{`User-Name = "LBJ", FB-Command = Get-Load-Balance-Group-Members, FB-Context = Pre-Receive-Session`, `User-Name = "alice"`},
	} {
		if out := radclient(t, c.edge.auth, "testing123", tc.attrs); !strings.Contains(out, tc.want) {
			t.Errorf("radclient through edge, accounts and dids: want %q in:\n%s", tc.want, out)
		}
	}
}

// prober sends Account-Logins through the edge at a steady pace and records
// what comes back, so that a fault test can say what the NAS saw.
type prober struct {
	addr   string
	mu     sync.Mutex
	counts map[string]int // "Access-Accept", "Access-Reject", "none"
	stop   chan struct{}
	done   chan struct{}
}

func startProber(t *testing.T, addr string) *prober {
	p := &prober{addr: addr, counts: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go p.run(t)
	t.Cleanup(p.halt)
	return p
}

func (p *prober) run(t *testing.T) {
	defer close(p.done)
	client := &radius.Client{Retry: 0}
	for {
		select {
		case <-p.stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		req := radius.New(radius.CodeAccessRequest, []byte("testing123"))
		rfc2865.UserName_SetString(req, "account")
		rfc2865.UserPassword_SetString(req, "password")
		req.Add(rfc2865.VendorSpecific_Type, radius.Attribute{0, 0, 0x77, 0xe6, 1, 6, 0, 0, 0, 1, 2, 6, 0, 0, 0, 1})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		reply, err := client.Exchange(ctx, req, p.addr)
		cancel()
		got := "none"
		if err == nil {
			got = reply.Code.String()
		}
		p.mu.Lock()
		p.counts[got]++
		p.mu.Unlock()
	}
}

func (p *prober) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// snapshot returns the counts so far and resets them.
func (p *prober) snapshot() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.counts
	p.counts = map[string]int{}
	return out
}

// waitFor polls the prober until it sees code, or fails after limit.
func (p *prober) waitFor(t *testing.T, code string, limit time.Duration) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for k, v := range p.snapshot() {
			seen[k] += v
		}
		if seen[code] > 0 {
			return seen
		}
	}
	t.Fatalf("no %s within %s; saw %v", code, limit, seen)
	return nil
}

// TestFaultRedisDown stops redis-server under load: the NAS sees silence,
// never an Access-Reject, every drop is counted, and service resumes by
// itself when Redis returns.
func TestFaultRedisDown(t *testing.T) {
	c := startCluster(t)
	p := startProber(t, c.edge.auth)
	p.waitFor(t, "Access-Accept", 5*time.Second)

	c.redis.Stop()
	time.Sleep(300 * time.Millisecond) // let requests in flight before the stop finish
	p.snapshot()
	time.Sleep(2 * time.Second)
	down := p.snapshot()
	if down["Access-Reject"] > 0 || down["Access-Accept"] > 0 || down["none"] == 0 {
		t.Fatalf("while Redis was down the NAS saw %v; want only silence", down)
	}
	if n := c.edge.metric(`kradius_edge_drops_total{listener="auth",reason="backend_error"}`); n == 0 {
		t.Fatal("no backend_error drops counted while Redis was down")
	}
	if !strings.Contains(c.edge.logText(), "reason=backend_error") {
		t.Error("no log line for the backend_error drops")
	}

	c.redis.Restart()
	seen := p.waitFor(t, "Access-Accept", 15*time.Second)
	p.halt()
	seen["Access-Reject"] += p.snapshot()["Access-Reject"]
	if seen["Access-Reject"] > 0 {
		t.Fatalf("after Redis returned the NAS saw %v", seen)
	}
}

// TestFaultAccountsKilled kills the accounts process under load and starts
// it again on the same port: silence while it is gone, never a Reject, and
// the edge reconnects by itself.
func TestFaultAccountsKilled(t *testing.T) {
	c := startCluster(t)
	p := startProber(t, c.edge.auth)
	p.waitFor(t, "Access-Accept", 5*time.Second)

	addr := c.accounts.addr("accounts")
	c.accounts.cmd.Process.Signal(syscall.SIGKILL)
	<-c.accounts.exited
	time.Sleep(300 * time.Millisecond)
	p.snapshot()
	time.Sleep(2 * time.Second)
	down := p.snapshot()
	if down["Access-Reject"] > 0 || down["Access-Accept"] > 0 || down["none"] == 0 {
		t.Fatalf("while accounts was down the NAS saw %v; want only silence", down)
	}
	if n := c.edge.metric(`kradius_edge_drops_total{listener="auth",reason="backend_error"}`); n == 0 {
		t.Fatal("no backend_error drops counted while accounts was down")
	}

	waitPortFree(t, addr)
	c.accounts = c.service("accounts", addr)
	seen := p.waitFor(t, "Access-Accept", 15*time.Second)
	p.halt()
	seen["Access-Reject"] += p.snapshot()["Access-Reject"]
	if seen["Access-Reject"] > 0 {
		t.Fatalf("after accounts returned the NAS saw %v", seen)
	}
}

// waitPortFree waits until addr can be bound again by the restarted process.
func waitPortFree(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return
		}
	}
	t.Fatalf("%s still in use", addr)
}
