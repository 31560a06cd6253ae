package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// sysctls are the kernel settings the cluster changes: the two it needs
// (forwarding, and bridged packets through iptables, without which a
// pod's reply to a pod on the same bridge skips the Service's reverse NAT)
// and those the kubelet, the CNI bridge plugin and kube-proxy may set on
// their own. Down puts each back.
var sysctls = []string{
	"net/ipv4/ip_forward",
	"net/bridge/bridge-nf-call-iptables",
	"net/bridge/bridge-nf-call-ip6tables",
	"net/ipv4/conf/all/route_localnet",
	"vm/overcommit_memory",
	"vm/panic_on_oom",
	"kernel/panic",
	"kernel/panic_on_oops",
	"kernel/keys/root_maxkeys",
	"kernel/keys/root_maxbytes",
	"net/netfilter/nf_conntrack_max",
	"net/netfilter/nf_conntrack_tcp_timeout_established",
	"net/netfilter/nf_conntrack_tcp_timeout_close_wait",
}

// hostPaths are places outside the test's directory that the components
// create whatever they are told: the kubelet's device-plugin socket
// (/var/lib/kubelet/device-plugins) and container log links
// (/var/log/containers), the shims' sockets (/run/containerd/s), libcni's
// cache (/var/lib/cni), ip netns's mount point (/run/netns), and libmount's
// table of the kubelet's mounts (/run/mount). The others are where a
// component would write were it not told otherwise. Down removes each that
// was not there before Up.
var hostPaths = []string{
	"/var/lib/kubelet",
	"/var/log/containers",
	"/var/log/pods",
	"/var/lib/cni",
	"/run/containerd",
	"/run/netns",
	"/run/mount",
	"/usr/libexec/kubernetes",
	"/var/run/kubernetes",
	"/etc/cni",
	"/opt/cni",
	"/opt/containerd",
	"/var/lib/containerd",
	"/etc/kubernetes",
}

// hostState is what Up found, for Down to return to.
type hostState struct {
	Sysctls map[string]string
	Absent  []string // hostPaths that did not exist
	Cgroups []string // cgroup v1 hierarchies without a kubepods cgroup
}

func snapshotHost() *hostState {
	h := &hostState{Sysctls: map[string]string{}}
	for _, s := range sysctls {
		if b, err := os.ReadFile("/proc/sys/" + s); err == nil {
			h.Sysctls[s] = strings.TrimSpace(string(b))
		}
	}
	for _, p := range hostPaths {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			h.Absent = append(h.Absent, p)
		}
	}
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, d := range hierarchies {
		if _, err := os.Stat(filepath.Join(d, "kubepods")); errors.Is(err, os.ErrNotExist) {
			h.Cgroups = append(h.Cgroups, d)
		}
	}
	return h
}

// restore puts the sysctls back and removes the paths and kubepods cgroups
// that appeared. It runs once every process is gone.
func (h *hostState) restore() error {
	var errs []error
	for s, v := range h.Sysctls {
		b, err := os.ReadFile("/proc/sys/" + s)
		if err != nil || strings.TrimSpace(string(b)) == v {
			continue
		}
		if err := os.WriteFile("/proc/sys/"+s, []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s to %s: %w", s, v, err))
		}
	}
	for _, p := range h.Absent {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		// ip netns mounts /run/netns on itself; a namespace someone made
		// there meanwhile keeps it.
		if entries, _ := os.ReadDir(p); p == "/run/netns" && len(entries) > 0 {
			continue
		}
		if err := unmountUnder(p); err != nil {
			errs = append(errs, err)
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range h.Cgroups {
		if err := removeCgroup(filepath.Join(d, "kubepods")); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroup removes a cgroup v1 directory and those below it, deepest
// first; a cgroup's files are the kernel's and go with it.
func removeCgroup(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := syscall.Rmdir(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing cgroup %s: %w", dir, err)
	}
	return nil
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		p := unescapeMount(f[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	return points, nil
}

// unmountUnder unmounts what the kubelet (volumes), containerd (rootfs,
// shm, network namespaces) and ip netns mounted at or below dir. A mount
// still busy is detached: its users are gone by now, or nearly.
func unmountUnder(dir string) error {
	var errs []error
	for range 3 {
		points, err := mountsUnder(dir)
		if err != nil {
			return err
		}
		if len(points) == 0 {
			return nil
		}
		errs = errs[:0]
		for _, p := range points {
			if err := syscall.Unmount(p, 0); err != nil {
				if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
					errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var n int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &n); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
