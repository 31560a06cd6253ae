// Package kafkatest runs throwaway Kafka-protocol brokers for tests: the
// kafkabroker command (kfake) from the test module, built once per test
// binary, with a data directory so that Restart keeps every acknowledged
// record and committed offset. It needs the go command and the workspace
// (go.work), nothing else.
package kafkatest

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
	// readyTimeout bounds the wait for a started broker's listening line.
	readyTimeout = 15 * time.Second
	// stopTimeout bounds the wait after SIGTERM before the broker is killed.
	stopTimeout = 10 * time.Second
	readyPrefix = "kafkabroker listening addr="
)

// Options configure a broker. The zero value is a broker with no topics,
// no SASL and no auto-creation.
type Options struct {
	// Partitions of seeded and auto-created topics; 0 is the broker's
	// default.
	Partitions int
	// AutoCreate creates a topic when a client's metadata request asks.
	AutoCreate bool
	// Topics are created at the first start.
	Topics []string
	// SASLUser, if set, makes the broker require SASL and accept this
	// user with SASLPassword over SASLMechanism (PLAIN, SCRAM-SHA-256 or
	// SCRAM-SHA-512; empty is SCRAM-SHA-256).
	SASLUser, SASLPassword, SASLMechanism string
}

// Broker is one kafkabroker process listening on 127.0.0.1.
type Broker struct {
	t    testing.TB
	bin  string
	args []string // beyond -listen
	port int      // 0 until the first start has picked one

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	output *tail
}

// Start builds kafkabroker if this test binary has not yet, runs it on a
// free port with a data directory in t.TempDir, and stops it when the test
// ends.
func Start(t testing.TB, o Options) *Broker {
	t.Helper()
	bin, err := build()
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	b := &Broker{t: t, bin: bin, args: o.args(filepath.Join(t.TempDir(), "data"))}
	// Registered after TempDir, so it runs before the directory is removed.
	t.Cleanup(b.Stop)
	if err := b.launch(); err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return b
}

func (o Options) args(dataDir string) []string {
	args := []string{"-data", dataDir}
	if o.Partitions > 0 {
		args = append(args, "-partitions", strconv.Itoa(o.Partitions))
	}
	if o.AutoCreate {
		args = append(args, "-auto-create")
	}
	if len(o.Topics) > 0 {
		args = append(args, "-topics", strings.Join(o.Topics, ","))
	}
	if o.SASLUser != "" {
		args = append(args, "-sasl-user", o.SASLUser, "-sasl-password", o.SASLPassword)
		if o.SASLMechanism != "" {
			args = append(args, "-sasl-mechanism", o.SASLMechanism)
		}
	}
	return args
}

// Addr is the broker's host:port.
func (b *Broker) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// Stop sends SIGTERM and waits for the broker to save its state and exit,
// killing it if it has not within 10 s. Stopping a stopped broker does
// nothing.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
		if st := b.cmd.ProcessState; !st.Success() {
			b.t.Errorf("kafkatest: kafkabroker on %s exited with %v; output:\n%s", b.Addr(), st, b.output)
		}
	case <-time.After(stopTimeout):
		b.t.Errorf("kafkatest: kafkabroker on %s ignored SIGTERM for %s; killing it", b.Addr(), stopTimeout)
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	b.cmd = nil
}

// Kill sends SIGKILL, as a crash would, and waits for the broker to exit:
// what it had not written to its data directory is lost, as a Kafka
// broker's unflushed page cache would be. Killing a stopped broker does
// nothing.
func (b *Broker) Kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	<-b.exited
	b.cmd = nil
}

// Start starts a stopped or killed broker again on the same port and data
// directory.
func (b *Broker) Start() {
	b.t.Helper()
	if err := b.launch(); err != nil {
		b.t.Fatalf("kafkatest: start: %v", err)
	}
}

// Restart stops the broker if it runs and starts it again on the same port
// and data directory, with every record and offset it acknowledged.
func (b *Broker) Restart() {
	b.t.Helper()
	b.Stop()
	if err := b.launch(); err != nil {
		b.t.Fatalf("kafkatest: restart: %v", err)
	}
}

// launch starts kafkabroker and waits for its listening line.
func (b *Broker) launch() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port))
	cmd := exec.Command(b.bin, append([]string{"-listen", listen}, b.args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("kafkabroker stderr: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start kafkabroker: %w", err)
	}
	output := &tail{}
	addrCh := make(chan string, 1)
	exited := make(chan struct{})
	go func() {
		// Read to the end, so that the broker never blocks on a full pipe
		// and Wait sees the whole output.
		scanReady(stderr, output, addrCh)
		_ = cmd.Wait()
		close(exited)
	}()
	select {
	case addr := <-addrCh:
		port, err := parsePort(addr)
		if err == nil && b.port != 0 && port != b.port {
			err = fmt.Errorf("not port %d", b.port)
		}
		if err != nil {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("kafkabroker -listen %s printed address %q: %w", listen, addr, err)
		}
		// Written at the first start only, before the Broker is shared,
		// so that Addr needs no lock.
		if b.port == 0 {
			b.port = port
		}
	case <-exited:
		return fmt.Errorf("kafkabroker -listen %s exited before listening (%v); output:\n%s", listen, cmd.ProcessState, output)
	case <-time.After(readyTimeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("kafkabroker -listen %s did not listen within %s; output:\n%s", listen, readyTimeout, output)
	}
	b.cmd, b.exited, b.output = cmd, exited, output
	return nil
}

func parsePort(addr string) (int, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(port)
}

// scanReady copies r into out, sending the address of the listening line.
func scanReady(r io.Reader, out *tail, addrCh chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		out.add(line)
		if addr, ok := strings.CutPrefix(line, readyPrefix); ok {
			select {
			case addrCh <- addr:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// tail keeps the last lines of the broker's output for failure messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	const max = 50
	if len(t.lines) == max {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, line)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "(none)"
	}
	return strings.Join(t.lines, "\n")
}

var built struct {
	once sync.Once
	bin  string
	err  error
}

// build compiles kafkabroker once per test binary. The binary goes to a
// fixed path, through a rename so that test binaries building at the same
// time never run a half-written file, and so that nothing accumulates.
func build() (string, error) {
	built.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			built.err = errors.New("the go command is not on PATH; it builds kradius.dev/test/kafkabroker")
			return
		}
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("kradius-kafkatest-%d", os.Getuid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			built.err = fmt.Errorf("build kafkabroker: %w", err)
			return
		}
		bin := filepath.Join(dir, "kafkabroker")
		tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
		out, err := exec.Command(goBin, "build", "-o", tmp, "kradius.dev/test/kafkabroker").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build kradius.dev/test/kafkabroker (it needs the go.work workspace): %v\n%s", err, out)
			return
		}
		if err := os.Rename(tmp, bin); err != nil {
			built.err = fmt.Errorf("build kafkabroker: %w", err)
			return
		}
		built.bin = bin
	})
	return built.bin, built.err
}
