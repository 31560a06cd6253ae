package kafkalog

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadPassword(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, content, want, wantErr string
	}{
		{"newline stripped", "s3cret\n", "s3cret", ""},
		{"CRLF stripped", "s3cret\r\n", "s3cret", ""},
		{"no newline", "s3cret", "s3cret", ""},
		{"only the last newline", "s3cret\n\n", "s3cret\n", ""},
		{"inner spaces kept", " s3 cret \n", " s3 cret ", ""},
		{"empty", "\n", "", "is empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readPassword(path)
			if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("readPassword = %q, %v; want %q, error containing %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := readPassword(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "kafka.sasl.password_file") {
		t.Errorf("readPassword(missing) = %v, want an error naming kafka.sasl.password_file", err)
	}
}

func TestNewTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		cfg     TLSConfig
		wantErr string
	}{
		{"system roots", TLSConfig{Enabled: true, ServerName: "kafka"}, ""},
		{"own CA and client certificate", TLSConfig{Enabled: true, CAFile: certFile, CertFile: certFile, KeyFile: keyFile}, ""},
		{"missing CA file", TLSConfig{Enabled: true, CAFile: filepath.Join(dir, "missing.pem")}, "kafka.tls.ca_file"},
		{"CA file without a certificate", TLSConfig{Enabled: true, CAFile: garbage}, "no PEM certificate"},
		{"key that is no key", TLSConfig{Enabled: true, CertFile: certFile, KeyFile: garbage}, "kafka.tls.cert_file/key_file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := newTLS(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("newTLS = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newTLS: %v", err)
			}
			if tc.ServerName != tt.cfg.ServerName || (tc.RootCAs != nil) != (tt.cfg.CAFile != "") || (len(tc.Certificates) == 1) != (tt.cfg.CertFile != "") {
				t.Errorf("newTLS = %+v from %+v", tc, tt.cfg)
			}
		})
	}
}

// The Appender's Client and the Reader connect through different kafka-go
// types; both must get the TLS and SASL settings.
func TestConnectorSecuresBothPaths(t *testing.T) {
	certFile, _ := writeCert(t, t.TempDir())
	c, err := newConnector(Config{
		Brokers: []string{"kafka:9093"},
		TLS:     TLSConfig{Enabled: true, CAFile: certFile},
		SASL:    SASL{Mechanism: MechanismSCRAMSHA512, Username: "kradius", PasswordFile: passwordFile(t, "pw")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.transport.TLS == nil || c.dialer.TLS != c.transport.TLS {
		t.Error("TLS config not shared by the Transport and the Dialer")
	}
	if c.transport.SASL == nil || c.dialer.SASLMechanism != c.transport.SASL || c.transport.SASL.Name() != MechanismSCRAMSHA512 {
		t.Error("SASL mechanism not shared by the Transport and the Dialer")
	}
	if _, err := newConnector(Config{}); err == nil {
		t.Error("newConnector accepted a config without brokers")
	}
}

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafka"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}
