package kafkalog

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
)

// newTLS builds the client TLS configuration, nil when TLS is off.
func newTLS(c TLSConfig) (*tls.Config, error) {
	if !c.Enabled {
		return nil, nil
	}
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // documented as for labs only
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: no PEM certificate in %s", c.CAFile)
		}
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// newSASL builds the SASL mechanism, nil when SASL is off. The password is
// read now, so that a rotated file takes effect at the next start.
func newSASL(c SASL) (sasl.Mechanism, error) {
	if c.Mechanism == "" {
		return nil, nil
	}
	password, err := readPassword(c.PasswordFile)
	if err != nil {
		return nil, err
	}
	switch c.Mechanism {
	case MechanismPlain:
		return plain.Mechanism{Username: c.Username, Password: password}, nil
	case MechanismSCRAMSHA256:
		return newSCRAM(MechanismSCRAMSHA256, sha256.New, c.Username, password), nil
	case MechanismSCRAMSHA512:
		return newSCRAM(MechanismSCRAMSHA512, sha512.New, c.Username, password), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.Mechanism)
}

// readPassword reads a password file. Editors and `echo` end the file with
// a newline that is not part of the password.
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("kafka.sasl.password_file: %w", err)
	}
	password := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if password == "" {
		return "", errors.New("kafka.sasl.password_file: " + path + " is empty")
	}
	return password, nil
}
