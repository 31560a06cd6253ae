package obs

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// startLimit bounds a start, which takes a second or two: it guards
	// against a hang and is not a budget.
	startLimit = time.Minute
	// stopLimit is how long a process has to exit on SIGTERM before it is
	// sent SIGKILL; both flush little, having only in-memory data that
	// nobody reads after the test.
	stopLimit = 10 * time.Second
	// pollPause is the pause between two polls of a wait.
	pollPause = 100 * time.Millisecond
	// tailLines is how much of a process's log a failed test shows.
	tailLines = 50
)

// client bounds each call to a server, so that a poll without a deadline
// of its own cannot hang on one.
var client = &http.Client{Timeout: 10 * time.Second}

// process is one server a test started.
type process struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait has returned
	err  error         // what cmd.Wait returned; read it after done
}

// start runs argv with its output in logPath and stops it, by PID, when the
// test ends; a failed test shows the log's tail. The cleanup is registered
// after the callers' t.TempDir, so it runs before the directory is removed.
func start(t testing.TB, name, logPath string, argv ...string) *process {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("obs: %s: %v", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(logPath)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = childEnv()
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	// The child has its own descriptor now.
	f.Close()
	if err != nil {
		t.Fatalf("obs: starting %s: %v", name, err)
	}
	p := &process{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.exited() {
			t.Errorf("obs: %s (pid %d) exited during the test: %v", name, cmd.Process.Pid, p.err)
		} else {
			p.stop(t)
		}
		if t.Failed() {
			t.Logf("obs: last %d lines of %s:\n%s", tailLines, logPath, tail(logPath, tailLines))
		}
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) stop(t testing.TB) {
	pid := p.cmd.Process.Pid
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Logf("obs: SIGTERM to %s (pid %d): %v", p.name, pid, err)
	}
	select {
	case <-p.done:
		return
	case <-time.After(stopLimit):
	}
	t.Logf("obs: %s (pid %d) still running %s after SIGTERM; sending SIGKILL", p.name, pid, stopLimit)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Logf("obs: SIGKILL to %s (pid %d): %v", p.name, pid, err)
	}
	<-p.done
}

// waitFor polls check until it returns nil, failing t with check's last
// error when limit passes first, or at once if the process exits.
func (p *process) waitFor(t testing.TB, limit time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("obs: %s: not within %s: %v", what, limit, err)
		}
		select {
		case <-p.done:
			t.Fatalf("obs: %s: %s exited: %v (last check: %v)", what, p.name, p.err, err)
		case <-time.After(pollPause):
		}
	}
}

// childEnv is the test's environment less OTEL_*: a test that points
// kradius at a collector through those must not also point Jaeger's own
// telemetry there.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return env
}

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment
// ago. There is a race: the listeners are closed before the server binds
// the ports, and another process may take one in between. The kernel seldom
// hands a port out again so soon, so that is rare; when it happens the
// server fails to bind and exits, and the test fails with that in the log's
// tail.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("obs: finding a free port: %v", err)
		}
		// Held open until all are taken, so that the n differ.
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

func hostPort(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
