// Package redistest runs throwaway redis-server processes for tests: a single
// node (Start, StartPersistent) or a small Redis Cluster (StartCluster). It
// is meant for any module's tests, the end-to-end suite included, so it
// depends on nothing but the redis-server and redis-cli binaries.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// readyTimeout bounds the wait for a started server to answer PING.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds the wait after SIGTERM before the server is killed.
	stopTimeout = 10 * time.Second
)

const notInstalled = "redis-server not found: run `make test` (installs redis-server) or apt-get install redis-server"

// Server is one redis-server process listening on 127.0.0.1.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string // beyond the port, bind and directory

	mu  sync.Mutex
	cmd *exec.Cmd
	// exited is closed when cmd has been waited for.
	exited chan struct{}
}

// Start runs an empty redis-server that keeps nothing on disk, on a free
// port, and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, []string{"--save", "", "--appendonly", "no"})
}

// StartPersistent is Start with an append-only file synced on every write,
// so that Restart (and a crash) keeps every acknowledged write: for fault
// tests that take Redis away and bring it back.
func StartPersistent(t testing.TB) *Server {
	t.Helper()
	return start(t, []string{"--save", "", "--appendonly", "yes", "--appendfsync", "always"})
}

func start(t testing.TB, args []string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(notInstalled)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), args: args}
	// Registered after TempDir, so it runs before the directory is removed.
	t.Cleanup(s.Stop)
	// The port is free when chosen but may be taken before redis-server
	// binds it; a few fresh ports make that race harmless.
	var errs []error
	for range 3 {
		if s.port, err = freePort(); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		if err = s.launch(); err == nil {
			return s
		}
		errs = append(errs, err)
	}
	t.Fatalf("redistest: %v", errors.Join(errs...))
	return nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop sends SIGTERM and waits for the server to exit, killing it if it has
// not within 10 s. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("redistest: stop redis-server on %s: %v", s.Addr(), err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.t.Errorf("redistest: redis-server on %s ignored SIGTERM for %s; killing it", s.Addr(), stopTimeout)
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart stops the server if it runs and starts it again on the same port
// and directory. A server from Start comes back empty; one from
// StartPersistent comes back with every write it acknowledged.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.launch(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// launch starts redis-server and waits until it answers PING.
func (s *Server) launch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	logPath := filepath.Join(s.dir, "redis.log")
	args := append([]string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--logfile", logPath,
	}, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server on port %d: %w", s.port, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	if err := waitReady(s.Addr(), exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("redis-server on %s (exit: %v): %w; log:\n%s", s.Addr(), waitErr, err, tail(logPath))
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// waitReady polls addr with PING until it answers PONG, the process exits or
// readyTimeout passes.
func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited before answering PING")
		default:
		}
		if last = ping(addr); last == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer to PING within %s: %w", readyTimeout, last)
}

// ping speaks just enough RESP to tell a ready server from one still loading
// (which answers -LOADING) or not yet listening.
func ping(addr string) error {
	reply, err := command(addr, "PING")
	if err != nil {
		return err
	}
	if reply != "+PONG" {
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

// command sends one inline command to addr and returns its reply: the status
// or error line, or the body of a bulk string. It is enough for PING and
// CLUSTER INFO, and keeps this package free of a client library, so that a
// module importing it for its tests need not require one.
func command(addr, cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return "", err
	}
	if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "$") {
		return line, nil
	}
	// A bulk string: read its body, which for CLUSTER INFO is many lines.
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return line, nil
	}
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	return string(body[:n]), nil
}

// freePort asks the kernel for a port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail is the end of a log file, for failure messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
