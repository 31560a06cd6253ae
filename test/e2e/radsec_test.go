package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kradius.dev/services/eventually"
	"kradius.dev/services/tlstest"
)

// radsecIdentity is the name the proxy's certificate gives the FaxBack
// port server behind it, and the RadSec client's identity in kradius.
const radsecIdentity = "portserver.radsec.test"

// startRadSec runs kradius with RadSec on a free port, certificates from
// ca, and a FaxBack client known only by the identity radsecIdentity.
func startRadSec(t *testing.T, ca *tlstest.CA) *server {
	t.Helper()
	dir := t.TempDir()
	pair, err := ca.Server("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := pair.WriteFiles(dir, "kradius")
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := ca.WriteFile(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	return startEdited(t, func(cfg string) string {
		cfg = replaceOnce(t, cfg, "\nedge:\n", fmt.Sprintf(`
edge:
  radsec:
    listen: 127.0.0.1:0
    tls: {cert_file: %s, key_file: %s, client_ca_file: %s}
`, cert, key, caFile))
		return replaceOnce(t, cfg, "  clients:\n", `  clients:
    - name: radsec-portserver
      profile: faxback
      message_authenticator: "off"
      radsec: {identities: [`+radsecIdentity+`]}
`)
	})
}

// radsecproxy is Debian's radsecproxy in the foreground, taking radclient's
// UDP requests on its own port and forwarding each over TLS to kradius's
// RadSec port with a client certificate that ca signed.
type radsecproxy struct {
	addr string // where radclient sends
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
}

func startRadsecproxy(t *testing.T, to string, ca, kradiusCA *tlstest.CA) *radsecproxy {
	t.Helper()
	path, err := exec.LookPath("radsecproxy")
	if err != nil {
		t.Fatal("radsecproxy not found: run `make test`, which installs it, or apt-get install radsecproxy")
	}
	dir := t.TempDir()
	pair, err := ca.Client("portserver", radsecIdentity)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := pair.WriteFiles(dir, "proxy")
	if err != nil {
		t.Fatal(err)
	}
	// The proxy checks kradius's certificate against kradius's CA.
	caFile, err := kradiusCA.WriteFile(dir, "kradius-ca")
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(to)
	if err != nil {
		t.Fatal(err)
	}
	p := &radsecproxy{addr: freeUDPAddr(t)}
	conf := filepath.Join(dir, "radsecproxy.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `ListenUDP %s
LogLevel 3
tls default {
    CACertificateFile %s
    CertificateFile %s
    CertificateKeyFile %s
}
client radclient {
    host 127.0.0.1
    type udp
    secret testing123
}
server kradius {
    host %s
    port %s
    type tls
    secret radsec
}
realm * {
    server kradius
    accountingServer kradius
}
`, p.addr, caFile, cert, key, host, port), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(path, "-f", "-c", conf, "-i", filepath.Join(dir, "pid"))
	p.cmd.Stdout, p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.log}, &lockedWriter{mu: &p.mu, w: &p.log}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("radsecproxy log:\n%s", p.logText())
		}
	})
	return p
}

func (p *radsecproxy) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// freeUDPAddr is a loopback UDP address no socket holds now.
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// A FaxBack login and its accounting reach kradius through radsecproxy
// over TLS: the client is the one the proxy's certificate names, with no
// address range of its own, and the replies come back through the proxy.
func TestRadSecThroughRadsecproxy(t *testing.T) {
	ca, err := tlstest.NewCA("carrier RadSec CA")
	if err != nil {
		t.Fatal(err)
	}
	s := startRadSec(t, ca)
	p := startRadsecproxy(t, s.addr("radsec"), ca, ca)

	// The proxy takes a moment to listen and to connect: its first
	// answered request is the event.
	var out string
	eventually.NoError(t, "an Access-Accept through radsecproxy", func() error {
		out = runRadclient(t, "auth", silenceWait, p.addr, "testing123", `User-Name = "account", User-Password = "password", `+login)
		if !strings.Contains(out, "Received Access-Accept") {
			return fmt.Errorf("radclient:\n%s", out)
		}
		return nil
	})
	if !strings.Contains(out, "FB-Account-Type = Private-Queue-Transfer-Type") {
		t.Fatalf("the FaxBack profile's attributes did not come through:\n%s", out)
	}
	if out := radclient(t, p.addr, "testing123", `User-Name = "account", User-Password = "guess", `+login); !strings.Contains(out, "Received Access-Reject") {
		t.Fatalf("a wrong password through radsecproxy:\n%s", out)
	}
	if out := radacct(t, p.addr, "testing123", stopAttrs("radsec-1", "5551234", "Success")); !strings.Contains(out, "Received Accounting-Response") {
		t.Fatalf("a Stop through radsecproxy:\n%s", out)
	}
	if log := s.logText(); !strings.Contains(log, `msg="RadSec connection" target=all client=radsec-portserver identity=`+radsecIdentity) {
		t.Fatalf("kradius did not log the RadSec client by its certificate:\n%s", log)
	}
	s.waitMetric(`kradius_edge_radsec_connections_total{result="accepted"}`, 1)
	s.waitMetric(`kradius_edge_accounting_appends_total{result="ok"}`, 1)
}

// A proxy whose certificate another CA signed is refused at the
// handshake: nothing is answered, and kradius counts and logs it.
func TestRadSecRefusesAnUnknownCA(t *testing.T) {
	ca, err := tlstest.NewCA("carrier RadSec CA")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := tlstest.NewCA("someone else's CA")
	if err != nil {
		t.Fatal(err)
	}
	s := startRadSec(t, ca)
	p := startRadsecproxy(t, s.addr("radsec"), stranger, ca)
	out := runRadclient(t, "auth", silenceWait, p.addr, "testing123", `User-Name = "account", User-Password = "password", `+login)
	if strings.Contains(out, "Received") {
		t.Fatalf("a proxy with an unknown CA's certificate was answered:\n%s", out)
	}
	atLeastOne(s, `kradius_edge_radsec_connections_total{result="handshake_failed"}`)
	eventually.True(t, "the refusal logged", func() bool {
		log := s.logText()
		return strings.Contains(log, `msg="RadSec connection refused or dropped"`) && strings.Contains(log, "reason=handshake_failed")
	})
	if n := s.metric(`kradius_edge_radsec_connections_total{result="accepted"}`); n != 0 {
		t.Fatalf("accepted connections: %v, want 0", n)
	}
}

// radsecExchange sends pkt over a new RadSec connection to addr with the
// client certificate pair, trusting roots for the edge's, and returns the
// reply: a TLS client written here, for what radsecproxy cannot be made
// to do (a chosen certificate per request).
func radsecExchange(addr string, pair tls.Certificate, roots *x509.CertPool, pkt []byte) ([]byte, error) {
	conn, err := tls.Dial("tcp", addr, &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(eventually.Limit)); err != nil {
		return nil, err
	}
	if _, err := conn.Write(pkt); err != nil {
		return nil, err
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(conn, head); err != nil {
		return nil, err
	}
	b := make([]byte, int(head[2])<<8|int(head[3]))
	copy(b, head)
	if len(b) < 4 {
		return nil, fmt.Errorf("a reply of Length %d", len(b))
	}
	_, err = io.ReadFull(conn, b[4:])
	return b, err
}
