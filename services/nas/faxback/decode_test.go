package faxback

import (
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/dictionary"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbattr"
)

// seedPacket parses a golden file's request and re-encrypts its
// User-Password, if any, as password under secret.
func seedPacket(t testing.TB, name, secret, password string) *radius.Packet {
	t.Helper()
	p, err := radius.Parse(readGolden(t, name).request, []byte(secret))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if _, ok := p.Lookup(rfc2865.UserPassword_Type); ok {
		enc, err := radius.NewUserPassword([]byte(password), p.Secret, p.Authenticator[:])
		if err != nil {
			t.Fatal(err)
		}
		if old := p.Get(rfc2865.UserPassword_Type); len(enc) != len(old) {
			t.Fatalf("re-encrypted password is %d bytes, the seed's %d", len(enc), len(old))
		}
		p.Set(rfc2865.UserPassword_Type, enc)
	}
	return p
}

// vsa builds one FaxBack Vendor-Specific attribute holding the given
// sub-attributes, each a type byte followed by its value.
func vsa(subs ...[]byte) radius.Attribute {
	b := []byte{0, 0, 0x77, 0xe6}
	for _, s := range subs {
		b = append(b, s[0], byte(len(s)+1))
		b = append(b, s[1:]...)
	}
	return b
}

func TestDecodeSeedPackedVSA(t *testing.T) {
	p := seedPacket(t, "account-login", "s3cret", "password")
	enc, _ := p.Encode()
	if len(enc) != 108 {
		t.Fatalf("seed Account-Login is %d bytes, the seed says 108", len(enc))
	}
	r, err := Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Command != 1 || r.Context != 1 {
		t.Fatalf("command/context = %d/%d, want 1/1", r.Command, r.Context)
	}
	info, ok, err := r.String(attrClientInfo)
	if err != nil || !ok || info != ";FV=1.0.0.0;MN=NICKDUO;IP=10.0.0.84" {
		t.Fatalf("FB-Client-Info = %q %v %v", info, ok, err)
	}
}

func TestDecodeOneVSAPerAttribute(t *testing.T) {
	p := radius.New(radius.CodeAccessRequest, []byte("s"))
	fbattr.FBCommand_Add(p, fbattr.FBCommand_Value_GetAccount)
	fbattr.FBContext_Add(p, fbattr.FBContext_Value_AccountValidate)
	fbattr.FBClientInfo_AddString(p, "x")
	r, err := Decode(p)
	if err != nil || r.Command != 1 || r.Context != 2 {
		t.Fatalf("Decode = %+v, %v", r, err)
	}
}

func TestDecodeZeroLengthValues(t *testing.T) {
	p := radius.New(radius.CodeAccessRequest, []byte("s"))
	// An empty FB-CDR-Info packed between command and context, and one alone,
	// as the port server's accounting packets send them (VSA length 8).
	p.Add(rfc2865.VendorSpecific_Type, vsa([]byte{1, 0, 0, 0, 1}, []byte{11}, []byte{2, 0, 0, 0, 5}))
	p.Add(rfc2865.VendorSpecific_Type, vsa([]byte{12}))
	if got := len(p.Attributes[1].Attribute); got != 6 {
		t.Fatalf("lone empty VSA is %d bytes of value, want 6 (length 8 on the wire)", got)
	}
	r, err := Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Context != 5 {
		t.Fatalf("context after an empty sub-attribute = %d, want 5", r.Context)
	}
	for _, typ := range []byte{11, 12} {
		if v, ok, err := r.String(typ); !ok || v != "" || err != nil {
			t.Errorf("empty attribute %d: %q, present=%v, %v", typ, v, ok, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		attr radius.Attribute
		want string // a drop reason, or the error text
	}{
		{"sub-attribute overruns the VSA", radius.Attribute{0, 0, 0x77, 0xe6, 1, 9, 0, 0, 0, 1}, nas.ReasonMalformed},
		{"sub-attribute length 1", radius.Attribute{0, 0, 0x77, 0xe6, 1, 1}, nas.ReasonMalformed},
		{"integer of 3 bytes", vsa([]byte{1, 0, 0, 1}, []byte{2, 0, 0, 0, 1}), nas.ReasonMalformed},
		{"command repeated with two values", vsa([]byte{1, 0, 0, 0, 1}, []byte{1, 0, 0, 0, 2}, []byte{2, 0, 0, 0, 1}), nas.ReasonMalformed},
		{"no command", vsa([]byte{2, 0, 0, 0, 1}), errNoCommand.Error()},
		{"no context", vsa([]byte{1, 0, 0, 0, 1}), errNoContext.Error()},
	} {
		p := radius.New(radius.CodeAccessRequest, []byte("s"))
		p.Add(rfc2865.VendorSpecific_Type, tc.attr)
		_, err := Decode(p)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if got := nas.DropReason(err); got != tc.want && err.Error() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
}

func TestDecodeIgnoresOtherVendors(t *testing.T) {
	p := radius.New(radius.CodeAccessRequest, []byte("s"))
	p.Add(rfc2865.VendorSpecific_Type, radius.Attribute{0, 0, 0, 9, 1, 1}) // Cisco, broken framing: not ours to judge
	p.Add(rfc2865.VendorSpecific_Type, vsa([]byte{1, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 1}))
	if _, err := Decode(p); err != nil {
		t.Fatal(err)
	}
}

// TestConstantsMatchDictionary keeps the hand-written numbers honest.
func TestConstantsMatchDictionary(t *testing.T) {
	parser := dictionary.Parser{Opener: &dictionary.FileSystemOpener{}}
	d, err := parser.ParseFile("dictionary.faxback")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"FB-Command": attrCommand, "FB-Context": attrContext, "FB-Dial-Number": attrDialNumber,
		"FB-Client-Info": attrClientInfo, "FB-Transfer-Type": attrTransferType,
		"FB-Account-UUID": attrAccountUUID, "FB-Fax-ATA-Type": attrFaxATAType,
	}
	if len(d.Vendors) != 1 || d.Vendors[0].Number != VendorID {
		t.Fatalf("dictionary vendors: %+v", d.Vendors)
	}
	found := 0
	for _, a := range d.Vendors[0].Attributes {
		if n, ok := want[a.Name]; ok {
			found++
			if len(a.OID) != 1 || a.OID[0] != n {
				t.Errorf("%s is %s in the dictionary, %d here", a.Name, a.OID, n)
			}
		}
	}
	if found != len(want) {
		t.Fatalf("found %d of %d attributes", found, len(want))
	}
}
