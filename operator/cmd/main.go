// Command operator runs the kradius operator: RadiusCluster, RadiusClient,
// Account and DID controllers (controller-runtime).
package main

import (
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/operator/internal/controller"
	"kradius.dev/services/password"
	"kradius.dev/services/rpc"
)

func main() {
	var metricsAddr, probeAddr string
	var leaderElect bool
	var adminTLS rpc.TLSConfig
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "metrics endpoint")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "health and readiness endpoint")
	flag.BoolVar(&leaderElect, "leader-elect", false, "leader election, for more than one replica")
	flag.StringVar(&adminTLS.CAFile, "admin-tls-ca-file", "", "CA of the admin services (turns TLS on)")
	flag.StringVar(&adminTLS.CertFile, "admin-tls-cert-file", "", "client certificate for the admin services (mTLS)")
	flag.StringVar(&adminTLS.KeyFile, "admin-tls-key-file", "", "client key for the admin services (mTLS)")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	if err := run(metricsAddr, probeAddr, leaderElect, adminTLS); err != nil {
		fmt.Fprintln(os.Stderr, "kradius-operator:", err)
		os.Exit(1)
	}
}

func run(metricsAddr, probeAddr string, leaderElect bool, adminTLS rpc.TLSConfig) error {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := kradiusv1.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
		LeaderElection:         leaderElect,
		LeaderElectionID:       "kradius-operator.kradius.dev",
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	admin := &controller.AdminConns{TLS: adminTLS}
	defer admin.Close()
	if err := controller.Setup(mgr, admin, password.DefaultParams); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}
