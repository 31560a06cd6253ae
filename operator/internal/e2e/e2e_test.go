// Package e2e runs the operator against a real API server (envtest) and
// real kradius processes on a real redis-server, and talks to them with
// Debian's radclient.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/controller"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
	"kradius.dev/services/password"
)

var repoRoot, _ = filepath.Abs("../../..")

// process is one kradius process and the addresses it logged.
type process struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	addrs map[string]string
	log   strings.Builder
}

var listening = regexp.MustCompile(`msg="(\w+) (?:service |endpoint )?listening".* (?:addr|auth)=(\S+)`)

func start(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), addrs: map[string]string{}}
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				p.addrs[m[1]] = m[2]
			}
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", strings.Join(args, " "), p.log.String())
		}
	})
	return p
}

func (p *process) wait(t *testing.T, name string) string {
	t.Helper()
	var a string
	eventually.True(t, name+" listening", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		a = p.addrs[name]
		return a != ""
	})
	return a
}

// radclient sends one request and waits for its reply as long as the
// edge's budgets below allow, and a little longer.
func radclient(t *testing.T, addr, secret, attrs string) string {
	t.Helper()
	cmd := exec.Command("radclient", "-d", filepath.Join(repoRoot, "deploy/examples/radclient"), "-x", "-r", "1", "-t", "15", addr, "auth", secret)
	cmd.Stdin = strings.NewReader(attrs)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func TestOperatorToRadclient(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "kradius", "envtest", "v1.34.4")
	}
	env := &envtest.Environment{BinaryAssetsDirectory: dir, CRDDirectoryPaths: []string{filepath.Join(repoRoot, "operator/config/crd/bases")},
		ErrorIfCRDPathMissing: true, ControlPlaneStartTimeout: time.Minute}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("envtest (run make envtest-assets): %v", err)
	}
	t.Cleanup(func() { env.Stop() })

	// The operator, in-process.
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = kradiusv1.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	conns := &controller.AdminConns{}
	t.Cleanup(conns.Close)
	if err := controller.Setup(mgr, conns, password.Params{Memory: 64, Time: 1, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go mgr.Start(ctx)
	k8s := mgr.GetClient()

	// kradius: accounts and dids on a real redis-server.
	work := t.TempDir()
	bin := filepath.Join(work, "kradius")
	if out, err := exec.Command("go", "build", "-o", bin, "kradius.dev/services/cmd/kradius").CombinedOutput(); err != nil {
		t.Fatalf("building kradius: %v\n%s", err, out)
	}
	redis := redistest.Start(t)
	storeFlags := []string{"-store.backend", "redis", "-store.redis.addresses", redis.Addr(), "-http.listen", "127.0.0.1:0", "-grpc.listen", "127.0.0.1:0"}
	accounts := start(t, bin, append([]string{"-target=accounts"}, storeFlags...)...)
	dids := start(t, bin, append([]string{"-target=dids"}, storeFlags...)...)
	accountsAddr, didsAddr := accounts.wait(t, "accounts"), dids.wait(t, "dids")

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "carrier"}}
	must(t, k8s.Create(ctx, ns))
	must(t, k8s.Create(ctx, &kradiusv1.RadiusCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "prod", Namespace: "carrier", Annotations: map[string]string{controller.AdminAddressAnnotation: accountsAddr}},
		Spec: kradiusv1.RadiusClusterSpec{Image: "kradius:test", Redis: kradiusv1.RedisSpec{Addresses: []kradiusv1.HostPort{kradiusv1.HostPort(redis.Addr())}},
			Kafka: kradiusv1.KafkaSpec{Brokers: []kradiusv1.HostPort{"127.0.0.1:9"}}},
	}))
	must(t, k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "portserver", Namespace: "carrier"},
		Data: map[string][]byte{"secret": []byte("from-a-crd"), "password": []byte("s3cret")}}))
	must(t, k8s.Create(ctx, &kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: "portserver", Namespace: "carrier"}, Spec: kradiusv1.RadiusClientSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, CIDRs: []kradiusv1.ClientCIDR{"127.0.0.1"},
		SecretRef:            &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "portserver"}, Key: "secret"},
		MessageAuthenticator: "off",
	}}))
	account := &kradiusv1.Account{ObjectMeta: metav1.ObjectMeta{Name: "carol", Namespace: "carrier"}, Spec: kradiusv1.AccountSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Type: 4,
		PasswordSecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "portserver"}, Key: "password"},
	}}
	must(t, k8s.Create(ctx, account))

	// The kubelet's part: project the client-table Secret into the file the
	// edge watches, as a Secret volume would.
	clientsFile := filepath.Join(work, "clients.yaml")
	project := func() bool {
		var s corev1.Secret
		if k8s.Get(ctx, client.ObjectKey{Namespace: "carrier", Name: "prod-clients"}, &s) != nil || !strings.Contains(string(s.Data["clients.yaml"]), "carrier/portserver") {
			return false
		}
		return os.WriteFile(clientsFile, s.Data["clients.yaml"], 0o600) == nil
	}
	eventually.True(t, "the client table", project)
	cfgFile := filepath.Join(work, "edge.yaml")
	// Budgets that a busy machine does not reach, and a cache TTL past the
	// test's waits, so that only the change feed can end a login.
	must(t, os.WriteFile(cfgFile, []byte(fmt.Sprintf(`target: edge
edge:
  clients_file: %s
  request_timeout: 10s
backends:
  accounts: %s
  dids: %s
  timeout: 10s
  authenticate_timeout: 10s
  cache:
    ttl: 1h
`, clientsFile, accountsAddr, didsAddr)), 0o600))
	edge := start(t, bin, "-config", cfgFile, "-edge.auth-listen", "127.0.0.1:0", "-edge.acct-listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0")
	auth := edge.wait(t, "edge")

	login := `User-Name = "carol", User-Password = "s3cret", FB-Command = Get-Account, FB-Context = Account-Login`
	eventually.True(t, "Access-Accept for the Account CR", func() bool {
		return strings.Contains(radclient(t, auth, "from-a-crd", login), "Received Access-Accept")
	})

	must(t, k8s.Delete(ctx, account))
	eventually.True(t, "Access-Reject once the Account CR is deleted", func() bool {
		return strings.Contains(radclient(t, auth, "from-a-crd", login), "Received Access-Reject")
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
