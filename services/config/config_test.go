package config

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/tlstest"
)

func load(t *testing.T, yamlText string, args ...string) (Config, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "kradius.yaml")
	if err := os.WriteFile(path, []byte(yamlText), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("kradius", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(append([]string{"-config", path}, args...), fs)
}

const client = `
edge:
  clients:
    - name: portserver
      cidrs: [127.0.0.1, 10.0.0.0/8]
      secret: testing123
      profile: faxback
`

func TestLoadFileAndFlags(t *testing.T) {
	cfg, err := load(t, client+`
  request_timeout: 250ms
store:
  embedded:
    path: data/x.db
`, "-edge.auth-listen", "127.0.0.1:11812")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Edge.AuthListen != "127.0.0.1:11812" {
		t.Errorf("flag did not override: %q", cfg.Edge.AuthListen)
	}
	if cfg.Edge.AcctListen != ":1813" {
		t.Errorf("default lost: %q", cfg.Edge.AcctListen)
	}
	if time.Duration(cfg.Edge.RequestTimeout) != 250*time.Millisecond {
		t.Errorf("request_timeout = %v", cfg.Edge.RequestTimeout)
	}
	if !filepath.IsAbs(cfg.Store.Embedded.Path) || !strings.HasSuffix(cfg.Store.Embedded.Path, "data/x.db") {
		t.Errorf("relative path not resolved against the file: %q", cfg.Store.Embedded.Path)
	}
	if got := string(cfg.Edge.Secret("portserver")); got != "testing123" {
		t.Errorf("secret = %q", got)
	}
	if p := cfg.Edge.Clients[0].Prefixes(); len(p) != 2 || p[0].String() != "127.0.0.1/32" {
		t.Errorf("prefixes = %v", p)
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("from-a-file\n"), 0o600)
	cfg, err := load(t, strings.Replace(client, "secret: testing123", "secret_file: "+filepath.Join(dir, "secret"), 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(cfg.Edge.Secret("portserver")); got != "from-a-file" {
		t.Errorf("secret = %q", got)
	}
}

func TestValidationNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		args       []string
		want       string
	}{
		{"unknown key", "edge:\n  workerz: 3\n", nil, "field workerz not found"},
		{"bad target", "target: everything\n", nil, `target: "everything" is not one of`},
		{"bad target flag", "", []string{"-target", "x"}, `target: "x"`},
		{"bad duration", "edge:\n  request_timeout: soon\n", nil, `"soon" is not a duration`},
		{"bad cidr", strings.Replace(client, "10.0.0.0/8", "10.0.0.0/33", 1), nil, `edge.clients[0].cidrs[1]: "10.0.0.0/33"`},
		{"no secret", strings.Replace(client, "secret: testing123", "", 1), nil, "edge.clients[0].secret: must not be empty"},
		{"missing secret file", strings.Replace(client, "secret: testing123", "secret_file: /nonexistent", 1), nil, "edge.clients[0].secret_file:"},
		{"range claimed twice", client + "    - {name: other, cidrs: [10.1.2.3/8], secret: x, profile: generic}\n", nil, "edge.clients[1].cidrs[0]: 10.0.0.0/8 is also claimed by edge.clients[0]"},
		{"range claimed twice by one client", strings.Replace(client, "10.0.0.0/8", "127.0.0.1/32", 1), nil, "edge.clients[0].cidrs[1]: 127.0.0.1/32 is also claimed by edge.clients[0]"},
		{"bad profile", strings.Replace(client, "faxback", "cisco", 1), nil, `edge.clients[0].profile: "cisco"`},
		{"bad policy", client + "      message_authenticator: maybe\n", nil, `edge.clients[0].message_authenticator: "maybe"`},
		{"negative rate", client + "      rate_limit: {requests_per_second: -5}\n", nil, "edge.clients[0].rate_limit.requests_per_second: -5 is not a rate"},
		{"burst without rate", client + "      rate_limit: {burst: 100}\n", nil, "edge.clients[0].rate_limit.burst: a burst without requests_per_second limits nothing"},
		{"misspelt rate key", client + "      rate_limit: {rps: 100}\n", nil, "field rps not found"},
		{"bad listen", "edge:\n  auth_listen: 1812\n", nil, `edge.auth_listen: "1812" is not a host:port`},
		{"negative workers", "edge:\n  workers: -1\n", nil, "edge.workers: must not be negative"},
		{"negative acct workers", "edge:\n  acct_workers: -1\n", nil, "edge.acct_workers: must not be negative"},
		{"missing bootstrap", "store:\n  bootstrap: [nope.yaml]\n", nil, "store.bootstrap[0]:"},
		{"CDR cap below retention", "accounting:\n  journal:\n    cdr_max_bytes: 1000000\n", nil, "accounting.journal.cdr_max_bytes: 1000000 is below its retention"},
		{"CDR retention below a segment", "accounting:\n  journal:\n    cdr_retention_bytes: 1000\n", nil, "cdr_retention_bytes"},
		{"settlement in the ledger", "accounting:\n  journal:\n    ledger: state/x.db\n    settlement: state/./x.db\n", nil, "accounting.journal.settlement: "},
		{"log format", "log:\n  format: xml\n", nil, `log.format: "xml"`},
		{"uuid format", client + "      faxback:\n        uuid_format: base64\n", nil, `edge.clients[0].faxback.uuid_format: "base64"`},
		{"uuid format not a string", client + "      faxback:\n        uuid_format: [hex]\n", nil, `edge.clients[0].faxback.uuid_format: line 9: cannot unmarshal !!seq`},
		{"unknown faxback option", client + "      faxback:\n        uuid_mode: hex\n", nil, `edge.clients[0].faxback.uuid_mode: unknown option (known: uuid_format)`},
		{"options of another profile", strings.Replace(client, "profile: faxback", "profile: generic", 1) + "      faxback:\n        uuid_format: hex\n", nil, `edge.clients[0].faxback: set for a "generic" client`},
		{"unknown client key", client + "      cisco:\n        x: 1\n", nil, `edge.clients[0].cisco: unknown key`},
		{"generic takes no options", strings.Replace(client, "profile: faxback", "profile: generic", 1) + "      generic:\n        x: 1\n", nil, `edge.clients[0].generic.x: unknown option: the profile has none`},
		{"edge without backends", "target: edge\n", nil, `backends.accounts: "" is not a host:port`},
		{"accounts on embedded", "target: accounts\n", nil, "store.backend: -target=accounts shares its store"},
		{"redis without addresses", "store:\n  backend: redis\n", nil, "store.redis.addresses: must list"},
		{"redis prefix without hash tag", "store:\n  backend: redis\n  redis:\n    addresses: [127.0.0.1:6379]\n    key_prefix: kradius\n", nil, `store.redis.key_prefix: "kradius" must start with a {hash tag}`},
		{"empty hash tag", "store:\n  backend: redis\n  redis:\n    addresses: [127.0.0.1:6379]\n    key_prefix: \"{}x\"\n", nil, `store.redis.key_prefix: "{}x" must start with a {hash tag}`},
		{"shared reply cache without redis", "edge:\n  reply_cache:\n    shared: redis\n", nil, "edge.reply_cache.shared: redis needs store.redis.addresses"},
		{"shared reply cache elsewhere", "edge:\n  reply_cache:\n    shared: memcached\n", nil, `edge.reply_cache.shared: "memcached" is not one of`},
		{"shared reply cache prefix", "edge:\n  reply_cache:\n    shared: redis\nstore:\n  redis:\n    addresses: [127.0.0.1:6379]\n    key_prefix: kradius\n", nil, `store.redis.key_prefix: "kradius" must start with a {hash tag}`},
		{"negative redis timeout", "edge:\n  reply_cache:\n    redis_timeout: -1s\n", nil, "edge.reply_cache.redis_timeout: must not be negative"},
		{"negative queue wait", "edge:\n  max_queue_wait: -1s\n", nil, "edge.max_queue_wait: must not be negative"},
		{"negative argon2 runs", "password:\n  max_running: -1\n", nil, "password.max_running: must not be negative"},
		{"negative waiting password checks", "password:\n  max_waiting: -1\n", nil, "password.max_waiting: must not be negative"},
		{"bad backend timeout flag", "", []string{"-backends.timeout", "soon"}, `invalid value "soon"`},
		{"negative cache", "backends:\n  cache:\n    max_entries: -1\n", nil, "backends.cache.max_entries: must be 0 (off) or positive"},
		{"cache without ttl", "backends:\n  cache:\n    ttl: 0s\n", nil, "backends.cache.ttl: must be positive"},
		{"admin listen", "admin:\n  listen: nowhere\n", nil, `admin.listen: "nowhere"`},
		{"radsec without certificates", "edge:\n  radsec:\n    listen: 127.0.0.1:2083\n", nil, "edge.radsec.tls.client_ca_file: must be set"},
		{"radsec bad listen", "edge:\n  radsec:\n    listen: 2083\n", nil, `edge.radsec.listen: "2083" is not host:port`},
		{"radsec unreadable certificate", "edge:\n  radsec:\n    listen: :2083\n    tls: {cert_file: /nonexistent.crt, key_file: /nonexistent.key, client_ca_file: /nonexistent-ca.crt}\n", nil, "edge.radsec.tls: loading server certificate"},
		{"radsec client without identities or cidrs", "edge:\n  clients:\n    - {name: nas, profile: faxback, radsec: {identities: []}}\n", nil, "edge.clients[0].cidrs: must list at least one address range (or, for a RadSec client, set radsec.identities)"},
		{"radsec-only client with a secret", "edge:\n  clients:\n    - {name: nas, profile: faxback, secret: x, radsec: {identities: [nas.example]}}\n", nil, `edge.clients[0]: a RadSec-only client (no cidrs) uses RFC 6614's secret`},
		{"radsec identity twice", client + "    - {name: b, profile: faxback, radsec: {identities: [a.example]}}\n    - {name: c, profile: faxback, radsec: {identities: [A.example]}}\n", nil, `edge.clients[2].radsec.identities[0]: "A.example" is also edge.clients[1]'s`},
		{"radsec empty identity", "edge:\n  clients:\n    - {name: nas, profile: faxback, radsec: {identities: [\" \"]}}\n", nil, "edge.clients[0].radsec.identities[0]: must not be empty"},
	} {
		_, err := load(t, tc.yaml, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestDuplicateClientName(t *testing.T) {
	twice := client + `    - name: portserver
      cidrs: [192.0.2.1]
      secret: x
      profile: faxback
`
	if _, err := load(t, twice); err == nil || !strings.Contains(err.Error(), "edge.clients[1].name") {
		t.Fatalf("err = %v", err)
	}
}

// TestRangeClaimedByTheClientsFile: the edge makes one table of
// edge.clients and the clients file's, so a range may be claimed once in
// both together.
func TestRangeClaimedByTheClientsFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(file, []byte("clients:\n  - {name: nas, cidrs: [192.0.2.0/24, 10.9.9.9/8], secret: s, profile: generic}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := load(t, client+"  clients_file: "+file+"\n")
	if want := "edge.clients_file: clients[0].cidrs[1]: 10.0.0.0/8 is also claimed by edge.clients[0]"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
}

// TestRadSecConfig: a RadSec port with its certificates, and a client
// known only by its certificate, which needs no secret.
func TestRadSecConfig(t *testing.T) {
	dir := t.TempDir()
	ca, err := tlstest.NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := server.WriteFiles(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := ca.WriteFile(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, fmt.Sprintf(`edge:
  radsec:
    listen: 127.0.0.1:2083
    tls: {cert_file: %s, key_file: %s, client_ca_file: %s}
  clients:
    - {name: nas, profile: faxback, radsec: {identities: [nas.example]}}
`, cert, key, caFile))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Edge.RadSec.Enabled() || cfg.Edge.Clients[0].RadSec.Identities[0] != "nas.example" {
		t.Fatalf("radsec not loaded: %+v", cfg.Edge)
	}
}

// TestSettlementPath: the settlement totals' file defaults to
// settlement.db beside the ledger, wherever the ledger is.
func TestSettlementPath(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Accounting.Journal.Settlement, filepath.Join("data", "settlement.db"); got != want {
		t.Errorf("default: %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name, yaml string
		args       []string
		suffix     string
	}{
		{"beside a ledger set in the file", "accounting:\n  journal:\n    ledger: state/ledger.db\n", nil, "/state/settlement.db"},
		{"beside a ledger set by flag", "", []string{"-accounting.journal.ledger", "/var/lib/kradius/ledger.db"}, "/var/lib/kradius/settlement.db"},
		{"set in the file, relative to it", "accounting:\n  journal:\n    settlement: totals/s.db\n", nil, "/totals/s.db"},
		{"set by flag", "", []string{"-accounting.journal.settlement", "/srv/s.db"}, "/srv/s.db"},
	} {
		cfg, err := load(t, tc.yaml, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := cfg.Accounting.Journal.Settlement; !filepath.IsAbs(got) || !strings.HasSuffix(got, tc.suffix) {
			t.Errorf("%s: %q, want an absolute path ending %q", tc.name, got, tc.suffix)
		}
	}
}

func TestDefaultsAreValid(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
