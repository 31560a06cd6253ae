package store

import (
	"errors"
	"strings"
	"testing"
)

func TestAccountValidate(t *testing.T) {
	ok := Account{Name: "fax", PasswordHash: "$argon2id$x", Type: 4}
	tests := []struct {
		name    string
		edit    func(a *Account)
		field   string // empty: valid
		message string
	}{
		{"valid", func(a *Account) {}, "", ""},
		{"16 bytes", func(a *Account) { a.Name = strings.Repeat("n", 16) }, "", ""},
		{"every account type", func(a *Account) { a.Type = 10 }, "", ""},
		{"empty name", func(a *Account) { a.Name = "" }, "name", "invalid: name: must not be empty"},
		{"17 bytes", func(a *Account) { a.Name = strings.Repeat("n", 17) }, "name", `invalid: name: "nnnnnnnnnnnnnnnnn" is 17 bytes, the limit is 16`},
		{"bad UTF-8", func(a *Account) { a.Name = "a\xffb" }, "name", "invalid: name: not valid UTF-8"},
		{"NUL", func(a *Account) { a.Name = "a\x00b" }, "name", "invalid: name: must not contain a NUL byte"},
		{"empty hash", func(a *Account) { a.PasswordHash = "" }, "passwordHash", "invalid: passwordHash: must not be empty"},
		{"type 3", func(a *Account) { a.Type = 3 }, "type", "invalid: type: 3 is not an FB-Account-Type (0, 1, 4, 5, 8, 9, 10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok
			tt.edit(&a)
			checkFieldError(t, a.Validate(), tt.field, tt.message)
		})
	}
}

func TestDIDValidate(t *testing.T) {
	ok := DID{Number: "5551231234", Account: "fax"}
	tests := []struct {
		name    string
		edit    func(d *DID)
		field   string
		message string
	}{
		{"valid", func(d *DID) {}, "", ""},
		{"253 bytes", func(d *DID) { d.Number = strings.Repeat("5", 253) }, "", ""},
		{"empty number", func(d *DID) { d.Number = "" }, "number", "invalid: number: must not be empty"},
		{"254 bytes", func(d *DID) { d.Number = strings.Repeat("5", 254) }, "number", "invalid: number: longer than a RADIUS attribute can carry"},
		{"empty account", func(d *DID) { d.Account = "" }, "account", "invalid: account: must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			tt.edit(&d)
			checkFieldError(t, d.Validate(), tt.field, tt.message)
		})
	}
}

func checkFieldError(t *testing.T, err error, field, message string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate() = %v, want ErrInvalid", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("Validate() = %#v, want a FieldError for %q", err, field)
	}
	if err.Error() != message {
		t.Errorf("Validate() message = %q, want %q", err.Error(), message)
	}
}
