package app

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/config"
	"kradius.dev/services/eventually"
	"kradius.dev/services/rpc"
	"kradius.dev/services/tlstest"
)

// A renewed certificate is served without a restart; a file that does not
// load leaves the running one.
func TestRadSecCertificateReload(t *testing.T) {
	dir := t.TempDir()
	ca, err := tlstest.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	issue := func() tlstest.Pair {
		p, err := ca.Server("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := issue()
	certFile, keyFile, err := first.WriteFiles(dir, "edge")
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := ca.WriteFile(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := prometheus.NewRegistry()
	rs, err := radsecSettings(ctx, config.RadSecConfig{Listen: "127.0.0.1:0", TLS: rpc.TLSConfig{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile}},
		reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if rs.TLS.ClientAuth != tls.RequireAndVerifyClientCert || rs.TLS.ClientCAs == nil {
		t.Fatal("RadSec does not require client certificates")
	}
	served := func() []byte {
		c, err := rs.TLS.GetConfigForClient(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificates[0].Certificate[0]
	}
	if string(served()) != string(first.Cert.Certificate[0]) {
		t.Fatal("not serving the configured certificate")
	}

	renewed := issue()
	if _, _, err := renewed.WriteFiles(dir, "edge"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the renewed certificate served", func() bool { return string(served()) == string(renewed.Cert.Certificate[0]) })

	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	errors := func() float64 {
		m, _ := reg.Gather()
		for _, f := range m {
			if f.GetName() == "kradius_edge_radsec_certificate_reloads_total" {
				for _, s := range f.GetMetric() {
					if s.GetLabel()[0].GetValue() == "error" {
						return s.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	eventually.True(t, "the bad key counted", func() bool { return errors() == 1 })
	if string(served()) != string(renewed.Cert.Certificate[0]) {
		t.Fatal("a key that does not load replaced the running certificate")
	}
}
