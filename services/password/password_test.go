package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// cheap keeps tests and benchmarks fast; it is far below any real policy.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func mustHash(t testing.TB, pw string, p Params) string {
	t.Helper()
	h, err := Hash(pw, p)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return h
}

func TestHashFormat(t *testing.T) {
	h := mustHash(t, "secret", DefaultParams)
	// 16-byte salt and 32-byte key in unpadded base64: 22 and 43 characters.
	format := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !format.MatchString(h) {
		t.Errorf("Hash = %q, want it to match %s", h, format)
	}
	if again := mustHash(t, "secret", DefaultParams); again == h {
		t.Errorf("two hashes of one password are equal (%q): the salt is not random", h)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		encoded string
		pw      string
		want    bool
	}{
		{"round trip", mustHash(t, "correct horse", cheap), "correct horse", true},
		{"round trip, default params", mustHash(t, "correct horse", DefaultParams), "correct horse", true},
		{"wrong password", mustHash(t, "correct horse", cheap), "correct horsf", false},
		{"case matters", mustHash(t, "Secret", cheap), "secret", false},
		{"empty password", mustHash(t, "", cheap), "", true},
		{"empty against non-empty", mustHash(t, "x", cheap), "", false},
		{"UTF-8 password", mustHash(t, "pässwörd", cheap), "pässwörd", true},
		// Known answers from the argon2 reference implementation
		// (phc-winner-argon2 src/test.c), so hashes made elsewhere verify here.
		{"reference p=1", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "password", true},
		{"reference p=2", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", "password", true},
		{"reference, wrong password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "Password", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.encoded, tt.pw)
			if err != nil || got != tt.want {
				t.Errorf("Verify(%q, %q) = %v, %v; want %v, nil", tt.encoded, tt.pw, got, err, tt.want)
			}
		})
	}
}

// TestVerifyReadsParamsFromEncoding builds hashes by hand with parameters
// unlike DefaultParams; they must verify only as written.
func TestVerifyReadsParamsFromEncoding(t *testing.T) {
	salt := []byte("0123456789abcdef")
	enc := base64.RawStdEncoding.EncodeToString
	tests := []struct {
		p      Params
		keyLen uint32
	}{
		{Params{Memory: 32, Time: 3, Threads: 2}, 32},
		{Params{Memory: 128, Time: 1, Threads: 1}, 16},
		{Params{Memory: 19456, Time: 2, Threads: 1}, 64},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("m=%d,t=%d,p=%d,len=%d", tt.p.Memory, tt.p.Time, tt.p.Threads, tt.keyLen), func(t *testing.T) {
			key := argon2.IDKey([]byte("pw"), salt, tt.p.Time, tt.p.Memory, tt.p.Threads, tt.keyLen)
			encoded := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", tt.p.Memory, tt.p.Time, tt.p.Threads, enc(salt), enc(key))
			if ok, err := Verify(encoded, "pw"); !ok || err != nil {
				t.Errorf("Verify = %v, %v; want true", ok, err)
			}
			if got, err := ParseParams(encoded); err != nil || got != tt.p {
				t.Errorf("ParseParams = %+v, %v; want %+v", got, err, tt.p)
			}
			tampered := strings.Replace(encoded, fmt.Sprintf("t=%d", tt.p.Time), fmt.Sprintf("t=%d", tt.p.Time+1), 1)
			if ok, err := Verify(tampered, "pw"); ok || err != nil {
				t.Errorf("Verify with t changed = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	valid := "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key
	tests := []struct {
		name    string
		encoded string
		reason  string
	}{
		{"empty", "", "fields"},
		{"clear text", "password", "fields"},
		{"no leading $", strings.TrimPrefix(valid, "$"), "fields"},
		{"trailing $", valid + "$", "fields"},
		{"missing key", "$argon2id$v=19$m=256,t=2,p=1$" + salt, "fields"},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1), `algorithm "argon2i"`},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "fields"},
		{"version 16", strings.Replace(valid, "v=19", "v=16", 1), `version "v=16"`},
		{"no version", "$argon2id$m=256,t=2,p=1$" + salt + "$" + key + "$x", `version "m=256,t=2,p=1"`},
		{"missing param", strings.Replace(valid, "m=256,t=2,p=1", "m=256,t=2", 1), "want m=,t=,p="},
		{"unknown param", strings.Replace(valid, "p=1", "k=1", 1), `"k" is not supported`},
		{"repeated param", strings.Replace(valid, "p=1", "m=1", 1), `"m" is repeated`},
		{"no value", strings.Replace(valid, "t=2", "t", 1), "want name=value"},
		{"empty value", strings.Replace(valid, "t=2", "t=", 1), `t=""`},
		{"not a number", strings.Replace(valid, "m=256", "m=lots", 1), `m="lots"`},
		{"negative", strings.Replace(valid, "t=2", "t=-2", 1), `t="-2"`},
		{"plus sign", strings.Replace(valid, "t=2", "t=+2", 1), `t="+2"`},
		{"leading zero", strings.Replace(valid, "t=2", "t=02", 1), "leading zero"},
		{"threads overflow uint8", strings.Replace(valid, "p=1", "p=256", 1), `p="256"`},
		{"time zero", strings.Replace(valid, "t=2", "t=0", 1), "t=0"},
		{"time too high", strings.Replace(valid, "t=2", "t=65", 1), "t=65"},
		{"threads zero", strings.Replace(valid, "p=1", "p=0", 1), "p=0"},
		{"memory below 8 per thread", strings.Replace(valid, "p=1", "p=64", 1), "m=256"},
		{"memory too high", strings.Replace(valid, "m=256", "m=1048577", 1), "m=1048577"},
		{"salt not base64", strings.Replace(valid, salt, "so*me*salt!", 1), "salt is not unpadded base64"},
		{"salt padded", strings.Replace(valid, salt, salt+"=", 1), "salt is not unpadded base64"},
		{"salt too short", strings.Replace(valid, salt, "c29tZQ", 1), "salt is 4 bytes"},
		{"key not base64", strings.Replace(valid, key, "!"+key[1:], 1), "key is not unpadded base64"},
		{"key too short", strings.Replace(valid, key, key[:16], 1), "key is 12 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify(tt.encoded, "password")
			if ok || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Verify = %v, %v; want false, ErrMalformed", ok, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Verify error = %q, want it to mention %q", err, tt.reason)
			}
			if _, err := ParseParams(tt.encoded); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseParams error = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestMalformedErrorHidesKey(t *testing.T) {
	const key = "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	_, err := Verify("$argon2id$v=19$m=256,t=2,p=1$c29tZQ$"+key, "password")
	if err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("Verify error = %v, want an error that does not repeat the key", err)
	}
}

func TestHashRejectsBadParams(t *testing.T) {
	for _, p := range []Params{
		{Memory: 64, Time: 0, Threads: 1},
		{Memory: 64, Time: 1, Threads: 0},
		{Memory: 7, Time: 1, Threads: 1},
		{Memory: 64, Time: 1, Threads: 9},
		{Memory: maxMemory + 1, Time: 1, Threads: 1},
		{Memory: 64, Time: maxTime + 1, Threads: 1},
	} {
		if h, err := Hash("pw", p); err == nil {
			t.Errorf("Hash(%+v) = %q, want an error", p, h)
		}
	}
}
