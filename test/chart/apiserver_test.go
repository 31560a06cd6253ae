package chart

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// k8sVersion is the kube-apiserver hack/envtest-assets.sh builds.
const k8sVersion = "v1.34.4"

// envtestAssets is where kube-apiserver and etcd are: $KUBEBUILDER_ASSETS
// (make test exports it), else the cache of hack/envtest-assets.sh, as the
// operator's tests find them. It fails, rather than skips, when they are
// missing.
func envtestAssets(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = os.Getenv("KRADIUS_ENVTEST")
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatalf("no KUBEBUILDER_ASSETS and no home directory (%v): run `make envtest-assets`", err)
		}
		dir = filepath.Join(home, ".cache", "kradius", "envtest", k8sVersion)
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(dir, bin)); err != nil || fi.Mode()&0o111 == 0 {
			t.Fatalf("%s missing from %s: run `make envtest-assets` (or export KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh))", bin, dir)
		}
	}
	return dir
}

// apiServer is a kube-apiserver on etcd, with no nodes or controllers:
// enough to validate objects as an install would, by dry run.
type apiServer struct {
	url, token string
	client     *http.Client
}

// startAPIServer starts etcd and kube-apiserver for the test, and stops
// them when it ends.
func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	bin := envtestAssets(t)
	dir := t.TempDir()
	etcdPort, peerPort, apiPort := freePort(t), freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	start(t, filepath.Join(bin, "etcd"), filepath.Join(dir, "etcd.log"),
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL)

	token := randomHex(t)
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, token+",admin,admin,system:masters\n")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	saKey := filepath.Join(dir, "sa.key")
	writeFile(t, saKey, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	start(t, filepath.Join(bin, "kube-apiserver"), filepath.Join(dir, "kube-apiserver.log"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", apiPort),
		// It writes itself a serving certificate here.
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+saKey, "--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
	)
	s := &apiServer{
		url:   fmt.Sprintf("https://127.0.0.1:%d", apiPort),
		token: token,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			// A loopback server with a certificate it made itself.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		}},
	}
	s.waitFor(t, "kube-apiserver ready", func() (bool, error) {
		code, _, _, err := s.do("GET", "/readyz", nil)
		return err == nil && code == http.StatusOK, nil
	})
	return s
}

// start runs a process for the test's duration, its output in a log file
// that a failure prints.
func start(t *testing.T, bin, logFile string, args ...string) {
	t.Helper()
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = log.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile); err == nil {
				t.Logf("%s:\n%s", filepath.Base(logFile), tail(string(b), 40))
			}
		}
	})
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// do sends one request; it returns the status, the body and the Warning
// headers (the PodSecurity admission's, among others).
func (s *apiServer) do(method, path string, body any) (int, []byte, []string, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.url+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header.Values("Warning"), err
}

// waitFor polls cond until it holds, within a minute: a ceiling for a
// loaded machine, not a delay.
func (s *apiServer) waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		<-tick.C
	}
}

// create makes an object for real (dryRun false) or validates it as a
// create would (dryRun true), with unknown and duplicate fields errors.
func (s *apiServer) create(o object, dryRun bool) ([]string, error) {
	path, err := resourcePath(o)
	if err != nil {
		return nil, err
	}
	path += "?fieldValidation=Strict"
	if dryRun {
		path += "&dryRun=All"
	}
	code, body, warnings, err := s.do("POST", path, map[string]any(o))
	if err != nil {
		return nil, err
	}
	if code != http.StatusCreated && code != http.StatusOK {
		var status struct{ Message string }
		_ = json.Unmarshal(body, &status)
		return warnings, fmt.Errorf("HTTP %d: %s", code, orElse(status.Message, string(body)))
	}
	return warnings, nil
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// resources maps the kinds the chart renders to their API paths.
var resources = map[string]struct {
	prefix, plural string
	namespaced     bool
}{
	"ConfigMap":                {"/api/v1", "configmaps", true},
	"Secret":                   {"/api/v1", "secrets", true},
	"Service":                  {"/api/v1", "services", true},
	"ServiceAccount":           {"/api/v1", "serviceaccounts", true},
	"Namespace":                {"/api/v1", "namespaces", false},
	"Deployment":               {"/apis/apps/v1", "deployments", true},
	"HorizontalPodAutoscaler":  {"/apis/autoscaling/v2", "horizontalpodautoscalers", true},
	"PodDisruptionBudget":      {"/apis/policy/v1", "poddisruptionbudgets", true},
	"NetworkPolicy":            {"/apis/networking.k8s.io/v1", "networkpolicies", true},
	"ClusterRole":              {"/apis/rbac.authorization.k8s.io/v1", "clusterroles", false},
	"ClusterRoleBinding":       {"/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", false},
	"Role":                     {"/apis/rbac.authorization.k8s.io/v1", "roles", true},
	"RoleBinding":              {"/apis/rbac.authorization.k8s.io/v1", "rolebindings", true},
	"CustomResourceDefinition": {"/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", false},
	"RadiusCluster":            {"/apis/kradius.dev/v1alpha1", "radiusclusters", true},
	"RadiusClient":             {"/apis/kradius.dev/v1alpha1", "radiusclients", true},
	"Account":                  {"/apis/kradius.dev/v1alpha1", "accounts", true},
	"DID":                      {"/apis/kradius.dev/v1alpha1", "dids", true},
}

// notServed are kinds whose CRDs the repository does not have (the
// Prometheus Operator's); the tests check their shape by other means.
var notServed = []string{"ServiceMonitor", "PrometheusRule"}

func resourcePath(o object) (string, error) {
	r, ok := resources[str(o, "kind")]
	if !ok {
		return "", fmt.Errorf("kind %s: not in this test's resources table: add it", str(o, "kind"))
	}
	if r.namespaced {
		return fmt.Sprintf("%s/namespaces/%s/%s", r.prefix, str(o, "metadata", "namespace"), r.plural), nil
	}
	return r.prefix + "/" + r.plural, nil
}

// TestAPIServerAccepts sends every object of every scenario, and of
// deploy/carrier (its sites' renders and the resources its guide applies),
// to a real kube-apiserver as a dry-run create with strict field
// validation: a misspelt or misplaced field, an invalid value, a
// RadiusCluster or RadiusClient the CRD's schema or CEL rules refuse, all
// fail here as they would at install. The namespaces warn of the
// restricted Pod Security Standard, and the only warnings allowed are those
// of the host-network edge.
func TestAPIServerAccepts(t *testing.T) {
	t.Parallel()
	rendered := map[string][]object{}
	for _, s := range scenarios(t) {
		rendered[s.name] = renderScenario(t, s)
	}
	maps.Copy(rendered, carrierObjects(t))
	namespaces := map[string]bool{namespace: true}
	for _, objs := range rendered {
		for _, o := range objs {
			if ns := str(o, "metadata", "namespace"); ns != "" {
				namespaces[ns] = true
			}
		}
	}

	s := startAPIServer(t)
	for ns := range namespaces {
		if _, err := s.create(object{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
			"name":   ns,
			"labels": map[string]any{"pod-security.kubernetes.io/warn": "restricted"},
		}}, false); err != nil {
			t.Fatalf("namespace %s: %v", ns, err)
		}
	}
	crds, err := filepath.Glob(filepath.Join(chartDir, "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range crds {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, crd := range parseObjects(t, string(b)) {
			if _, err := s.create(crd, false); err != nil {
				t.Fatalf("%s: %v", filepath.Base(f), err)
			}
			name := str(crd, "metadata", "name")
			s.waitFor(t, "CRD "+name+" established", func() (bool, error) {
				code, body, _, err := s.do("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, nil)
				if err != nil || code != http.StatusOK {
					return false, err
				}
				var got map[string]any
				if err := json.Unmarshal(body, &got); err != nil {
					return false, err
				}
				for _, c := range list(got, "status", "conditions") {
					if str(c, "type") == "Established" && str(c, "status") == "True" {
						return true, nil
					}
				}
				return false, nil
			})
		}
	}

	for _, name := range slices.Sorted(maps.Keys(rendered)) {
		t.Run(name, func(t *testing.T) {
			for _, o := range rendered[name] {
				if slices.Contains(notServed, str(o, "kind")) {
					continue
				}
				warnings, err := s.create(o, true)
				if err != nil {
					t.Errorf("%s: %v", o.id(), err)
				}
				for _, w := range warnings {
					if hostNetworkEdge(o) && onlyHostNetwork(w) {
						continue
					}
					t.Errorf("%s: warning: %s", o.id(), w)
				}
			}
		})
	}
}

// hostNetworkEdge: the edge in the node's network, which the restricted
// (and the baseline) standard does not admit, by the operator's choice.
func hostNetworkEdge(o object) bool {
	return str(o, "kind") == "Deployment" && get(o, "spec", "template", "spec", "hostNetwork") == true
}

// onlyHostNetwork says whether a PodSecurity warning names no violation
// but the host network's own: `would violate PodSecurity "restricted:latest":
// host namespaces (hostNetwork=true), hostPort (container ...)`.
func onlyHostNetwork(warning string) bool {
	_, violations, ok := strings.Cut(warning, `":`)
	if !ok || !strings.Contains(warning, "would violate PodSecurity") {
		return false
	}
	for _, v := range regexp.MustCompile(`\), `).Split(strings.Trim(strings.TrimSpace(violations), `"`), -1) {
		if !strings.HasPrefix(v, "host namespaces") && !strings.HasPrefix(v, "hostPort") {
			return false
		}
	}
	return true
}
