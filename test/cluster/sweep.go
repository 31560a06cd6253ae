package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// state is what a cluster records in <dir>/state.json as Up goes, so that
// the next Up can sweep up after a test binary that died without running
// its cleanups (a go test -timeout panic, a SIGKILL). The kernel kills the
// components then (Pdeathsig), but not the containers, their shims, the
// links, the iptables rules or the mounts.
type state struct {
	Owner      int    // the test binary's PID
	OwnerStart string // its start time, lest the PID be reused
	Dir        string
	Sock       string
	Uplinks    []string
	Host       *hostState
	Procs      []stateProc
}

type stateProc struct {
	PID int
	Exe string
}

const stateFile = "state.json"

// saveState writes the cluster's state; Up calls it whenever it has
// started something more.
func (c *Cluster) saveState() error {
	st := state{Owner: os.Getpid(), OwnerStart: startTime(os.Getpid()), Dir: c.dir, Sock: c.sock,
		Uplinks: c.uplinks, Host: c.host}
	for _, p := range c.procs {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.cmd.Process.Pid))
		st.Procs = append(st.Procs, stateProc{p.cmd.Process.Pid, exe})
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.dir, stateFile))
}

// startTime is field 22 of /proc/<pid>/stat, the process's start in clock
// ticks since boot; "" when there is no such process.
func startTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name, field 2, may hold spaces; it ends at the last ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// sweepDead sweeps up every cluster whose test binary is gone, and fails if
// one's is still running: two clusters cannot share the node's address.
func sweepDead(logf func(string, ...any)) error {
	files, _ := filepath.Glob(filepath.Join(os.TempDir(), "kradius-cluster-*", stateFile))
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var st state
		if err := json.Unmarshal(b, &st); err != nil || st.Host == nil || st.Dir != filepath.Dir(f) {
			errs = append(errs, fmt.Errorf("%s: not a cluster's state: remove %s", f, filepath.Dir(f)))
			continue
		}
		if st.Owner == os.Getpid() {
			return fmt.Errorf("this test already has a cluster up (%s): call Down first", st.Dir)
		}
		if s := startTime(st.Owner); s != "" && s == st.OwnerStart {
			return fmt.Errorf("a cluster of another running test (pid %d) is up in %s", st.Owner, st.Dir)
		}
		logf("cluster: sweeping up after a test (pid %d) that died with its cluster up in %s", st.Owner, st.Dir)
		if err := st.sweep(); err != nil {
			errs = append(errs, fmt.Errorf("sweeping %s: %w", st.Dir, err))
		}
	}
	return errors.Join(errs...)
}

// sweep does what Down would have, in the same order, without the
// components' help: kill by PID what is left (the components, should the
// kernel not have, then the pods' processes, found in the kubepods cgroups
// that the cluster made, and the shims of its containerd), then remove
// mounts, rules, links, namespaces and paths, and restore the sysctls.
func (st *state) sweep() error {
	var pids []int
	for _, p := range st.Procs {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID)); err == nil && exe == p.Exe {
			pids = append(pids, p.PID)
		}
	}
	for _, h := range st.Host.Cgroups {
		pids = append(pids, cgroupProcs(filepath.Join(h, "kubepods"))...)
	}
	pids = append(pids, shimsOf(st.Sock)...)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(stopLimit)
	for _, pid := range pids {
		for time.Now().Before(deadline) {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
				break
			}
			time.Sleep(pollPause)
		}
	}

	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	// The pods' namespaces are mounts under the state dir: unmounted, and
	// their processes dead, the kernel frees them and their veths.
	add(unmountUnder(st.Dir))
	add(removeKubeChains("iptables"))
	add(removeKubeChains("ip6tables"))
	for _, dev := range st.Uplinks {
		rule := []string{"FORWARD", "-o", dev, "-m", "comment", "--comment", forwardDropComment, "-j", "DROP"}
		if run("iptables", append([]string{"-w", "-C"}, rule...)...) == nil {
			add(run("iptables", append([]string{"-w", "-D"}, rule...)...))
		}
	}
	for _, l := range []string{bridgeLink, clientLink, nodeLink} {
		if _, err := os.Stat("/sys/class/net/" + l); err == nil {
			add(run("ip", "link", "del", l))
		}
	}
	for _, ns := range []string{clientNetns, sinkNetns} {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			add(run("ip", "netns", "del", ns))
		}
	}
	add(forgetConntrack())
	add(st.Host.restore())
	add(os.RemoveAll(st.Dir))
	return errors.Join(errs...)
}

// cgroupProcs lists the processes in a cgroup v1 directory and below.
func cgroupProcs(dir string) []int {
	var pids []int
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}
