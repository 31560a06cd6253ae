package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	// stopLimit is how long a component has to exit on SIGTERM before it is
	// sent SIGKILL. They exit in well under a second; the kubelet and
	// containerd take the longest.
	stopLimit = 15 * time.Second
	// tailLines is how much of a component's log a failed test shows.
	tailLines = 40
)

// process is one component Up started.
type process struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait has returned
	err  error         // what cmd.Wait returned; read it after done
	// stopped is set by stop: an exit after it is no failure.
	stopped bool
}

// start runs argv with its output in <logs>/<name>.log. The kernel kills it
// should the test binary die without running its cleanups (a go test
// -timeout panic): Pdeathsig follows the thread that started the process,
// and the Go runtime keeps its threads.
func (c *Cluster) start(name string, argv ...string) (*process, error) {
	logPath := filepath.Join(c.logs, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	// The child has its own descriptor now.
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	c.procs = append(c.procs, p)
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends p by its PID: SIGTERM, then SIGKILL after stopLimit.
func (p *process) stop() error {
	if p.stopped {
		return nil
	}
	p.stopped = true
	if p.exited() {
		return fmt.Errorf("%s (pid %d) had exited: %v", p.name, p.cmd.Process.Pid, p.err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM to %s (pid %d): %w", p.name, p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopLimit):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s (pid %d) ignored SIGTERM for %s and was killed", p.name, p.cmd.Process.Pid, stopLimit)
}

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

// shimsOf returns the PIDs of the containerd shims serving the containerd
// at address: a shim outlives its containerd, and would outlive the test
// were its pods not removed. It matches the shim's -address argument, which
// is the test's own socket, so that no other containerd's shim is touched.
func shimsOf(address string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "containerd-shim-runc-v2" {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-address" && args[i+1] == address {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
