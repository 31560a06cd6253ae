package controller

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kradiusv1 "kradius.dev/api/v1alpha1"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	"kradius.dev/services/admin"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records"
	recembedded "kradius.dev/services/store/records/embedded"
)

// The suite shares one control plane (a real kube-apiserver and etcd) and
// one manager running every controller.
var (
	k8s       client.Client
	testStore fbdata.Store
	// testRecords is the records backend under testStore, which also keeps
	// the profiles' kinds: what the admin service wrote, secrets included.
	testRecords records.Store
	adminAddr   string
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		// The pure tests (renderers, decisions) need no control plane; the
		// others skip in namespace.
		return m.Run()
	}
	ctrllog.SetLogger(logr.Discard())
	dir, err := assets()
	if err != nil {
		println(err.Error())
		return 1
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    dir,
		CRDDirectoryPaths:        []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		println("starting envtest:", err.Error())
		return 1
	}
	defer env.Stop()

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = kradiusv1.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		println(err.Error())
		return 1
	}
	k8s = mgr.GetClient()

	// The cluster's admin service: envtest runs no pods, so the test runs
	// the real AdminService in-process on a real (embedded) store, which
	// keeps FaxBack's kinds and every profile's, as the binary's does.
	tmp, _ := os.MkdirTemp("", "operator-suite")
	defer os.RemoveAll(tmp)
	kinds := recordsvc.Kinds(profiles.All)
	rs, err := recembedded.Open(filepath.Join(tmp, "kradius.db"), append(slices.Clone(fbstore.Kinds), recordsvc.StoreKinds(kinds)...))
	if err != nil {
		println(err.Error())
		return 1
	}
	defer rs.Close()
	st := fbstore.New(rs, fbdata.Options{})
	testStore, testRecords = st, rs
	recs := recordsvc.New(rs, kinds, password.NewVerifier(10, time.Minute), cheap)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(srv, admin.NewServer(st, recs, cheap, slog.New(slog.NewTextHandler(io.Discard, nil))))
	go srv.Serve(ln)
	defer srv.Stop()
	adminAddr = ln.Addr().String()

	conns := &AdminConns{}
	defer conns.Close()
	if err := Setup(mgr, conns, cheap); err != nil {
		println(err.Error())
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go mgr.Start(ctx)
	return m.Run()
}

// assets finds kube-apiserver and etcd as hack/envtest-assets.sh caches them.
func assets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "kradius", "envtest", "v1.34.4")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// namespace makes a fresh namespace for one test.
func namespace(t *testing.T) string {
	t.Helper()
	if k8s == nil {
		// make test runs without -short and starts the control plane, or
		// fails in TestMain: there, this is never reached.
		if !testing.Short() {
			t.Fatal("no envtest control plane")
		}
		// Only -short (make test-short) gets here: it promises no API
		// server, and make test, which CI runs, fails above instead.
		t.Skip("-short: no kube-apiserver; make test runs this test against one")
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// cluster creates a RadiusCluster whose admin service is the suite's.
func cluster(t *testing.T, ns, name string) *kradiusv1.RadiusCluster {
	t.Helper()
	rc := &kradiusv1.RadiusCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{AdminAddressAnnotation: adminAddr}},
		Spec: kradiusv1.RadiusClusterSpec{
			Image: "kradius:test",
			Redis: kradiusv1.RedisSpec{Addresses: []kradiusv1.HostPort{"redis:6379"}},
			Kafka: kradiusv1.KafkaSpec{Brokers: []kradiusv1.HostPort{"kafka:9092"}},
		},
	}
	if err := k8s.Create(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	return rc
}

// synced returns the Synced condition of an object with conditions.
func synced(conds []metav1.Condition) *metav1.Condition {
	return meta.FindStatusCondition(conds, kradiusv1.ConditionSynced)
}
