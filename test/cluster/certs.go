package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// certValidity is the certificates' lifetime: a test cluster lives minutes.
const certValidity = "2"

// cert is one certificate the CA signs, and its key, under pki/<name>.
type cert struct {
	name, cn, org string
	server        bool     // serverAuth as well as clientAuth
	sans          []string // "IP:..." and "DNS:..."
}

// makePKI makes, with openssl, the cluster's two CAs (the cluster's and the
// front proxy's), the certificates below and the service-account key pair,
// in <dir>/pki. ECDSA P-256: quicker to make than RSA, and every component
// takes it.
func (c *Cluster) makePKI() error {
	pki := filepath.Join(c.dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return err
	}
	for _, ca := range []string{"ca", "front-proxy-ca"} {
		if err := openssl(pki, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
			"-keyout", ca+".key", "-out", ca+".crt", "-days", certValidity, "-subj", "/CN=kradius-test-"+ca); err != nil {
			return err
		}
	}
	certs := []cert{
		{name: "apiserver", cn: "kube-apiserver", server: true, sans: []string{
			"IP:" + NodeIPAddr, "IP:127.0.0.1", "IP:" + kubernetesServiceIP, "DNS:localhost", "DNS:kubernetes",
			"DNS:kubernetes.default", "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local",
		}},
		// The admin is in system:masters; the controller manager, the
		// scheduler and kube-proxy use it too: one identity less to make,
		// and RBAC is not what these tests exercise.
		{name: "admin", cn: "kubernetes-admin", org: "system:masters"},
		// The Node authorizer admits the kubelet by this name and group.
		{name: "kubelet-client", cn: "system:node:" + nodeName, org: "system:nodes"},
		{name: "kubelet", cn: nodeName, server: true, sans: []string{"IP:" + NodeIPAddr, "DNS:" + nodeName}},
		// How the apiserver logs and execs on the kubelet; it is an admin.
		{name: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", org: "system:masters"},
	}
	for _, ct := range certs {
		if err := signed(pki, "ca", ct); err != nil {
			return err
		}
	}
	// The aggregator (metrics-server's API) authenticates to the servers
	// it proxies with this one, of the front proxy's CA.
	if err := signed(pki, "front-proxy-ca", cert{name: "front-proxy-client", cn: "front-proxy-client"}); err != nil {
		return err
	}
	if err := openssl(pki, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key"); err != nil {
		return err
	}
	return openssl(pki, "ec", "-in", "sa.key", "-pubout", "-out", "sa.pub")
}

// signed makes ct's key and certificate, signed by the CA named ca.
func signed(pki, ca string, ct cert) error {
	subject := "CN = " + ct.cn
	if ct.org != "" {
		subject += "\nO = " + ct.org
	}
	usage := "clientAuth"
	if ct.server {
		usage = "serverAuth,clientAuth"
	}
	cnf := fmt.Sprintf(`[req]
distinguished_name = dn
prompt = no
[dn]
%s
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = %s
`, subject, usage)
	if len(ct.sans) > 0 {
		cnf += "subjectAltName = " + strings.Join(ct.sans, ",") + "\n"
	}
	cnfPath := filepath.Join(pki, ct.name+".cnf")
	if err := os.WriteFile(cnfPath, []byte(cnf), 0o600); err != nil {
		return err
	}
	return openssl(pki, "req", "-x509", "-config", cnfPath, "-extensions", "ext", "-CA", ca+".crt", "-CAkey", ca+".key",
		"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", ct.name+".key", "-out", ct.name+".crt", "-days", certValidity)
}

func openssl(dir string, args ...string) error {
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
