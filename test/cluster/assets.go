package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The versions hack/cluster-assets.sh builds. Its stamp lists them, and
// TestAssetsScriptVersions keeps the two in step.
const (
	k8sVersion     = "v1.34.4"
	helmVersion    = "v4.3.2"
	crictlVersion  = "v1.34.0"
	metricsVersion = "v0.8.0"
	corednsVersion = "v1.14.7"
	pauseVersion   = "1"
)

// want is the stamp of a complete cache.
var want = fmt.Sprintf("kubernetes %s helm %s crictl %s metrics-server %s coredns %s pause %s",
	k8sVersion, helmVersion, crictlVersion, metricsVersion, corednsVersion, pauseVersion)

// The images the script packs, and the names ociimage tags them with.
var (
	pauseImage   = "localhost/pause:" + pauseVersion
	corednsImage = "localhost/coredns:" + corednsVersion
)

// assetFiles are what Up uses from the cache.
var assetFiles = []string{
	"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl",
	"helm", "crictl", "pause-image.tar", "coredns-image.tar", "metrics-server-image.tar",
	"charts/metrics-server/Chart.yaml",
}

// hostCommands are what Up uses from Debian (the script installs them).
var hostCommands = []string{
	"etcd", "containerd", "containerd-shim-runc-v2", "ctr", "runc", "iptables", "iptables-save",
	"iptables-restore", "ip6tables-save", "ip6tables-restore", "ip", "openssl", "conntrack",
}

// cniPlugins is where Debian's containernetworking-plugins puts them.
const cniPlugins = "/usr/lib/cni"

// AssetsDir is the cache hack/cluster-assets.sh fills.
func AssetsDir() string {
	if d := os.Getenv("KRADIUS_CLUSTER"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "/root"
	}
	return filepath.Join(home, ".cache", "kradius", "cluster", k8sVersion)
}

// Available reports whether hack/cluster-assets.sh's cache is complete and
// the Debian packages it installs are present: whether Up can run. It
// builds nothing.
func Available() bool {
	return assetsMissing() == nil
}

// assetsMissing says what keeps Up from running, or nil.
func assetsMissing() error {
	dir := AssetsDir()
	b, err := os.ReadFile(filepath.Join(dir, ".stamp"))
	if err != nil {
		return fmt.Errorf("no cluster assets in %s: run hack/cluster-assets.sh (30-40 minutes cold)", dir)
	}
	if got := strings.TrimSpace(string(b)); got != want {
		return fmt.Errorf("the cluster assets in %s are %q, not %q: run hack/cluster-assets.sh", dir, got, want)
	}
	for _, f := range assetFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("cluster assets incomplete (%v): run hack/cluster-assets.sh", err)
		}
	}
	for _, c := range hostCommands {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("%s not found: run hack/cluster-assets.sh as root, which installs the Debian packages", c)
		}
	}
	if _, err := os.Stat(filepath.Join(cniPlugins, "bridge")); err != nil {
		return fmt.Errorf("no CNI plugins in %s: run hack/cluster-assets.sh as root (containernetworking-plugins)", cniPlugins)
	}
	return nil
}
