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

	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
)

// cluster is kradius distributed: three processes on one redis-server.
type cluster struct {
	t              *testing.T
	accountingYAML string   // the accounting section's keys, indented
	clientsYAML    string   // more entries of edge.clients, indented
	edgeYAML       string   // more keys of the edge section, indented
	args           []string // more flags for every process
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
	return startClusterOf(t, &cluster{accountingYAML: accountingYAML})
}

// startClusterOf starts the cluster c describes.
func startClusterOf(t *testing.T, c *cluster) *cluster {
	t.Helper()
	c.t, c.redis = t, redistest.StartPersistent(t)
	c.writeConfig()
	c.accounts = c.service("accounts", "127.0.0.1:0")
	c.dids = c.service("dids", "127.0.0.1:0")
	c.importFile(filepath.Join(repoRoot, "deploy/examples/demo-data.yaml"))
	c.edge = c.addEdge()
	return c
}

// writeConfig writes the configuration every process of the cluster reads.
func (c *cluster) writeConfig() {
	t := c.t
	t.Helper()
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
	cfg = replaceOnce(t, cfg, "      profile: firebrick\n", "      profile: firebrick\n"+c.clientsYAML)
	cfg = replaceOnce(t, cfg, "\nedge:\n", "\nedge:\n"+c.edgeYAML)
	if err := os.WriteFile(c.cfg, []byte(withBudgets(t, cfg)), 0o600); err != nil {
		t.Fatal(err)
	}
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
	return launch(c.t, append([]string{"-config", c.cfg, "-target=edge",
		"-backends.accounts", c.accounts.addr("accounts"), "-backends.dids", c.dids.addr("dids"),
		"-edge.auth-listen", "127.0.0.1:0", "-edge.acct-listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0"}, c.args...), "edge", "acct", "ops")
}

func (c *cluster) service(target, grpcAddr string) *server {
	return launch(c.t, append([]string{"-config", c.cfg, "-target=" + target, "-grpc.listen", grpcAddr, "-http.listen", "127.0.0.1:0"}, c.args...), target, "ops")
}

func TestDistributedWithRadclient(t *testing.T) {
	c := startCluster(t)
	for _, tc := range []struct{ attrs, want string }{
		{`User-Name = "account", User-Password = "password", ` + login, "FB-Account-Type = Private-Queue-Transfer-Type"},
		{`User-Name = "account", User-Password = "wrong", ` + login, "Received Access-Reject"},
		{`User-Name = "5551231234", FB-Command = Get-Account-From-DID, FB-Context = Pre-Receive-Session`, `User-Name = "account"`},
		{`User-Name = "00:90:8f:1d:37:f0", FB-Command = Get-Account-From-MAC-Address, FB-Context = For-External-Module`, `FB-Queue-Profile = "<QPXml`},
		{`User-Name = "LBJ", FB-Command = Get-Load-Balance-Group-Members, FB-Context = Pre-Receive-Session`, `User-Name = "alice"`},
		// The generic profile's users, imported by kind and verified by the
		// accounts target's RecordService.
		{`User-Name = "dialup", User-Password = "dial-in"` + fromGenericNAS, `Reply-Message = "Welcome, dialup"`},
		{`User-Name = "chapuser", CHAP-Password = "chap-secret"` + fromGenericNAS, "Received Access-Accept"},
		{`User-Name = "chapuser", CHAP-Password = "wrong"` + fromGenericNAS, "Received Access-Reject"},
		// The FireBrick's: REGISTER verified by the accounts target, then an
		// INVITE routed by the dids target.
		{sipDigest("office1", "REGISTER", "s3cret") + fromFireBrick, `Called-Station-Id = "tel:201"`},
		{sipDigest("office1", "INVITE", "s3cret") + `, Called-Station-Id = "201"` + fromFireBrick, "Attr-121 = " + fmt.Sprintf("0x%x", "tel:201")},
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
	rounds int            // exchanges finished, never reset
	stop   chan struct{}
	done   chan struct{}
}

// proberWait is how long the prober waits for each reply. A reply that
// comes later is lost, as it is to a NAS, and counts as none; it takes no
// longer than this on any machine the tests run on, and a fault test waits
// for an Accept as long as it needs to.
const proberWait = time.Second

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
		case <-time.After(20 * time.Millisecond): // the NAS's pace
		}
		req := radius.New(radius.CodeAccessRequest, []byte("testing123"))
		rfc2865.UserName_SetString(req, "account")
		rfc2865.UserPassword_SetString(req, "password")
		req.Add(rfc2865.VendorSpecific_Type, radius.Attribute{0, 0, 0x77, 0xe6, 1, 6, 0, 0, 0, 1, 2, 6, 0, 0, 0, 1})
		ctx, cancel := context.WithTimeout(context.Background(), proberWait)
		reply, err := client.Exchange(ctx, req, p.addr)
		cancel()
		got := "none"
		if err == nil {
			got = reply.Code.String()
		}
		p.mu.Lock()
		p.counts[got]++
		p.rounds++
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

// waitFor polls the prober until it sees code.
func (p *prober) waitFor(t *testing.T, code string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	eventually.NoError(t, "the NAS sees "+code, func() error {
		for k, v := range p.snapshot() {
			seen[k] += v
		}
		if seen[code] == 0 {
			return fmt.Errorf("it saw %v", seen)
		}
		return nil
	})
	return seen
}

// settle waits until the exchange in flight now is over, and forgets what
// the prober saw: what it sees next was sent after this call.
func (p *prober) settle(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	n := p.rounds
	p.mu.Unlock()
	eventually.True(t, "the prober's exchange in flight over", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.rounds > n
	})
	p.snapshot()
}

// whileDown is what the NAS sees once the edge has given up its cache and
// dropped a few requests for the backend: what the NAS sees while the
// backend is down, and only then.
func whileDown(t *testing.T, c *cluster, p *prober) map[string]int {
	t.Helper()
	// The cache answers no more: any answer from here on is the services'.
	c.edge.waitMetric("kradius_edge_cache_live", 0)
	p.settle(t)
	dropped := c.edge.metric(backendErrors)
	c.edge.waitMetricFunc(backendErrors, fmt.Sprintf(">= %v", dropped+3), func(v float64) bool { return v >= dropped+3 })
	down := map[string]int{}
	eventually.True(t, "the NAS sees no answer three times", func() bool {
		for k, v := range p.snapshot() {
			down[k] += v
		}
		return down["none"] >= 3
	})
	return down
}

// backendErrors is the edge's count of requests dropped for the backend.
const backendErrors = `kradius_edge_drops_total{listener="auth",reason="backend_error"}`

// TestFaultRedisDown stops redis-server under load: the NAS sees silence,
// never an Access-Reject, every drop is counted, and service resumes by
// itself when Redis returns.
func TestFaultRedisDown(t *testing.T) {
	c := startCluster(t)
	p := startProber(t, c.edge.auth)
	p.waitFor(t, "Access-Accept")

	c.redis.Stop()
	if down := whileDown(t, c, p); down["Access-Reject"] > 0 || down["Access-Accept"] > 0 {
		t.Fatalf("while Redis was down the NAS saw %v; want only silence", down)
	}
	if !strings.Contains(c.edge.logText(), "reason=backend_error") {
		t.Error("no log line for the backend_error drops")
	}

	c.redis.Restart()
	seen := p.waitFor(t, "Access-Accept")
	p.halt()
	seen["Access-Reject"] += p.snapshot()["Access-Reject"]
	if seen["Access-Reject"] > 0 {
		t.Fatalf("after Redis returned the NAS saw %v", seen)
	}
	// Not one, however late: the prober's credentials are right.
	if n := c.edge.metric(rejects); n != 0 {
		t.Fatalf("the edge sent %v Access-Rejects", n)
	}
}

// rejects is the edge's count of Access-Rejects sent.
const rejects = `kradius_edge_replies_total{code="Access-Reject",listener="auth"}`

// TestFaultAccountsKilled kills the accounts process under load and starts
// it again on the same port: silence while it is gone, never a Reject, and
// the edge reconnects by itself.
func TestFaultAccountsKilled(t *testing.T) {
	c := startCluster(t)
	p := startProber(t, c.edge.auth)
	p.waitFor(t, "Access-Accept")

	addr := c.accounts.addr("accounts")
	c.accounts.cmd.Process.Signal(syscall.SIGKILL)
	<-c.accounts.exited
	if down := whileDown(t, c, p); down["Access-Reject"] > 0 || down["Access-Accept"] > 0 {
		t.Fatalf("while accounts was down the NAS saw %v; want only silence", down)
	}

	waitPortFree(t, addr)
	c.accounts = c.service("accounts", addr)
	seen := p.waitFor(t, "Access-Accept")
	p.halt()
	seen["Access-Reject"] += p.snapshot()["Access-Reject"]
	if seen["Access-Reject"] > 0 {
		t.Fatalf("after accounts returned the NAS saw %v", seen)
	}
	if n := c.edge.metric(rejects); n != 0 {
		t.Fatalf("the edge sent %v Access-Rejects", n)
	}
}

// waitPortFree waits until addr can be bound again by the restarted process.
func waitPortFree(t *testing.T, addr string) {
	t.Helper()
	eventually.NoError(t, addr+" free", func() error {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
		}
		return err
	})
}
