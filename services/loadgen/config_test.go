package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // in the error; empty: valid
	}{
		{"valid", func(*Config) {}, ""},
		{"256 per socket", func(c *Config) { c.Concurrency, c.Sockets = 1024, 4 }, ""},
		{"count only", func(c *Config) { c.Duration = 0 }, ""},
		{"duration only", func(c *Config) { c.Count = 0 }, ""},
		{"more in flight than Identifiers", func(c *Config) { c.Concurrency, c.Sockets = 257, 1 }, "use at least 2 sockets"},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }, "concurrency"},
		{"no sockets", func(c *Config) { c.Sockets = 0 }, "sockets"},
		{"neither duration nor count", func(c *Config) { c.Duration, c.Count = 0, 0 }, "duration"},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "rate"},
		{"no timeout", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"no secret", func(c *Config) { c.Secret = "" }, "secret"},
		{"no port", func(c *Config) { c.Server = "127.0.0.1" }, "server"},
		{"unspecified address", func(c *Config) { c.Server = "0.0.0.0:1812" }, "server"},
		{"bad acct server", func(c *Config) { c.AcctServer = "nowhere" }, "acct server"},
		{"empty mix", func(c *Config) { c.Mix = nil }, "mix: empty"},
		{"a kind twice", func(c *Config) { c.Mix = []Weight{{KindDID, 1}, {KindDID, 2}} }, "did twice"},
		{"zero weight", func(c *Config) { c.Mix = []Weight{{KindDID, 0}} }, "weight 0"},
		{"login without accounts", func(c *Config) { c.Accounts = nil }, "accounts"},
		{"acct without accounts", func(c *Config) { c.Mix, c.Accounts = []Weight{{KindAcct, 1}}, nil }, "accounts"},
		{"did without DIDs", func(c *Config) { c.Mix, c.DIDs = []Weight{{KindDID, 1}}, nil }, "dids"},
		{"did mix ignores accounts", func(c *Config) { c.Mix, c.Accounts = []Weight{{KindDID, 1}}, nil }, ""},
		{"password too long", func(c *Config) { c.Accounts = []Account{{"a", strings.Repeat("p", 129)}} }, "password of 129"},
		{"empty name", func(c *Config) { c.Accounts = []Account{{"", "p"}} }, "accounts[0]"},
		{"every problem at once", func(c *Config) { c.Secret, c.Timeout = "", 0 }, "timeout"},
		{"register", func(c *Config) { *c = firebrickConfig(c.Server, Weight{KindRegister, 1}) }, ""},
		{"invite", func(c *Config) { *c = firebrickConfig(c.Server, Weight{KindInvite, 1}) }, ""},
		{"register without SIP users", func(c *Config) { *c = firebrickConfig(c.Server, Weight{KindRegister, 1}); c.SIPUsers = nil }, "sip users"},
		{"invite without SIP users", func(c *Config) { *c = firebrickConfig(c.Server, Weight{KindInvite, 1}); c.SIPUsers = nil }, "sip users"},
		{"register without a realm", func(c *Config) { *c = firebrickConfig(c.Server, Weight{KindRegister, 1}); c.Realm = "" }, "realm"},
		{"realm too long for the URI", func(c *Config) {
			*c = firebrickConfig(c.Server, Weight{KindRegister, 1})
			c.Realm = strings.Repeat("r", 250)
		}, "realm: 250 bytes"},
		{"invite without dialled numbers", func(c *Config) { *c = firebrickConfig(c.Server, Weight{KindInvite, 1}); c.Dialled = nil }, "dialled"},
		{"invite needs no realm", func(c *Config) { *c = firebrickConfig(c.Server, Weight{KindInvite, 1}); c.Realm = "" }, ""},
		{"SIP user name too long for its CUI", func(c *Config) {
			*c = firebrickConfig(c.Server, Weight{KindInvite, 1})
			c.SIPUsers = []Account{{strings.Repeat("n", 250), "pw"}}
		}, "sip users[0]"},
		{"dialogic", func(c *Config) { *c = dialogicConfig(c.Server) }, ""},
		{"dialogic without dialled numbers", func(c *Config) { *c = dialogicConfig(c.Server); c.Dialled = nil }, "dialled"},
		{"dialogic needs no accounts", func(c *Config) { *c = dialogicConfig(c.Server); c.Accounts = nil }, ""},
		{"source not an address", func(c *Config) { c.Source = "localhost" }, "source"},
		{"source IPv6, server IPv4", func(c *Config) { c.Source = "::1" }, "IPv6"},
		{"source IPv4", func(c *Config) { c.Source = "127.0.0.3" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("127.0.0.1:1812")
			tt.change(&cfg)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestAcctServerDefault(t *testing.T) {
	tests := []struct{ server, acct, want string }{
		{"127.0.0.1:21812", "", "127.0.0.1:1813"},
		{"[::1]:1812", "", "[::1]:1813"},
		{"127.0.0.1:1812", "127.0.0.2:9", "127.0.0.2:9"},
	}
	for _, tt := range tests {
		c := Config{Server: tt.server, AcctServer: tt.acct, Timeout: time.Second}
		if got := c.acctServer(); got != tt.want {
			t.Errorf("acctServer(%q, %q) = %q, want %q", tt.server, tt.acct, got, tt.want)
		}
	}
}
