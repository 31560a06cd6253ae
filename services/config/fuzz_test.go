package config

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
	"layeh.com/radius"

	"kradius.dev/services/edge"
	"kradius.dev/services/nas"
)

// fuzzClientsFile is the client table the fuzzed configs may name as
// clients_file, beside the secret file both may name.
const fuzzClientsFile = `clients:
  - name: office
    cidrs: [192.0.2.0/24, 2001:db8::1]
    secret_file: secret
    profile: firebrick
`

// FuzzLoad reads arbitrary bytes as the configuration file and as a
// client-table file. Nothing may panic, and what is accepted is what
// kradius can start on and what the operator, which writes the file with
// yaml.Marshal, can pass on: Validate accepts it again, unchanged; written
// out and read back, it is accepted and writes out the same; every client
// has a secret and its address ranges, and the clients of the file and of
// the clients file make an edge client table.
func FuzzLoad(f *testing.F) {
	demo, err := os.ReadFile("../../deploy/examples/kradius.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, doc := range []string{
		string(demo),
		client,
		client + "      message_authenticator: require\n      faxback:\n        uuid_format: hex\n",
		"edge:\n  clients_file: clients.yaml\n",
		"edge:\n  clients:\n    - {name: a, cidrs: [10.0.0.0/8], secret_file: secret, profile: generic}\n",
		"target: accounts\nstore:\n  backend: redis\n  redis:\n    addresses: [127.0.0.1:6379]\n",
		"target: edge\nbackends: {accounts: 'a:1', dids: 'd:1'}\naccounting:\n  kafka:\n    brokers: [k:9092]\n",
		"target: cdr\nstore: {backend: redis, redis: {addresses: ['r:1']}}\naccounting: {kafka: {brokers: ['k:1']}}\n",
		"tracing:\n  enabled: true\n  protocol: http\n  sampling_ratio: 0.5\n",
		fuzzClientsFile,
	} {
		f.Add([]byte(doc))
	}
	dir := f.TempDir()
	for name, text := range map[string]string{"secret": "from-a-file\n", "clients.yaml": fuzzClientsFile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		fuzzConfig(t, dir, doc)
		fuzzClients(t, dir, doc)
	})
}

func fuzzConfig(t *testing.T, dir string, doc []byte) {
	t.Helper()
	cfg := Default()
	if err := cfg.decodeFile(doc, filepath.Join(dir, "kradius.yaml")); err != nil ||
		!fuzzInside(dir, cfg.Edge.Clients, cfg.Edge.ClientsFile) {
		return
	}
	if err := cfg.Validate(); err != nil {
		return
	}
	again := cfg
	if err := again.Validate(); err != nil || !reflect.DeepEqual(again, cfg) {
		t.Fatalf("validated twice: %v, %+v; once: %+v", err, again, cfg)
	}
	fuzzRoundTrip(t, dir, cfg)
	table := fuzzEdgeClients(t, cfg.Edge.Clients, cfg.Edge.secrets)
	if cfg.Edge.ClientsFile != "" {
		more, secrets, err := LoadClientsFile(cfg.Edge.ClientsFile)
		if err != nil {
			t.Fatalf("Validate took the clients file, LoadClientsFile does not: %v", err)
		}
		table = append(table, fuzzEdgeClients(t, more, secrets)...)
	}
	if _, err := edge.NewClientTable(table); err != nil {
		t.Fatalf("accepted clients make no client table: %v", err)
	}
}

func fuzzClients(t *testing.T, dir string, doc []byte) {
	t.Helper()
	var probe clientsFile
	if yaml.Unmarshal(doc, &probe) != nil || !fuzzInside(dir, probe.Clients) {
		return // decodeClientsFile would read files outside dir
	}
	clients, secrets, err := decodeClientsFile(doc, filepath.Join(dir, "fuzz-clients.yaml"))
	if err != nil {
		return
	}
	if _, err := edge.NewClientTable(fuzzEdgeClients(t, clients, secrets)); err != nil {
		t.Fatalf("accepted clients make no client table: %v", err)
	}
}

// fuzzInside says whether the files Validate reads, the secret files and
// the clients file, lie in dir: reading /dev/zero would never end.
// Relative paths are taken against dir, as the loaders take them.
func fuzzInside(dir string, clients []ClientConfig, files ...string) bool {
	for _, cl := range clients {
		files = append(files, cl.SecretFile)
	}
	for _, p := range files {
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if rel, err := filepath.Rel(dir, p); err != nil || !filepath.IsLocal(rel) {
			return false
		}
	}
	return true
}

// fuzzRoundTrip writes cfg out as the operator does and reads it back.
func fuzzRoundTrip(t *testing.T, dir string, cfg Config) {
	t.Helper()
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatalf("an accepted config does not marshal: %v", err)
	}
	back := Default()
	if err := back.decodeFile(out, filepath.Join(dir, "kradius.yaml")); err != nil {
		t.Fatalf("written out, the config does not read back: %v\n%s", err, out)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("written out and read back, the config is refused: %v\n%s", err, out)
	}
	if again, err := yaml.Marshal(back); err != nil || !bytes.Equal(again, out) {
		t.Fatalf("written out and read back, the config writes out otherwise (%v):\n%s\nfirst:\n%s", err, again, out)
	}
}

// fuzzEdgeClients makes the edge's clients of a validated list, as the app
// does.
func fuzzEdgeClients(t *testing.T, clients []ClientConfig, secrets map[string][]byte) []*edge.Client {
	t.Helper()
	var out []*edge.Client
	for _, cl := range clients {
		if len(secrets[cl.Name]) == 0 {
			t.Fatalf("client %q accepted without a secret", cl.Name)
		}
		if p := cl.Prefixes(); len(p) != len(cl.CIDRs) {
			t.Fatalf("client %q: address ranges %v, of %q", cl.Name, p, cl.CIDRs)
		}
		out = append(out, &edge.Client{Name: cl.Name, Profile: cl.Profile, Prefixes: cl.Prefixes(), Secret: secrets[cl.Name], Handler: fuzzHandler{}})
	}
	return out
}

// fuzzHandler stands for a profile's handler, which the table only holds.
type fuzzHandler struct{}

func (fuzzHandler) ServeAccess(context.Context, *nas.Request) (*radius.Packet, error) {
	return nil, nil
}
