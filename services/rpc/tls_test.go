package rpc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"kradius.dev/services/eventually"
)

// pki writes a CA and certificates it signs into dir.
type pki struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kradius test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	p.caKey = key
	p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue returns cert and key files for name, for server or client use.
func (p *pki) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (cert, key string) {
	t.Helper()
	p.serial++
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial + 1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(k)
	return p.write(t, name+".pem", "CERTIFICATE", der), p.write(t, name+"-key.pem", "EC PRIVATE KEY", keyDER)
}

func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	srvCert, srvKey := p.issue(t, "accounts.kradius.svc", x509.ExtKeyUsageServerAuth)
	edgeCert, edgeKey := p.issue(t, "edge", x509.ExtKeyUsageClientAuth)
	ca := filepath.Join(p.dir, "ca.pem")

	srv, _, err := NewServer(TLSConfig{CertFile: srvCert, KeyFile: srvKey, ClientCAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)

	check := func(c TLSConfig) error {
		conn, err := Dial(ln.Addr().String(), c)
		if err != nil {
			return err
		}
		defer conn.Close()
		// A hang bound: a refused handshake fails the call at once.
		ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
		defer cancel()
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	if err := check(TLSConfig{CAFile: ca, CertFile: edgeCert, KeyFile: edgeKey, ServerName: "accounts.kradius.svc"}); err != nil {
		t.Fatalf("mutual TLS with a signed client certificate: %v", err)
	}
	for name, c := range map[string]TLSConfig{
		"no client certificate": {CAFile: ca, ServerName: "accounts.kradius.svc"},
		"wrong server name":     {CAFile: ca, CertFile: edgeCert, KeyFile: edgeKey, ServerName: "dids.kradius.svc"},
		"plaintext":             {},
	} {
		if err := check(c); err == nil {
			t.Errorf("%s: the call went through", name)
		}
	}
}

func TestTLSConfigErrors(t *testing.T) {
	if _, _, err := NewServer(TLSConfig{ClientCAFile: "x"}); err == nil {
		t.Error("server TLS without a certificate: no error")
	}
	if _, err := (TLSConfig{CAFile: "/nonexistent"}).ClientTLS(); err == nil {
		t.Error("missing CA file: no error")
	}
}
