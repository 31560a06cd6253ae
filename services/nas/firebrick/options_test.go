package firebrick

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func options(t *testing.T, text string) (Options, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(text), &node); err != nil {
		t.Fatal(err)
	}
	var block *yaml.Node
	if len(node.Content) > 0 {
		block = node.Content[0]
	}
	o, err := decodeOptions(block)
	if err != nil {
		return Options{}, err
	}
	return o.(Options), nil
}

func TestOptionDefaults(t *testing.T) {
	o, err := options(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.SIPAORAttribute != 121 || o.Challenge != ChallengeFireBrick || o.RegisterBinding != BindCalled || o.MaxRegistration != time.Hour || o.NonceTTL != 5*time.Minute {
		t.Errorf("defaults: %+v", o)
	}
}

func TestOptions(t *testing.T) {
	key := filepath.Join(t.TempDir(), "nonce.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("k", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	if err := os.WriteFile(short, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := options(t, "sip_aor_attribute: 122\nchallenge: kradius\nrealm: sip.example\nnonce_key_file: "+key+"\nnonce_ttl: 30s\nregister_binding: calling-station-id\nmax_registration: 10m\n")
	if err != nil {
		t.Fatal(err)
	}
	if o.SIPAORAttribute != 122 || o.signer == nil || o.NonceTTL != 30*time.Second || o.RegisterBinding != BindCalling || o.MaxRegistration != 10*time.Minute {
		t.Errorf("options: %+v", o)
	}
	for _, tc := range []struct{ text, want string }{
		{"sip_aor_attribute: 123\n", "sip_aor_attribute: 123 is not 121"},
		{"challenge: server\n", `challenge: "server" is not`},
		{"challenge: kradius\nnonce_key_file: " + key + "\n", "realm: required"},
		{"challenge: kradius\nrealm: r\n", "nonce_key_file: required"},
		{"challenge: kradius\nrealm: r\nnonce_key_file: /nonexistent\n", "nonce_key_file: open /nonexistent"},
		{"challenge: kradius\nrealm: r\nnonce_key_file: " + short + "\n", "nonce_key_file: nonce key: 1 bytes"},
		{"register_binding: to\n", `register_binding: "to"`},
		{"max_registration: 10ms\n", "max_registration: 10ms: at least 1s"},
		{"nonce_tll: 1s\n", "nonce_tll: unknown option"},
	} {
		if _, err := options(t, tc.text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.text, err, tc.want)
		}
	}
}
