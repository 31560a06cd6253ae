package redisstore

import (
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
)

// TestDecodedGivesCopies: a record kept decoded comes back equal to a fresh
// decode, and a caller's change to it stays its own.
func TestDecodedGivesCopies(t *testing.T) {
	s := &Store{}
	v := `{"name":"g","type":8,"members":["m"]}`
	for range 3 {
		a, err := decodeKept[fbdata.Account](s, v, "account")
		if err != nil || a.Name != "g" || len(a.Members) != 1 || a.Members[0] != "m" {
			t.Fatalf("decoded %+v, %v", a, err)
		}
		a.Members[0] = "changed by a caller"
	}
	line := uint32(2)
	d, _ := decodeKept[fbdata.DID](s, `{"number":"5551230000","account":"g","lineNum":2}`, "DID")
	*d.LineNum = 9
	if d, _ := decodeKept[fbdata.DID](s, `{"number":"5551230000","account":"g","lineNum":2}`, "DID"); *d.LineNum != line {
		t.Fatalf("a caller's change leaked: line %d", *d.LineNum)
	}
	if _, err := decodeKept[fbdata.Account](s, `{"name":`, "account"); err == nil {
		t.Fatal("broken JSON decoded")
	}
}

// TestDecodedTellsTypesApart: one text that decodes as both an account and a
// DID gives each caller its own type.
func TestDecodedTellsTypesApart(t *testing.T) {
	s := &Store{}
	if _, err := decodeKept[fbdata.Account](s, `{}`, "account"); err != nil {
		t.Fatal(err)
	}
	d, err := decodeKept[fbdata.DID](s, `{}`, "DID")
	if err != nil || d.Number != "" {
		t.Fatalf("DID from the account's text: %+v, %v", d, err)
	}
	if _, err := decodeKept[fbdata.Account](s, `{}`, "account"); err != nil {
		t.Fatal(err)
	}
}
