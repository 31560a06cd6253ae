// Package e2e starts the real kradius binary and talks to it as a NAS would.
package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kradius.dev/services/eventually"
)

var (
	binary   string // built once by TestMain
	repoRoot = func() string { abs, _ := filepath.Abs("../.."); return abs }()
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kradius-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "kradius")
	build := exec.Command("go", "build", "-o", binary, "kradius.dev/services/cmd/kradius")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kradius:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running kradius process.
type server struct {
	t        *testing.T
	cmd      *exec.Cmd
	args     []string
	addrs    map[string]string // listener name -> address, from the log
	auth     string            // UDP address of the auth listener
	ops      string            // HTTP address of /metrics
	admin    string            // gRPC address of the admin service
	mu       sync.Mutex
	log      strings.Builder
	exited   chan struct{}
	exitCode int
}

// listeners are the log lines that announce a bound address.
var listeners = map[string]*regexp.Regexp{
	"edge":     regexp.MustCompile(`msg="edge listening".* auth=(\S+)`),
	"acct":     regexp.MustCompile(`msg="edge listening".* acct=(\S+)`),
	"radsec":   regexp.MustCompile(`msg="edge listening".* radsec=(\S+)`),
	"ops":      regexp.MustCompile(`msg="ops endpoint listening".* addr=(\S+)`),
	"admin":    regexp.MustCompile(`msg="admin endpoint listening".* addr=(\S+)`),
	"accounts": regexp.MustCompile(`msg="accounts service listening".* addr=(\S+)`),
	"dids":     regexp.MustCompile(`msg="dids service listening".* addr=(\S+)`),
	"cdr":      regexp.MustCompile(`msg="cdr consumer started".* topic=(\S+)`),
}

// start runs kradius -target=all with the demo configuration and the
// tests' budgets on free ports and a fresh store.
func start(t *testing.T, extra ...string) *server {
	t.Helper()
	return startEdited(t, func(cfg string) string { return cfg }, extra...)
}

// startEdited is start with the demo config, budgets included, changed by
// edit.
func startEdited(t *testing.T, edit func(string) string, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	demo, err := os.ReadFile(filepath.Join(repoRoot, "deploy/examples/kradius.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The bootstrap file is named relative to the demo's directory.
	cfg := edit(withBudgets(t, replaceOnce(t, string(demo), "    - demo-data.yaml\n", "    - "+filepath.Join(repoRoot, "deploy/examples/demo-data.yaml")+"\n")))
	args := append([]string{
		"-config", writeConfig(t, cfg),
		"-edge.auth-listen", "127.0.0.1:0",
		"-edge.acct-listen", "127.0.0.1:0",
		"-http.listen", "127.0.0.1:0",
		"-admin.listen", "127.0.0.1:0",
		"-store.embedded.path", filepath.Join(dir, "kradius.db"),
		"-accounting.journal.dir", filepath.Join(dir, "accounting"),
		"-accounting.journal.cdr-dir", filepath.Join(dir, "cdr"),
		"-accounting.journal.ledger", filepath.Join(dir, "cdr-ledger.db"),
	}, extra...)
	return launch(t, args, "edge", "admin", "ops")
}

// withBudgets adds to a configuration the budgets every test runs with, so
// that a busy machine makes the tests slower, never wrong: the first login's
// argon2id run once missed the edge's 250 ms for a password check under
// load. Each is far beyond what a request takes, and none is what a fault
// test waits for: a backend that is down fails a request at once. New
// hashes (the bootstrap's, the admin API's) are cheap; those of kradius
// import are its own (password.DefaultParams), well within the budgets.
// The edge cache's TTL is an hour, so that only the change feed can make a
// change reach the edge within a test's waits.
func withBudgets(t *testing.T, cfg string) string {
	t.Helper()
	cfg = replaceOnce(t, cfg, "\nedge:\n", "\nedge:\n  request_timeout: 10s\n")
	return cfg + `
backends:
  timeout: 10s
  authenticate_timeout: 10s
  cache:
    ttl: 1h
password:
  memory_kib: 64
  time: 1
  threads: 1
`
}

// replaceOnce replaces the one occurrence of old in s.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("configuration: %q occurs %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// writeConfig writes a configuration file for one test and returns its path.
func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kradius.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// launch runs kradius with args and waits until the named listeners are up.
func launch(t *testing.T, args []string, wait ...string) *server {
	t.Helper()
	s := &server{t: t, cmd: exec.Command(binary, args...), args: args, addrs: map[string]string{}, exited: make(chan struct{})}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	started := ready // the goroutine drops its copy once closed
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			for name, re := range listeners {
				if m := re.FindStringSubmatch(line); m != nil {
					s.addrs[name] = m[1]
				}
			}
			if ready != nil && s.has(wait) {
				close(ready)
				ready = nil
			}
			s.mu.Unlock()
		}
		s.cmd.Wait()
		s.exitCode = s.cmd.ProcessState.ExitCode()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
		if t.Failed() {
			t.Logf("kradius %s log:\n%s", strings.Join(args, " "), s.logText())
		}
	})
	select {
	case <-started:
	case <-s.exited:
		t.Fatalf("kradius exited during start:\n%s", s.logText())
	case <-time.After(eventually.Limit):
		t.Fatalf("kradius did not start listening:\n%s", s.logText())
	}
	s.mu.Lock()
	s.auth, s.ops, s.admin = s.addrs["edge"], s.addrs["ops"], s.addrs["admin"]
	s.mu.Unlock()
	return s
}

func (s *server) has(names []string) bool {
	for _, n := range names {
		if s.addrs[n] == "" {
			return false
		}
	}
	return true
}

// addr returns a listener's address.
func (s *server) addr(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[name]
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// metric reads one sample from /metrics, e.g.
// kradius_edge_drops_total{listener="auth",reason="malformed"}.
func (s *server) metric(name string) float64 {
	s.t.Helper()
	v, err := s.sample(name)
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

// sample reads one sample from /metrics; a labelled counter is not
// exported until it first moves.
func (s *server) sample(name string) (float64, error) {
	resp, err := http.Get("http://" + s.ops + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				return 0, fmt.Errorf("metric %s: %w", line, err)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("metric %s not exported", name)
}

// waitMetric polls until the metric reaches want: counters move just after
// the datagram is handled, not before the client gives up waiting.
func (s *server) waitMetric(name string, want float64) {
	s.t.Helper()
	s.waitMetricFunc(name, fmt.Sprint(want), func(v float64) bool { return v == want })
}

// waitMetricFunc polls until the metric satisfies ok; want says what ok
// wants, for the failure.
func (s *server) waitMetricFunc(name, want string, ok func(float64) bool) {
	s.t.Helper()
	eventually.NoError(s.t, name+" = "+want, func() error {
		got, err := s.sample(name)
		if err != nil {
			return err
		}
		if !ok(got) {
			return fmt.Errorf("%s = %v", name, got)
		}
		return nil
	})
}

// How long radclient waits for a reply, in seconds. One the test expects
// may take as long as the budgets above allow, and a little longer:
// replyWait bounds only a hang. One it expects not to come gets
// silenceWait, and a drop counter then tells a dropped request from a
// slow one.
const (
	replyWait   = "15"
	silenceWait = "1"
)

// radclient sends one request with Debian's radclient and the FaxBack
// dictionary, waits for a reply, and returns its output.
func radclient(t *testing.T, addr, secret, attrs string) string {
	t.Helper()
	return runRadclient(t, "auth", replyWait, addr, secret, attrs)
}

// runRadclient sends one request of kind (auth, acct) and waits wait
// seconds for its reply.
func runRadclient(t *testing.T, kind, wait, addr, secret, attrs string) string {
	t.Helper()
	path, err := exec.LookPath("radclient")
	if err != nil {
		t.Fatal("radclient not found: run `make test`, which installs freeradius-utils, or apt-get install freeradius-utils")
	}
	cmd := exec.Command(path, "-d", filepath.Join(repoRoot, "deploy/examples/radclient"), "-x", "-r", "1", "-t", wait, addr, kind, secret)
	cmd.Stdin = strings.NewReader(attrs)
	out, _ := cmd.CombinedOutput() // exit status 1 on Reject or no reply: the output tells
	return string(out)
}

const login = `FB-Command = Get-Account, FB-Context = Account-Login`

func TestFaxBackLoginWithRadclient(t *testing.T) {
	s := start(t)
	for _, tc := range []struct {
		name, attrs string
		want        []string
	}{
		{"demo account", `User-Name = "account", User-Password = "password", ` + login,
			[]string{"Received Access-Accept", "FB-Account-Type = Private-Queue-Transfer-Type"}},
		{"name in other case", `User-Name = "ACCount", User-Password = "password", ` + login,
			[]string{"Received Access-Accept"}},
		{"validate", `User-Name = "account", User-Password = "password", FB-Command = Get-Account, FB-Context = Account-Validate`,
			[]string{"Received Access-Accept", "FB-Account-Type = Private-Queue-Transfer-Type"}},
		{"login group", `User-Name = "alice", User-Password = "wonderland", ` + login,
			[]string{"Received Access-Accept", "FB-Account-Type = Private", `FB-Account-Login-Group = "EAST"`}},
		{"wrong password", `User-Name = "account", User-Password = "guess", ` + login,
			[]string{"Received Access-Reject"}},
		{"unknown account", `User-Name = "nobody", User-Password = "password", ` + login,
			[]string{"Received Access-Reject"}},
		{"unknown command", `User-Name = "account", User-Password = "password", FB-Command = 42, FB-Context = 1`,
			[]string{"Received Access-Reject", `Reply-Message = "unknown FB-Command/FB-Context 42/1"`}},
	} {
		out := radclient(t, s.auth, "testing123", tc.attrs)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: radclient output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}
	s.waitMetric(`kradius_faxback_requests_total{command="Get-Account",context="Account-Login",result="accept"}`, 3)
}

func TestBadInputIsDroppedAndCounted(t *testing.T) {
	s := start(t)
	drops := func(reason string) string {
		return fmt.Sprintf(`kradius_edge_drops_total{listener="auth",reason=%q}`, reason)
	}

	// A wrong secret, without and with Message-Authenticator.
	for i, attrs := range []string{
		`User-Name = "account", User-Password = "password", ` + login,
		`User-Name = "account", User-Password = "password", Message-Authenticator = 0x00, ` + login,
	} {
		if out := runRadclient(t, "auth", silenceWait, s.auth, "not-the-secret", attrs); !strings.Contains(out, "No reply") {
			t.Errorf("wrong secret: radclient got an answer:\n%s", out)
		}
		s.waitMetric(drops("bad_authenticator"), float64(i+1))
	}

	header := func(length int) []byte {
		b := make([]byte, 20)
		b[0], b[1], b[2], b[3] = 1, 7, byte(length>>8), byte(length)
		return b
	}
	for _, tc := range []struct {
		name, from, reason string
		pkt                []byte
		want               float64
	}{
		{"unknown client", "127.0.0.9", "unknown_client", header(20), 1},
		{"truncated packet", "127.0.0.1", "malformed", header(20)[:11], 1},
		{"bad length field", "127.0.0.1", "malformed", header(300), 2},
		{"garbage bytes", "127.0.0.1", "malformed", []byte("\x01\x02GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 3},
	} {
		conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(tc.from)}, mustResolve(t, s.auth))
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(tc.pkt)
		conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, err := conn.Read(make([]byte, 4096)); err == nil {
			t.Errorf("%s: got a %d-byte reply", tc.name, n)
		}
		conn.Close()
		s.waitMetric(drops(tc.reason), tc.want)
	}
	// Bad input leaves a log line saying why.
	for _, reason := range []string{"unknown_client", "malformed", "bad_authenticator"} {
		if !strings.Contains(s.logText(), "reason="+reason) {
			t.Errorf("no log line for %s", reason)
		}
	}
	// And the server still answers.
	if out := radclient(t, s.auth, "testing123", `User-Name = "account", User-Password = "password", `+login); !strings.Contains(out, "Access-Accept") {
		t.Errorf("after bad input: %s", out)
	}
}

func mustResolve(t *testing.T, addr string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSIGTERMShutsDownCleanly(t *testing.T) {
	s := start(t)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(eventually.Limit):
		t.Fatalf("kradius did not exit within %s of SIGTERM", eventually.Limit)
	}
	if s.exitCode != 0 || !strings.Contains(s.logText(), "shut down cleanly") {
		t.Fatalf("exit code %d, log:\n%s", s.exitCode, s.logText())
	}
}

func TestCommandLineErrors(t *testing.T) {
	cfg := filepath.Join(repoRoot, "deploy/examples/kradius.yaml")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("edge:\n  clients:\n    - name: x\n      cidrs: [10.0.0.0/40]\n      secret: s\n      profile: faxback\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"cdr on the journal", []string{"-config", cfg, "-target", "cdr"}, 1, `accounting.log: the journal is one process's file: -target=cdr needs kafka`},
		{"edge without backends", []string{"-config", cfg, "-target=edge"}, 1, `backends.accounts: "" is not a host:port address`},
		{"unknown target", []string{"-target", "everything"}, 1, `target: "everything" is not one of all, edge, accounts, dids, cdr`},
		{"bad key", []string{"-config", bad}, 1, `edge.clients[0].cidrs[0]: "10.0.0.0/40" is not an address or CIDR`},
		{"unknown flag", []string{"-nonsense"}, 2, "flag provided but not defined: -nonsense"},
	} {
		cmd := exec.Command(binary, tc.args...)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: exit %d, output:\n%s\nwant exit %d and %q", tc.name, code, out, tc.code, tc.want)
		}
	}
}
