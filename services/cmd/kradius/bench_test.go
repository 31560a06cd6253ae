package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/loadgen"
)

func TestBenchPoolFlags(t *testing.T) {
	defaults := poolFlags{mix: "register,invite", pick: "rr", poolPrefix: "user", poolPassword: "password",
		didPoolPrefix: "555", sipPoolPrefix: "sip", sipPoolPassword: "password", dialledPoolPrefix: "44"}
	tests := []struct {
		name     string
		change   func(*poolFlags)
		sipUsers []loadgen.Account
		dialled  []string
	}{
		{"the demo's", func(*poolFlags) {}, []loadgen.Account{{Name: "office1", Password: "s3cret"}}, []string{"201"}},
		{"pools instead", func(f *poolFlags) { f.sipPoolSize, f.dialledPoolSize = 2, 2 },
			[]loadgen.Account{{Name: "sip0", Password: "password"}, {Name: "sip1", Password: "password"}},
			[]string{"4400000000", "4400000001"}},
		{"listed and a pool", func(f *poolFlags) { f.sipUsers, f.sipPoolSize, f.dialled = "a:x", 1, "9,8" },
			[]loadgen.Account{{Name: "a", Password: "x"}, {Name: "sip0", Password: "password"}},
			[]string{"9", "8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := defaults
			tt.change(&f)
			var cfg loadgen.Config
			if err := f.apply(&cfg); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.SIPUsers, tt.sipUsers) || !reflect.DeepEqual(cfg.Dialled, tt.dialled) {
				t.Errorf("SIP users %v, dialled %v; want %v, %v", cfg.SIPUsers, cfg.Dialled, tt.sipUsers, tt.dialled)
			}
		})
	}
	for _, bad := range []func(*poolFlags){
		func(f *poolFlags) { f.sipPoolSize = -1 },
		func(f *poolFlags) { f.dialledPoolSize = -1 },
		func(f *poolFlags) { f.sipUsers = "nopassword" },
		func(f *poolFlags) { f.dialled = "1,,2" },
	} {
		f := defaults
		bad(&f)
		if err := f.apply(&loadgen.Config{}); err == nil {
			t.Errorf("%+v: accepted", f)
		}
	}
}

func TestBenchDialogicFlags(t *testing.T) {
	f := poolFlags{mix: "dialogic", pick: "rr", poolPrefix: "user", poolPassword: "password",
		didPoolPrefix: "555", sipPoolPrefix: "sip", sipPoolPassword: "password", dialledPoolPrefix: "44"}
	for _, tt := range []struct {
		poolSize int
		want     []string
	}{{0, []string{"201"}}, {2, []string{"4400000000", "4400000001"}}} {
		f.dialledPoolSize = tt.poolSize
		cfg := loadgen.Config{Server: "127.0.0.1:1812", Secret: "testing123", Concurrency: 1, Sockets: 1, Count: 1, Timeout: time.Second}
		if err := f.apply(&cfg); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cfg.Mix, []loadgen.Weight{{Kind: loadgen.KindDialogic, Weight: 1}}) || !reflect.DeepEqual(cfg.Dialled, tt.want) {
			t.Errorf("-dialled-pool-size %d: mix %v, dialled %v; want dialogic, %v", tt.poolSize, cfg.Mix, cfg.Dialled, tt.want)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("-dialled-pool-size %d: %v", tt.poolSize, err)
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-mix", "register", "-source", "nowhere"},
		{"-mix", "register", "-sip-realm", ""},
		{"-mix", "dialogic", "-source", "::1"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runBench(args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "invalid configuration") {
			t.Errorf("kradius bench %v: exit %d, stderr %q; want 2 and the invalid configuration", args, code, stderr.String())
		}
	}
}
