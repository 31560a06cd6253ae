// Package cluster brings up a real single-node Kubernetes on this machine
// for tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// containerd, the kubelet and kube-proxy as processes of the test, with
// real containers, CNI bridge networking, CoreDNS and metrics-server. The
// binaries and images come from hack/cluster-assets.sh's cache; nothing is
// pulled. It needs root, and cgroup v1 (README.md).
//
//	skipWithoutCluster(t) // cluster_test.go
//	c := cluster.Up(t)    // torn down when the test ends
//	out, err := c.Kubectl("get", "pods", "-A")
//
// A test skips only where the assets (30-40 minutes of builds) or root are
// missing, and says which; make test-cluster builds the assets and sets
// KRADIUS_CLUSTER_TESTS=1, which turns such a skip into a failure.
//
// Every address is the test's own: the node's on a veth whose peer is in a
// private "sink" namespace, and a client namespace (ClientNetns) that
// reaches the node's NodePorts. Nothing is forwarded out of the machine.
// Down stops every process by its PID and leaves the machine as found.
package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// upLimit bounds each wait of Up; the whole takes about 15 s. It
	// guards against a hang and is not a budget.
	upLimit = 2 * time.Minute
	// pollPause is the pause between two polls of a wait.
	pollPause = 200 * time.Millisecond
)

// Cluster is a running single-node cluster.
type Cluster struct {
	// ClientNetns is the network namespace that plays a client outside
	// the cluster (a NAS): it reaches NodeIP, and its packets reach pods
	// with their source address (ClientIP) unchanged through a NodePort of
	// externalTrafficPolicy Local.
	ClientNetns string
	// ClientIP is the client namespace's address.
	ClientIP string

	t       testing.TB
	assets  string
	dir     string // everything the cluster writes
	logs    string
	sock    string // containerd's socket
	procs   []*process
	undo    []undoStep
	host    *hostState
	uplinks []string
	api     *http.Client
	once    sync.Once
}

type undoStep struct {
	what string
	fn   func() error
}

// onDown pushes fn on the stack Down unwinds, last pushed first.
func (c *Cluster) onDown(what string, fn func() error) {
	c.undo = append(c.undo, undoStep{what, fn})
}

// Up starts a cluster and waits until its node is Ready and CoreDNS
// answers; metrics-server is installed but not waited for (kubectl top
// works some 25 s later). Down runs when the test ends. Up fails the test,
// naming hack/cluster-assets.sh, when the assets are missing: callers
// check Available first.
func Up(t testing.TB) *Cluster {
	t.Helper()
	if err := assetsMissing(); err != nil {
		t.Fatalf("cluster: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Fatal("cluster: Up needs root: it makes network namespaces, iptables rules and containers")
	}
	c := &Cluster{t: t, assets: AssetsDir(), ClientNetns: clientNetns, ClientIP: clientAddr}
	t.Cleanup(c.Down)
	began := time.Now()
	if err := c.up(); err != nil {
		t.Fatalf("cluster: %v", err)
	}
	t.Logf("cluster: up in %s", time.Since(began).Round(100*time.Millisecond))
	return c
}

func (c *Cluster) up() error {
	if err := sweepDead(c.t.Logf); err != nil {
		return err
	}
	if err := leftovers(); err != nil {
		return err
	}
	var err error
	if c.dir, err = os.MkdirTemp("", "kradius-cluster-"); err != nil {
		return err
	}
	c.onDown("remove "+c.dir, func() error {
		if os.Getenv("KRADIUS_CLUSTER_KEEP") != "" {
			// Keep the logs, and only them, for a post-mortem.
			entries, _ := os.ReadDir(c.dir)
			for _, e := range entries {
				if e.Name() != "logs" {
					os.RemoveAll(filepath.Join(c.dir, e.Name()))
				}
			}
			c.t.Logf("cluster: logs kept in %s (KRADIUS_CLUSTER_KEEP)", c.logs)
			return nil
		}
		return os.RemoveAll(c.dir)
	})
	c.onDown("unmount under "+c.dir, func() error { return unmountUnder(c.dir) })
	c.logs = c.path("logs")
	c.sock = c.path("containerd", "containerd.sock")
	if err := os.MkdirAll(c.logs, 0o755); err != nil {
		return err
	}
	c.host = snapshotHost()
	c.onDown("restore the host's sysctls, paths and cgroups", c.host.restore)
	if c.uplinks, err = uplinks(); err != nil {
		return err
	}
	if err := c.saveState(); err != nil {
		return err
	}
	for _, s := range []string{"net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables"} {
		if err := os.WriteFile("/proc/sys/"+s, []byte("1"), 0o644); err != nil {
			return fmt.Errorf("sysctl %s: %w", s, err)
		}
	}

	step := time.Now()
	if err := c.setupNetwork(); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	if err := c.makePKI(); err != nil {
		return err
	}
	if err := c.writeConfigs(); err != nil {
		return err
	}
	if c.api, err = c.apiClient(); err != nil {
		return err
	}
	c.t.Logf("cluster: network and certificates in %s", time.Since(step).Round(10*time.Millisecond))

	// etcd, the apiserver and containerd start at once; the rest once the
	// apiserver is ready: the controller manager gives up (exits) when the
	// apiserver is not healthy within its own 20 s, which a busy machine
	// exceeds. Their stops are pushed in this order, so Down stops them in
	// the reverse: the node first, etcd last.
	step = time.Now()
	bin := func(name string) string { return filepath.Join(c.assets, name) }
	if err := c.startAll([]component{
		{"etcd", []string{"etcd", "--name", nodeName, "--data-dir", c.path("etcd"),
			"--listen-client-urls", "http://" + NodeIPAddr + ":" + etcdClient,
			"--advertise-client-urls", "http://" + NodeIPAddr + ":" + etcdClient,
			"--listen-peer-urls", "http://" + NodeIPAddr + ":" + etcdPeer,
			"--initial-advertise-peer-urls", "http://" + NodeIPAddr + ":" + etcdPeer,
			"--initial-cluster", nodeName + "=http://" + NodeIPAddr + ":" + etcdPeer,
			"--log-level", "warn"}},
		{"kube-apiserver", []string{bin("kube-apiserver"),
			"--etcd-servers", "http://" + NodeIPAddr + ":" + etcdClient,
			"--bind-address", NodeIPAddr, "--advertise-address", NodeIPAddr, "--secure-port", apiserverPort,
			"--cert-dir", c.path("apiserver"),
			"--tls-cert-file", c.pki("apiserver.crt"), "--tls-private-key-file", c.pki("apiserver.key"),
			"--client-ca-file", c.pki("ca.crt"),
			"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
			"--allow-privileged",
			"--service-cluster-ip-range", serviceCIDR,
			"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file", c.pki("sa.pub"), "--service-account-signing-key-file", c.pki("sa.key"),
			"--kubelet-client-certificate", c.pki("apiserver-kubelet-client.crt"),
			"--kubelet-client-key", c.pki("apiserver-kubelet-client.key"),
			// /etc/hosts maps the node's name to 127.0.0.1, where no
			// kubelet listens: logs and exec go to its InternalIP.
			"--kubelet-preferred-address-types", "InternalIP",
			"--requestheader-client-ca-file", c.pki("front-proxy-ca.crt"),
			"--requestheader-allowed-names", "front-proxy-client",
			"--requestheader-username-headers", "X-Remote-User",
			"--requestheader-group-headers", "X-Remote-Group",
			"--requestheader-extra-headers-prefix", "X-Remote-Extra-",
			"--proxy-client-cert-file", c.pki("front-proxy-client.crt"),
			"--proxy-client-key-file", c.pki("front-proxy-client.key"),
			// To metrics-server's pod, not its ClusterIP: the host reaches
			// pods directly, and needs no Service for it.
			"--enable-aggregator-routing",
			"--profiling=false"}},
		{"containerd", []string{"containerd", "--config", c.path("containerd.toml")}},
	}); err != nil {
		return err
	}
	c.onDown("remove the pods, stop containerd and its shims", c.stopContainerd)

	if err := c.waitFor("containerd to serve", func() error {
		return run("ctr", "--address", c.sock, "version")
	}); err != nil {
		return err
	}
	// The sandbox image must be there before the kubelet makes a pod.
	for _, img := range []string{"pause-image.tar", "coredns-image.tar", "metrics-server-image.tar"} {
		if err := c.ImportImage(bin(img)); err != nil {
			return err
		}
	}
	if err := c.waitFor("the apiserver to be ready", func() error {
		return c.getJSON("/readyz", nil)
	}); err != nil {
		return err
	}
	c.t.Logf("cluster: apiserver ready in %s", time.Since(step).Round(100*time.Millisecond))

	if err := c.startAll([]component{
		{"kube-controller-manager", []string{bin("kube-controller-manager"),
			"--kubeconfig", c.path("admin.kubeconfig"), "--secure-port", "0", "--leader-elect=false",
			"--cert-dir", c.path("controller-manager"),
			"--service-account-private-key-file", c.pki("sa.key"), "--root-ca-file", c.pki("ca.crt"),
			"--cluster-signing-cert-file", c.pki("ca.crt"), "--cluster-signing-key-file", c.pki("ca.key"),
			"--use-service-account-credentials",
			"--service-cluster-ip-range", serviceCIDR, "--cluster-cidr", podCIDR,
			// Scaling tests finish within a minute.
			"--horizontal-pod-autoscaler-sync-period", "5s",
			"--profiling=false"}},
		{"kube-scheduler", []string{bin("kube-scheduler"),
			"--kubeconfig", c.path("admin.kubeconfig"), "--secure-port", "0", "--leader-elect=false",
			"--profiling=false"}},
		{"kubelet", []string{bin("kubelet"), "--config", c.path("kubelet.yaml"),
			"--kubeconfig", c.path("kubelet.kubeconfig"), "--root-dir", c.path("kubelet"),
			"--hostname-override", nodeName, "--node-ip", NodeIPAddr, "--v", "1"}},
		{"kube-proxy", []string{bin("kube-proxy"), "--config", c.path("kube-proxy.yaml")}},
	}); err != nil {
		return err
	}

	if out, err := c.Apply(corednsManifest); err != nil {
		return fmt.Errorf("deploying CoreDNS: %v\n%s", err, out)
	}
	if err := os.WriteFile(c.path("metrics-server-values.yaml"), []byte(metricsValues), 0o600); err != nil {
		return err
	}
	if out, err := c.Helm("install", "metrics-server", filepath.Join(c.assets, "charts", "metrics-server"),
		"--namespace", "kube-system", "--values", c.path("metrics-server-values.yaml")); err != nil {
		return fmt.Errorf("installing metrics-server: %v\n%s", err, out)
	}

	if err := c.waitFor("node "+nodeName+" to be Ready", func() error {
		var node struct {
			Status struct {
				Conditions []struct{ Type, Status, Message string }
			}
		}
		if err := c.getJSON("/api/v1/nodes/"+nodeName, &node); err != nil {
			return err
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == "Ready" {
				if cond.Status == "True" {
					return nil
				}
				return fmt.Errorf("node condition Ready is %s: %s", cond.Status, cond.Message)
			}
		}
		return errors.New("no Ready condition yet")
	}); err != nil {
		return err
	}
	c.t.Logf("cluster: node Ready in %s", time.Since(step).Round(100*time.Millisecond))
	if err := c.waitFor("CoreDNS to be available", func() error {
		var d struct {
			Status struct{ AvailableReplicas int }
		}
		if err := c.getJSON("/apis/apps/v1/namespaces/kube-system/deployments/coredns", &d); err != nil {
			return err
		}
		if d.Status.AvailableReplicas < 1 {
			return errors.New("no available replica")
		}
		return nil
	}); err != nil {
		return err
	}
	return nil
}

// component is a process Up starts.
type component struct {
	name string
	argv []string
}

// startAll starts each component and pushes its stop.
func (c *Cluster) startAll(cs []component) error {
	for _, comp := range cs {
		p, err := c.start(comp.name, comp.argv...)
		if err != nil {
			return err
		}
		c.onDown("stop "+comp.name, p.stop)
	}
	return c.saveState()
}

// waitFor polls check until it returns nil, and fails when upLimit passes
// first, or at once if a component exits.
func (c *Cluster) waitFor(what string, check func() error) error {
	deadline := time.Now().Add(upLimit)
	for {
		err := check()
		if err == nil {
			return nil
		}
		for _, p := range c.procs {
			if p.exited() {
				return fmt.Errorf("waiting for %s: %s exited: %v (last check: %v)", what, p.name, p.err, err)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s: %v", what, upLimit, err)
		}
		time.Sleep(pollPause)
	}
}

// WaitFor polls check until it returns nil, failing the test with check's
// last error when limit passes first, or at once when a component of the
// cluster exits.
func (c *Cluster) WaitFor(t testing.TB, limit time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		for _, p := range c.procs {
			if p.exited() {
				t.Fatalf("cluster: waiting for %s: %s exited: %v (last check: %v)", what, p.name, p.err, err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster: %s: not within %s: %v", what, limit, err)
		}
		time.Sleep(pollPause)
	}
}

// apiClient talks to the apiserver as the admin, for Up's polls: cheaper
// than a kubectl process per poll.
func (c *Cluster) apiClient() (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(c.pki("admin.crt"), c.pki("admin.key"))
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(c.pki("ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12,
		}},
	}, nil
}

// getJSON GETs path from the apiserver into v (nil: only the status).
func (c *Cluster) getJSON(path string, v any) error {
	resp, err := c.api.Get(apiserverURL + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(body, v)
}

// tools runs the cluster's kubectl and helm with a home of their own: their
// caches and Helm's repositories stay in the test's directory.
func (c *Cluster) tool(stdin string, name string, args ...string) (string, error) {
	home := c.path("home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(c.assets, name), args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+c.Kubeconfig(),
		"HELM_CACHE_HOME="+filepath.Join(home, ".cache", "helm"),
		"HELM_CONFIG_HOME="+filepath.Join(home, ".config", "helm"),
		"HELM_DATA_HOME="+filepath.Join(home, ".local", "share", "helm"),
		"KUBECACHEDIR="+filepath.Join(home, ".kube", "cache"))
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Kubectl runs kubectl against the cluster as its admin and returns its
// standard output; the error carries its standard error.
func (c *Cluster) Kubectl(args ...string) (string, error) {
	return c.tool("", "kubectl", args...)
}

// Apply applies the manifests in yaml (kubectl apply -f -).
func (c *Cluster) Apply(yaml string) (string, error) {
	return c.tool(yaml, "kubectl", "apply", "-f", "-")
}

// Helm runs helm against the cluster (KUBECONFIG set) and returns its
// standard output; the error carries its standard error.
func (c *Cluster) Helm(args ...string) (string, error) {
	return c.tool("", "helm", args...)
}

// ImportImage imports an OCI image archive (test/ociimage, make image)
// into the cluster's containerd, where pods with imagePullPolicy Never find
// it by its name (ImageName).
func (c *Cluster) ImportImage(tarPath string) error {
	return run("ctr", "--address", c.sock, "--namespace", "k8s.io", "images", "import", tarPath)
}

// ImageName returns the name an OCI image archive of test/ociimage tags its
// image with, e.g. localhost/kradius:v1.2.3.
func ImageName(tarPath string) (string, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return "", fmt.Errorf("%s: no index.json: %w", tarPath, err)
		}
		if h.Name != "index.json" {
			continue
		}
		var index struct {
			Manifests []struct{ Annotations map[string]string }
		}
		if err := json.NewDecoder(tr).Decode(&index); err != nil {
			return "", fmt.Errorf("%s: index.json: %w", tarPath, err)
		}
		for _, m := range index.Manifests {
			if n := m.Annotations["io.containerd.image.name"]; n != "" {
				return n, nil
			}
			if n := m.Annotations["org.opencontainers.image.ref.name"]; n != "" {
				return n, nil
			}
		}
		return "", fmt.Errorf("%s: index.json names no image", tarPath)
	}
}

// NodeIP is the node's InternalIP, where its NodePorts are.
func (c *Cluster) NodeIP() string { return NodeIPAddr }

// Kubeconfig is the admin's kubeconfig.
func (c *Cluster) Kubeconfig() string { return c.path("admin.kubeconfig") }

// ClientExec returns a command that runs name with args inside the client
// namespace, e.g. radclient to NodeIP and a NodePort.
func (c *Cluster) ClientExec(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", c.ClientNetns, name}, args...)...)
}

// crictl runs crictl on the cluster's containerd.
func (c *Cluster) crictl(args ...string) (string, error) {
	ep := "unix://" + c.sock
	cmd := exec.Command(filepath.Join(c.assets, "crictl"),
		append([]string{"--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "30s"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("crictl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// stopContainerd removes every pod through CRI, with the kubelet already
// stopped (it would make them again): the CNI plugins then release the
// pods' addresses and veths, and runc their cgroups and mounts. Then it
// stops containerd, and any shim of its that is left, by PID.
func (c *Cluster) stopContainerd() error {
	var errs []error
	var cd *process
	for _, p := range c.procs {
		if p.name == "containerd" {
			cd = p
		}
	}
	if cd != nil && !cd.exited() {
		out, err := c.crictl("pods", "--quiet")
		if err != nil {
			errs = append(errs, err)
		}
		if ids := strings.Fields(out); len(ids) > 0 {
			if _, err := c.crictl(append([]string{"stopp"}, ids...)...); err != nil {
				errs = append(errs, err)
			}
			if _, err := c.crictl(append([]string{"rmp"}, ids...)...); err != nil {
				errs = append(errs, err)
			}
		}
		if err := cd.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, pid := range shimsOf(c.sock) {
		errs = append(errs, fmt.Errorf("containerd shim (pid %d) outlived its pods: killed", pid))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	// The bridge is the CNI plugin's, which never removes it.
	if _, err := os.Stat("/sys/class/net/" + bridgeLink); err == nil {
		if err := run("ip", "link", "del", bridgeLink); err != nil {
			errs = append(errs, err)
		}
	}
	if err := unmountUnder(c.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Down stops the cluster and leaves the machine as Up found it: pods
// removed through CRI, every process stopped by its PID (the node first,
// etcd last), mounts under the cluster's directories unmounted, the KUBE-
// chains and the harness's own iptables rule, links, namespaces and routes
// removed, and the sysctls restored. It runs when the test ends, and may be
// called before; a later Up starts afresh.
func (c *Cluster) Down() {
	c.once.Do(func() {
		began := time.Now()
		if c.t.Failed() {
			for _, p := range c.procs {
				c.t.Logf("cluster: last %d lines of %s:\n%s", tailLines, p.log, tail(p.log, tailLines))
			}
		}
		for i := len(c.undo) - 1; i >= 0; i-- {
			if err := c.undo[i].fn(); err != nil {
				c.t.Errorf("cluster: down: %s: %v", c.undo[i].what, err)
			}
		}
		if c.api != nil {
			c.api.CloseIdleConnections()
		}
		c.t.Logf("cluster: down in %s", time.Since(began).Round(100*time.Millisecond))
	})
}

// StartOnHost runs argv on the host beside the cluster, as a carrier's own
// Redis or Kafka would run outside it; pods reach it on NodeIP. It is
// stopped by its PID when the cluster goes down, before the cluster is.
func (c *Cluster) StartOnHost(name string, argv ...string) error {
	p, err := c.start(name, argv...)
	if err != nil {
		return err
	}
	c.onDown("stop "+name, p.stop)
	return c.saveState()
}
