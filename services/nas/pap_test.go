package nas

import (
	"errors"
	"strings"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

func request(t *testing.T, secret, password string) *radius.Packet {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	if err := rfc2865.UserPassword_SetString(p, password); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPAPPassword(t *testing.T) {
	for _, pw := range []string{"password", "x", strings.Repeat("p", 16), strings.Repeat("q", 17), "pässwörd", strings.Repeat("z", 128)} {
		got, err := PAPPassword(request(t, "s3cret", pw))
		if err != nil || got != pw {
			t.Errorf("PAPPassword(%q) = %q, %v", pw, got, err)
		}
	}
}

func TestPAPPasswordWrongSecret(t *testing.T) {
	wrong := 0
	for _, pw := range []string{"password", "short", "fifteen-chars!!", strings.Repeat("a", 20)} {
		p := request(t, "right", pw)
		p.Secret = []byte("wrong")
		_, err := PAPPassword(p)
		if DropReason(err) == ReasonBadAuthenticator {
			wrong++
		} else {
			t.Errorf("password %q under a wrong secret: err = %v, want a bad_authenticator drop", pw, err)
		}
	}
	if wrong == 0 {
		t.Fatal("no wrong secret detected")
	}
}

func TestPAPPasswordMissingOrMalformed(t *testing.T) {
	p := radius.New(radius.CodeAccessRequest, []byte("s"))
	if _, err := PAPPassword(p); !errors.Is(err, ErrNoPassword) {
		t.Errorf("missing: err = %v", err)
	}
	p.Add(rfc2865.UserPassword_Type, radius.Attribute("seven b"))
	if _, err := PAPPassword(p); DropReason(err) != ReasonMalformed {
		t.Errorf("7-byte User-Password: err = %v, want malformed", err)
	}
}
