package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"kradius.dev/services/acctlog/kafkalog/kafkatest"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/nas/firebrick/nonce"
)

// Issue 20, item 7, "Secrets never logged": every target runs at debug
// level with secrets of every kind planted — NAS shared secrets (inline,
// secret_file, clients_file), account, PAP, CHAP and SIP passwords, HA1s,
// the FireBrick nonce key, the Redis and Kafka SASL passwords, TLS private
// keys — and a NAS drives successes and failures through it. No log line,
// no failure message and no /metrics page may hold one of them, in clear or
// in an encoding a logger might choose for bytes.

// TestSecretsNeverLoggedAll is -target=all on the embedded store and the
// journal.
func TestSecretsNeverLoggedAll(t *testing.T) {
	l := newLeakSetup(t)
	dir := t.TempDir()
	// RadSec, with the PKI's server key and a client known by the client
	// certificate's common name.
	pki := writeLeakPKI(t, l.dir, l.p)
	cfg := l.config(t, fmt.Sprintf(`    - {name: %s-radsec, profile: faxback, message_authenticator: "off", radsec: {identities: [client]}}
  radsec:
    listen: 127.0.0.1:0
    tls: {cert_file: %s, key_file: %s, client_ca_file: %s}
store:
  backend: embedded
  bootstrap: [%s]
accounting:
  log: journal
`, l.name, pki.serverCert, pki.serverKey, pki.ca, l.data))
	s := launch(t, []string{"-config", writeConfig(t, cfg),
		"-edge.auth-listen", "127.0.0.1:0", "-edge.acct-listen", "127.0.0.1:0",
		"-http.listen", "127.0.0.1:0", "-admin.listen", "127.0.0.1:0",
		"-store.embedded.path", filepath.Join(dir, "kradius.db"),
		"-accounting.journal.dir", filepath.Join(dir, "accounting"),
		"-accounting.journal.cdr-dir", filepath.Join(dir, "cdr"),
		"-accounting.journal.ledger", filepath.Join(dir, "cdr-ledger.db")}, "edge", "admin", "ops")

	l.drive(t, s)
	s.waitMetricFunc(`kradius_cdr_effects_total{effect="cdr",result="applied"}`, ">= 1", func(v float64) bool { return v >= 1 })

	// RadSec: a login over TLS with the client's certificate, and a
	// handshake with a certificate of another CA, refused and logged.
	clientPair, err := tls.LoadX509KeyPair(pki.clientCert, pki.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(pki.ca)
	if err != nil || !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("the leak PKI's CA: %v", err)
	}
	req := leakAccessRequest(t, "radsec", "leakacct", l.account, false)
	if r, err := radsecExchange(s.addr("radsec"), clientPair, roots, req); err != nil || radius.Code(r[0]) != radius.CodeAccessAccept {
		t.Errorf("a RadSec login: want an Accept, got %x, %v", r, err)
	}
	stranger := writeLeakPKI(t, t.TempDir(), l.p)
	strangerPair, err := tls.LoadX509KeyPair(stranger.clientCert, stranger.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := radsecExchange(s.addr("radsec"), strangerPair, roots, req); err == nil {
		t.Errorf("a RadSec client of another CA was answered: %x", r)
	}
	s.waitMetric(`kradius_edge_radsec_connections_total{result="handshake_failed"}`, 1)

	// The admin API: kradius import hashes on the client, so the clear
	// password never reaches the server, which must not log the hash
	// either.
	imported := l.p.string("import-password")
	importOut := importLeakData(t, l.file(t, "import.yaml", fmt.Sprintf("accounts:\n  - name: leakimport\n    password: %s\n", imported)), "-admin", s.admin)
	if out := radclient(t, s.auth, l.nasPortserver, fmt.Sprintf(`User-Name = "leakimport", User-Password = %q, `, imported)+login); !strings.Contains(out, "Received Access-Accept") {
		t.Errorf("the imported account's login: want an Accept:\n%s", out)
	}

	// edge.clients_file: a reload with a new secret, then a file that does
	// not load, whose error is logged.
	reloaded := l.p.string("nas-secret-reloaded")
	l.writeClientsFile(t, reloaded, "127.0.0.6/32")
	s.waitMetric(`kradius_edge_client_reloads_total{result="ok"}`, 1)
	if out := radclient(t, s.auth, reloaded, fmt.Sprintf(`User-Name = "leakacct", User-Password = %q, `, l.account)+login+`, Packet-Src-IP-Address = 127.0.0.6`); !strings.Contains(out, "Received Access-Accept") {
		t.Errorf("a login from the reloaded client: want an Accept:\n%s", out)
	}
	l.writeClientsFile(t, l.p.string("nas-secret-broken-file"), "not-an-address")
	s.waitMetric(`kradius_edge_client_reloads_total{result="error"}`, 1)

	// A configuration that does not validate is reported with its keys,
	// never its values.
	invalid := l.invalidConfig(t)

	l.check(t, []leakOutput{
		{"kradius -target=all log", s.logText(), []string{
			`msg="edge listening"`, `msg="bootstrap applied"`, `msg="import finished"`,
			`msg="client table reloaded"`, `msg="client table not reloaded; keeping the running one"`,
			`reason=bad_authenticator`, `reason=unknown_client`, `msg="RadSec connection"`, `reason=handshake_failed`,
		}},
		{"kradius -target=all /metrics", metricsText(t, s), []string{`kradius_edge_drops_total{listener="auth",reason="bad_authenticator"}`}},
		{"kradius import", importOut, []string{"imported"}},
		{"kradius with an invalid configuration", invalid, []string{"invalid configuration", "nonce_key_file"}},
	})
}

// TestSecretsNeverLoggedDistributed is -target=accounts, dids, edge and
// cdr, on a Redis with an ACL user and password, the test Kafka broker
// with SCRAM, and mutual TLS between the edge and the services.
func TestSecretsNeverLoggedDistributed(t *testing.T) {
	l := newLeakSetup(t)
	pki := writeLeakPKI(t, l.dir, l.p)

	redisPassword := l.p.string("redis-password")
	r := redistest.Start(t)
	addRedisUser(t, r.Addr(), "kradius", redisPassword)
	saslPassword := l.p.string("sasl-password")
	broker := kafkatest.Start(t, kafkatest.Options{Partitions: 1, SASLUser: "kradius", SASLPassword: saslPassword, SASLMechanism: "SCRAM-SHA-256"})

	d := distributedLeak{l: l, pki: pki, redis: r.Addr(), broker: broker.Addr(),
		redisPasswordFile: l.file(t, "redis-password", redisPassword+"\n"),
		saslPasswordFile:  l.file(t, "sasl-password", saslPassword+"\n"),
		clientKey:         pki.clientKey,
	}
	k := &kafkaCluster{cluster: &cluster{t: t, redis: r, cfg: writeConfig(t, d.config(t))}, broker: broker}
	k.accounts = k.service("accounts", "127.0.0.1:0")
	k.dids = k.service("dids", "127.0.0.1:0")
	importOut := importLeakData(t, l.data, "-admin", k.accounts.addr("accounts"),
		"-tls.ca-file", pki.ca, "-tls.cert-file", pki.clientCert, "-tls.key-file", pki.clientKey)
	k.edge = k.addEdge()
	k.cdr = k.startCDR()

	l.drive(t, k.edge)
	k.cdr.waitMetricFunc(`kradius_cdr_effects_total{effect="cdr",result="applied"}`, ">= 1", func(v float64) bool { return v >= 1 })

	// Processes that cannot start for a wrong credential say why; each is
	// a failure message to read like a log.
	wrongSASL := d
	wrongSASL.saslPasswordFile = l.file(t, "sasl-password-wrong", l.p.string("sasl-password-wrong")+"\n")
	wrongSASLConfig := writeConfig(t, wrongSASL.config(t))
	edgeWrongSASL := runUntilExit(t, "-config", wrongSASLConfig, "-target=edge",
		"-backends.accounts", k.accounts.addr("accounts"), "-backends.dids", k.dids.addr("dids"),
		"-edge.auth-listen", "127.0.0.1:0", "-edge.acct-listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0")
	cdrWrongSASL := runUntilExit(t, "-config", wrongSASLConfig, "-target=cdr", "-http.listen", "127.0.0.1:0")

	wrongRedis := d
	wrongRedis.redisPasswordFile = l.file(t, "redis-password-wrong", l.p.string("redis-password-wrong")+"\n")
	accountsWrongRedis := runUntilExit(t, "-config", writeConfig(t, wrongRedis.config(t)), "-target=accounts",
		"-grpc.listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0")

	// The client certificate with the server's key: the pair does not load.
	wrongKey := d
	wrongKey.clientKey = pki.serverKey
	edgeWrongKey := runUntilExit(t, "-config", writeConfig(t, wrongKey.config(t)), "-target=edge",
		"-backends.accounts", k.accounts.addr("accounts"), "-backends.dids", k.dids.addr("dids"),
		"-edge.auth-listen", "127.0.0.1:0", "-edge.acct-listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0")

	// The backend down: Redis gone, a login is dropped with its error
	// logged, and the edge's change watch, failing, logs at debug level.
	r.Stop()
	untilLogged(t, k.edge, regexp.MustCompile(`reason=backend_error`), func() {
		sendFrom(t, "127.0.0.1", k.edge.auth, leakAccessRequest(t, l.nasPortserver, "leakacct", l.account, false))
	})
	eventually.True(t, "the edge's debug line for its failing change watch", func() bool {
		return strings.Contains(k.edge.logText(), `level=DEBUG msg="change watch failed"`)
	})

	l.check(t, []leakOutput{
		{"kradius -target=accounts log", k.accounts.logText(), []string{`msg="accounts service listening"`, "tls=true", `msg="import finished"`}},
		{"kradius -target=dids log", k.dids.logText(), []string{`msg="dids service listening"`, "tls=true"}},
		{"kradius -target=edge log", k.edge.logText(), []string{
			`msg="edge listening"`, `msg="edge backends"`, `reason=bad_authenticator`, `reason=unknown_client`,
			`reason=backend_error`, `level=DEBUG`,
		}},
		{"kradius -target=cdr log", k.cdr.logText(), []string{`msg="cdr consumer started"`, `msg="kafka partitions assigned"`}},
		{"kradius -target=accounts /metrics", metricsText(t, k.accounts), []string{"kradius_build_info"}},
		{"kradius -target=dids /metrics", metricsText(t, k.dids), []string{"kradius_build_info"}},
		{"kradius -target=edge /metrics", metricsText(t, k.edge), []string{`kradius_edge_drops_total{listener="auth",reason="backend_error"}`}},
		{"kradius -target=cdr /metrics", metricsText(t, k.cdr), []string{`kradius_cdr_effects_total{effect="cdr",result="applied"}`}},
		{"kradius import over mutual TLS", importOut, []string{"imported"}},
		{"kradius -target=edge, a wrong SASL password", edgeWrongSASL, []string{`msg=stopped`, "SASL"}},
		{"kradius -target=cdr, a wrong SASL password", cdrWrongSASL, []string{`msg=stopped`, "SASL"}},
		{"kradius -target=accounts, a wrong Redis password", accountsWrongRedis, []string{`msg=stopped`, "redis"}},
		{"kradius -target=edge, a client key not its certificate's", edgeWrongKey, []string{`msg=stopped`, "private key does not match"}},
	})
}

// leakSetup is what both shapes plant: the client table, its secret files,
// the provisioning data, and the credentials a NAS sends.
type leakSetup struct {
	p           *planted
	dir         string
	name        string // the clients' name prefix, random: a control that does appear in the logs
	clients     string // edge.clients, indented under edge:
	clientsFile string
	data        string // the provisioning file

	nasPortserver, nasGeneric, nasFirebrick, nasChallenge, wrongNAS string

	account, wrongAccount, pap, wrongPAP, chap, wrongCHAP, sip, wrongSIP, ha1Password string
}

func newLeakSetup(t *testing.T) *leakSetup {
	t.Helper()
	p := &planted{}
	l := &leakSetup{p: p, dir: t.TempDir(), name: "leakcheck-" + randomHex(t, 4)}
	l.nasPortserver = p.string("nas-secret-portserver")
	l.nasGeneric = p.string("nas-secret-generic-file")
	l.nasFirebrick = p.string("nas-secret-firebrick")
	l.nasChallenge = p.string("nas-secret-challenge-file")
	l.wrongNAS = p.string("nas-secret-wrong")
	l.account, l.wrongAccount = p.string("account-password"), p.string("account-password-wrong")
	l.pap, l.wrongPAP = p.string("pap-password"), p.string("pap-password-wrong")
	l.chap, l.wrongCHAP = p.string("chap-password"), p.string("chap-password-wrong")
	l.sip, l.wrongSIP = p.string("sip-password"), p.string("sip-password-wrong")
	l.ha1Password = p.string("sip-password-of-ha1")
	nonceKey := p.string("nonce-key-at-least-32-bytes")

	// The HA1s: the one kradius computes from a password at import, and
	// one provisioned as such. Planted as the MD5 they are, whose hex is
	// the HA1 as stored.
	for _, u := range []struct{ user, password string }{{"leaksip", l.sip}, {"leakha1", l.ha1Password}} {
		raw, err := hex.DecodeString(digest.HA1(u.user, "sip.example", u.password))
		if err != nil {
			t.Fatal(err)
		}
		p.add("HA1 of "+u.user, raw)
	}

	// Secret files end in a newline, as echo and editors leave them.
	l.clients = fmt.Sprintf(`  clients:
    - name: %[1]s-portserver
      cidrs: [127.0.0.1/32]
      secret: %[2]s
      profile: faxback
      message_authenticator: "off"
    - name: %[1]s-generic
      cidrs: [127.0.0.2/32]
      secret_file: %[3]s
      profile: generic
    - name: %[1]s-firebrick
      cidrs: [127.0.0.3/32]
      secret: %[4]s
      profile: firebrick
    - name: %[1]s-challenge
      cidrs: [127.0.0.4/32]
      secret_file: %[5]s
      profile: firebrick
      firebrick:
        challenge: kradius
        realm: sip.example
        nonce_key_file: %[6]s
`, l.name, l.nasPortserver, l.file(t, "generic.secret", l.nasGeneric+"\n"), l.nasFirebrick,
		l.file(t, "challenge.secret", l.nasChallenge+"\n"), l.file(t, "nonce.key", nonceKey))
	l.clientsFile = filepath.Join(l.dir, "clients.yaml")
	l.writeClientsFile(t, p.string("nas-secret-clients-file"), "127.0.0.6/32")
	l.data = l.file(t, "data.yaml", fmt.Sprintf(`accounts:
  - name: leakacct
    password: %s
    type: 0
generic.users:
  - name: leakpap
    password: %s
  - name: leakchap
    chapPassword: %s
firebrick.users:
  - name: leaksip
    extension: "201"
    passwords: {sip.example: %s}
  - name: leakha1
    extension: "202"
    ha1: {sip.example: %s}
`, l.account, l.pap, l.chap, l.sip, digest.HA1("leakha1", "sip.example", l.ha1Password)))
	return l
}

// file writes a file in the setup's directory and returns its path.
func (l *leakSetup) file(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(l.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeClientsFile replaces edge.clients_file atomically, as the kubelet
// swaps a Secret volume.
func (l *leakSetup) writeClientsFile(t *testing.T, secret, cidr string) {
	t.Helper()
	doc := fmt.Sprintf("clients:\n  - {name: %s-file, cidrs: [%s], secret: %s, profile: faxback, message_authenticator: \"off\"}\n", l.name, cidr, secret)
	if err := os.WriteFile(l.clientsFile+".tmp", []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(l.clientsFile+".tmp", l.clientsFile); err != nil {
		t.Fatal(err)
	}
}

// config is the configuration of every process of a shape: the clients
// and debug logging, then the shape's own sections.
func (l *leakSetup) config(t *testing.T, shape string) string {
	t.Helper()
	return withBudgets(t, "log:\n  format: text\n  level: debug\nedge:\n  clients_file: "+l.clientsFile+"\n"+l.clients+shape)
}

// importLeakData runs kradius import of path with flags and returns its
// output, to be read like a log.
func importLeakData(t *testing.T, path string, flags ...string) string {
	t.Helper()
	out, err := exec.Command(binary, append(append([]string{"import"}, flags...), path)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kradius import: %v\n%s", err, out)
	}
	return string(out)
}

// invalidConfig runs -target=all on a configuration with errors next to
// secrets — a secret beside a bad address, a secret and a secret_file both
// set, a nonce key too short — and returns what kradius printed.
func (l *leakSetup) invalidConfig(t *testing.T) string {
	t.Helper()
	shortKey := l.p.string("key")
	if len(shortKey) >= nonce.MinKeyBytes {
		t.Fatalf("the short nonce key is %d bytes, not under %d", len(shortKey), nonce.MinKeyBytes)
	}
	cfg := fmt.Sprintf(`log:
  level: debug
edge:
  clients:
    - name: bad-cidr
      cidrs: [10.0.0.0/40]
      secret: %s
      profile: faxback
    - name: both
      cidrs: [10.0.1.0/24]
      secret: %s
      secret_file: %s
      profile: generic
    - name: short-key
      cidrs: [10.0.2.0/24]
      secret: %s
      profile: firebrick
      firebrick:
        challenge: kradius
        realm: sip.example
        nonce_key_file: %s
`, l.p.string("nas-secret-invalid-1"), l.p.string("nas-secret-invalid-2"),
		l.file(t, "invalid.secret", l.p.string("nas-secret-invalid-file")+"\n"),
		l.p.string("nas-secret-invalid-3"), l.file(t, "short.key", shortKey))
	cmd := exec.Command(binary, "-config", writeConfig(t, cfg), "-http.listen", "127.0.0.1:0")
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("an invalid configuration: exit %d, want 1:\n%s", code, out)
	}
	return string(out)
}

// fromChallengeClient makes radclient send from 127.0.0.4, the client
// whose FireBrick has kradius issue the digest challenges.
const fromChallengeClient = `, Message-Authenticator = 0x00, Packet-Src-IP-Address = 127.0.0.4`

// drive sends through s what a NAS does with the planted credentials:
// logins of every profile, right and wrong, accounting, and requests that
// are dropped — a wrong shared secret with and without
// Message-Authenticator, on both ports, and an unknown client.
func (l *leakSetup) drive(t *testing.T, s *server) {
	t.Helper()
	sip := func(user, password string) string {
		return sipDigestByName(user, "REGISTER", password) + fromFireBrick
	}
	for _, tc := range []struct {
		what, secret, attrs, want string
		firebrick                 bool
	}{
		{"FaxBack login", l.nasPortserver, fmt.Sprintf(`User-Name = "leakacct", User-Password = %q, `, l.account) + login, "Received Access-Accept", false},
		{"FaxBack login, wrong password", l.nasPortserver, fmt.Sprintf(`User-Name = "leakacct", User-Password = %q, `, l.wrongAccount) + login, "Received Access-Reject", false},
		{"FaxBack login, unknown account", l.nasPortserver, fmt.Sprintf(`User-Name = "leaknobody", User-Password = %q, `, l.account) + login, "Received Access-Reject", false},
		{"PAP", l.nasGeneric, fmt.Sprintf(`User-Name = "leakpap", User-Password = %q`, l.pap) + fromGenericNAS, "Received Access-Accept", false},
		{"PAP, wrong password", l.nasGeneric, fmt.Sprintf(`User-Name = "leakpap", User-Password = %q`, l.wrongPAP) + fromGenericNAS, "Received Access-Reject", false},
		{"CHAP", l.nasGeneric, fmt.Sprintf(`User-Name = "leakchap", CHAP-Password = %q`, l.chap) + fromGenericNAS, "Received Access-Accept", false},
		{"CHAP, wrong password", l.nasGeneric, fmt.Sprintf(`User-Name = "leakchap", CHAP-Password = %q`, l.wrongCHAP) + fromGenericNAS, "Received Access-Reject", false},
		{"SIP REGISTER", l.nasFirebrick, sip("leaksip", l.sip), "Received Access-Accept", true},
		{"SIP REGISTER, wrong password", l.nasFirebrick, sip("leaksip", l.wrongSIP), "Received Access-Reject", true},
		{"SIP REGISTER, user provisioned by HA1", l.nasFirebrick, sip("leakha1", l.ha1Password), "Received Access-Accept", true},
	} {
		var out string
		if tc.firebrick {
			out = firebrickRadclient(t, s.auth, tc.secret, tc.attrs)
		} else {
			out = radclient(t, s.auth, tc.secret, tc.attrs)
		}
		if !strings.Contains(out, tc.want) {
			t.Errorf("%s: want %q in:\n%s", tc.what, tc.want, out)
		}
	}

	// kradius's own challenge, its nonce signed with the planted key.
	out := firebrickRadclient(t, s.auth, l.nasChallenge, `User-Name = "leaksip", Digest-Method = "REGISTER", Digest-URI = "sip:sip.example"`+fromChallengeClient)
	_, rest, ok := strings.Cut(out, `Digest-Nonce = "`)
	issued, _, _ := strings.Cut(rest, `"`)
	if !ok || len(issued) < 8 || !strings.Contains(out, "Received Access-Challenge") {
		t.Fatalf("no challenge with kradius's nonce:\n%s", out)
	}
	answer := func(n, password string) string {
		r := digest.Request{Method: "REGISTER", URI: "sip:sip.example", Nonce: n}
		r.Response = digest.Response(digest.HA1("leaksip", "sip.example", password), r)
		return fmt.Sprintf(`User-Name = "leaksip", Digest-Method = "REGISTER", Digest-URI = %q, Digest-Realm = "sip.example", Digest-Nonce = %q, Digest-Response = %q`, r.URI, n, r.Response) + fromChallengeClient
	}
	forged := issued[:len(issued)-2] + "AA"
	if forged == issued {
		forged = issued[:len(issued)-2] + "BB"
	}
	for _, tc := range []struct{ what, attrs, want string }{
		{"the nonce answered", answer(issued, l.sip), "Received Access-Accept"},
		{"the nonce answered, wrong password", answer(issued, l.wrongSIP), "Received Access-Reject"},
		{"a forged nonce", answer(forged, l.sip), "Received Access-Reject"},
	} {
		if out := firebrickRadclient(t, s.auth, l.nasChallenge, tc.attrs); !strings.Contains(out, tc.want) {
			t.Errorf("kradius's challenge, %s: want %q in:\n%s", tc.what, tc.want, out)
		}
	}

	// Accounting, acknowledged once durable.
	for _, status := range []string{"Start", "Stop"} {
		attrs := fmt.Sprintf(`Acct-Status-Type = %s, Acct-Session-Id = "leak-session", User-Name = "leakacct", FB-Dial-Number = "5551230000", FB-Is-Send = 1, Acct-Session-Time = 7`, status)
		if out := radacct(t, s.addr("acct"), l.nasPortserver, attrs); !strings.Contains(out, "Received Accounting-Response") {
			t.Errorf("accounting %s: want an Accounting-Response:\n%s", status, out)
		}
	}

	// Drops. The edge logs one per reason a second, so each is sent until
	// its own line is in the log.
	untilLogged(t, s, regexp.MustCompile(`reason=bad_authenticator .*client=`+l.name+`-generic .*Message-Authenticator does not match`), func() {
		sendFrom(t, "127.0.0.2", s.auth, leakAccessRequest(t, l.wrongNAS, "leakpap", l.pap, true))
	})
	// Without Message-Authenticator the server can tell a wrong secret only
	// by the password it decrypts: noise, not zero-padded or not text. Each
	// send has a new authenticator, so noise that happened to pass would
	// only delay the line.
	untilLogged(t, s, regexp.MustCompile(`reason=bad_authenticator .*client=`+l.name+`-portserver .*User-Password decodes to noise`), func() {
		sendFrom(t, "127.0.0.1", s.auth, leakAccessRequest(t, l.wrongNAS, "leakacct", l.account, false))
	})
	untilLogged(t, s, regexp.MustCompile(`reason=bad_authenticator .*listener=acct .*client=`+l.name+`-portserver`), func() {
		sendFrom(t, "127.0.0.1", s.addr("acct"), leakAccountingRequest(t, l.wrongNAS))
	})
	untilLogged(t, s, regexp.MustCompile(`reason=unknown_client .*src=127\.0\.0\.9:`), func() {
		sendFrom(t, "127.0.0.9", s.auth, leakAccessRequest(t, l.nasPortserver, "leakacct", l.account, true))
	})
}

// leakAccessRequest is a FaxBack login encoded with secret, signed with
// Message-Authenticator when withMA, as a NAS with that secret sends it.
func leakAccessRequest(t *testing.T, secret, user, password string, withMA bool) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	rfc2865.UserName_SetString(p, user)
	rfc2865.UserPassword_SetString(p, password)
	fbattr.FBCommand_Set(p, fbattr.FBCommand_Value_GetAccount)
	fbattr.FBContext_Set(p, fbattr.FBContext_Value_AccountLogin)
	if withMA {
		p.Add(80, make(radius.Attribute, 16)) // Message-Authenticator, filled below
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if withMA {
		// RFC 3579 3.2: HMAC-MD5 over the packet with the attribute zeroed.
		mac := hmac.New(md5.New, []byte(secret))
		mac.Write(b)
		for i := 20; i+1 < len(b); i += int(b[i+1]) {
			if b[i] == 80 {
				copy(b[i+2:i+18], mac.Sum(nil))
				break
			}
		}
	}
	return b
}

// leakAccountingRequest is a Stop encoded with secret.
func leakAccountingRequest(t *testing.T, secret string) []byte {
	t.Helper()
	p := radius.New(radius.CodeAccountingRequest, []byte(secret))
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(p, "leak-wrong-secret")
	rfc2865.UserName_SetString(p, "leakacct")
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sendFrom sends one datagram from the address from, and waits for no
// reply: the drop counters and log lines are what the test waits on.
func sendFrom(t *testing.T, from, to string, b []byte) {
	t.Helper()
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)}, mustResolve(t, to))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
}

// untilLogged calls send until s's log has a line matching re.
func untilLogged(t *testing.T, s *server, re *regexp.Regexp, send func()) {
	t.Helper()
	eventually.True(t, "a log line matching "+re.String(), func() bool {
		if re.MatchString(s.logText()) {
			return true
		}
		send()
		return false
	})
}

// distributedLeak is the distributed shape's configuration, and the
// credentials the failure cases replace.
type distributedLeak struct {
	l                                              *leakSetup
	pki                                            leakPKI
	redis, broker                                  string
	redisPasswordFile, saslPasswordFile, clientKey string
}

func (d distributedLeak) config(t *testing.T) string {
	t.Helper()
	cfg := d.l.config(t, fmt.Sprintf(`
store:
  backend: redis
  redis:
    addresses: [%s]
    username: kradius
    password_file: %s
grpc:
  tls:
    cert_file: %s
    key_file: %s
    client_ca_file: %s
accounting:
  log: kafka
  kafka:
    brokers: [%s]
    create_topics: true
    replication_factor: 1
    partitions: 1
    sasl:
      mechanism: SCRAM-SHA-256
      username: kradius
      password_file: %s
`, d.redis, d.redisPasswordFile, d.pki.serverCert, d.pki.serverKey, d.pki.ca, d.broker, d.saslPasswordFile))
	// withBudgets wrote the backends section; its TLS goes in it.
	return replaceOnce(t, cfg, "\nbackends:\n", fmt.Sprintf("\nbackends:\n  tls:\n    ca_file: %s\n    cert_file: %s\n    key_file: %s\n",
		d.pki.ca, d.pki.clientCert, d.clientKey))
}

// addRedisUser makes user, with password, the only one Redis lets in.
func addRedisUser(t *testing.T, addr, user, password string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
	defer cancel()
	if err := rdb.Do(ctx, "ACL", "SETUSER", user, "on", ">"+password, "~*", "&*", "+@all").Err(); err != nil {
		t.Fatalf("ACL SETUSER %s: %v", user, err)
	}
	if err := rdb.Do(ctx, "ACL", "SETUSER", "default", "off").Err(); err != nil {
		t.Fatalf("ACL SETUSER default off: %v", err)
	}
}

// leakPKI is a CA and the certificates it signs for the gRPC links, with
// their keys planted.
type leakPKI struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func writeLeakPKI(t *testing.T, dir string, p *planted) leakPKI {
	t.Helper()
	caKey := newECKey(t)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kradius leak test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	writePEM := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (cert, key string) {
		k := newECKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		scalar, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		p.add(name+" private key", scalar)
		p.add(name+" private key, PKCS #8", keyDER)
		key = writePEM(name+".key", "PRIVATE KEY", keyDER)
		body, _ := os.ReadFile(key)
		for i, line := range strings.Split(string(body), "\n") {
			if line != "" && !strings.HasPrefix(line, "-----") {
				p.addAsIs(fmt.Sprintf("%s private key, PEM line %d", name, i), line)
			}
		}
		return writePEM(name+".crt", "CERTIFICATE", der), key
	}
	pki := leakPKI{ca: writePEM("ca.crt", "CERTIFICATE", caDER)}
	pki.serverCert, pki.serverKey = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	pki.clientCert, pki.clientKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return pki
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// runUntilExit runs kradius with args, which must fail, and returns what
// it printed; it fails the test unless kradius exits 1 within the bound.
func runUntilExit(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(eventually.Limit):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("kradius %s did not exit within %s:\n%s", strings.Join(args, " "), eventually.Limit, out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("kradius %s: exit %d, want 1:\n%s", strings.Join(args, " "), code, out.String())
	}
	return out.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// metricsText is s's whole /metrics page.
func metricsText(t *testing.T, s *server) string {
	t.Helper()
	resp, err := http.Get("http://" + s.ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// leakOutput is one text the test reads: a process's log, a /metrics
// page, a command's output. want are lines it must hold, so that the test
// knows it read the paths it drove, not an empty or truncated text.
type leakOutput struct {
	what, text string
	want       []string
}

// check fails the test for each planted secret any output holds, and for
// each output that lacks what it should hold. The clients' names, random
// too, are the control: the same search finds them in the drop lines.
func (l *leakSetup) check(t *testing.T, outputs []leakOutput) {
	t.Helper()
	control := false
	for _, o := range outputs {
		for _, w := range o.want {
			if !strings.Contains(o.text, w) {
				t.Errorf("%s lacks %q:\n%s", o.what, w, o.text)
			}
		}
		for _, found := range l.p.find(o.text) {
			t.Errorf("%s holds %s", o.what, found)
		}
		// Redacted or not, a key or a password hash has no place there.
		for _, marker := range []string{"PRIVATE KEY", "$argon2id$"} {
			if strings.Contains(o.text, marker) {
				t.Errorf("%s holds %q", o.what, marker)
			}
		}
		control = control || len(findForms(o.text, []byte(l.name+"-portserver"))) > 0
	}
	if !control {
		t.Errorf("the search does not find the client %s-portserver named in the drop lines", l.name)
	}
	if t.Failed() {
		t.Logf("%d secrets planted, each looked for as %s", len(l.p.secrets), strings.Join(formNames, ", "))
	}
}

// planted is every secret a test plants, each looked for in every form a
// logger might print it in.
type planted struct {
	secrets []plantedSecret
}

type plantedSecret struct {
	what  string
	value []byte
	asIs  bool // a fragment of a larger secret (a PEM line): no other form
}

// string plants a new secret: distinctive, random, so that a search can
// neither miss it nor find it by chance.
func (p *planted) string(what string) string {
	s := what + "-" + rand.Text()
	p.add(what, []byte(s))
	return s
}

func (p *planted) add(what string, value []byte) {
	p.secrets = append(p.secrets, plantedSecret{what: what, value: value})
}

func (p *planted) addAsIs(what, value string) {
	p.secrets = append(p.secrets, plantedSecret{what: what, value: []byte(value), asIs: true})
}

// find names each planted secret text holds, and in which form.
func (p *planted) find(text string) []string {
	var found []string
	for _, s := range p.secrets {
		if s.asIs {
			if strings.Contains(text, string(s.value)) {
				found = append(found, s.what)
			}
			continue
		}
		for _, form := range findForms(text, s.value) {
			found = append(found, s.what+" ("+form+")")
		}
	}
	return found
}

var formNames = []string{"clear", "hex", "HEX", "base64", "base64url", "Go's %v of []byte"}

// findForms returns the forms of b that text holds: as is, in hex either
// case, in base64 (standard and URL, the unpadded form a substring of the
// padded one), and as fmt prints a []byte with %v.
func findForms(text string, b []byte) []string {
	decimal := strings.Trim(fmt.Sprint(b), "[]")
	var found []string
	for i, f := range []string{
		string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.RawStdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), decimal,
	} {
		if strings.Contains(text, f) {
			found = append(found, formNames[i])
		}
	}
	return found
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
