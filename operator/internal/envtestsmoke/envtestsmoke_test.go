// Package envtestsmoke checks that envtest starts the real kube-apiserver and
// etcd hack/envtest-assets.sh provides; the controller tests build on that.
package envtestsmoke

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// k8sVersion is the kube-apiserver hack/envtest-assets.sh builds.
const k8sVersion = "v1.34.4"

// assetsDir is where envtest finds kube-apiserver and etcd: $KUBEBUILDER_ASSETS,
// else the cache of hack/envtest-assets.sh. It fails the test, rather than
// skipping it, when a binary is missing.
func assetsDir(t *testing.T) string {
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
			t.Fatalf("envtest binary %s missing from %s: run `make envtest-assets` "+
				"(or export KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh))", bin, dir)
		}
	}
	return dir
}

// TestEnvtestSmoke starts a real kube-apiserver and etcd, writes a Namespace
// and a ConfigMap with a controller-runtime client and reads the ConfigMap back.
func TestEnvtestSmoke(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assetsDir(t),
		ControlPlaneStartTimeout: time.Minute, // a ceiling for loaded CI machines, not a delay
	}
	start := time.Now()
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting envtest (kube-apiserver + etcd): %v", err)
	}
	t.Logf("control plane up in %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})

	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	if v.GitVersion != k8sVersion {
		t.Errorf("kube-apiserver is %s, want %s (rerun hack/envtest-assets.sh)", v.GitVersion, k8sVersion)
	}

	c, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kradius-smoke"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "radius"},
		Data:       map[string]string{"auth-port": "1812"},
	}
	if err := c.Create(ctx, cm); err != nil {
		t.Fatalf("create configmap: %v", err)
	}

	var got corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKeyFromObject(cm), &got); err != nil {
		t.Fatalf("get configmap: %v", err)
	}
	if got.Data["auth-port"] != "1812" || got.UID == "" {
		t.Errorf("read back %+v, want data auth-port=1812 and a UID from the server", got)
	}
}
