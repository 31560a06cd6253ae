package accounting

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
)

const faxbackDict = `
VENDOR FaxBack 30694
BEGIN-VENDOR FaxBack
ATTRIBUTE FB-CDR-Info 11 string
ATTRIBUTE FB-Start-Time 33 date
ATTRIBUTE FB-Dial-Number 34 string
ATTRIBUTE FB-Page-Count 41 integer
END-VENDOR FaxBack
`

func fbVSA(subs ...[]byte) radius.Attribute {
	b := []byte{0, 0, 0x77, 0xe6}
	for _, s := range subs {
		b = append(b, s[0], byte(len(s)+1))
		b = append(b, s[1:]...)
	}
	return b
}

// encode is p as a NAS sends it.
func encode(t testing.TB, p *radius.Packet) []byte {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeRecord is what every reader of the log does with a record.
func decodeRecord(t testing.TB, wire []byte) *accountingv1.Record {
	t.Helper()
	r := &accountingv1.Record{}
	if err := proto.Unmarshal(wire, r); err != nil {
		t.Fatalf("the record does not decode: %v", err)
	}
	return r
}

func TestAppendRecord(t *testing.T) {
	d, err := NewDictionary([]byte(faxbackDict))
	if err != nil {
		t.Fatal(err)
	}
	p := radius.New(radius.CodeAccountingRequest, []byte("s"))
	p.Identifier = 77
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(p, "0_yhYH4nK3]dtTFspcBkJQMA")
	rfc2865.UserName_SetString(p, "account")
	rfc2865.NASIPAddress_Set(p, []byte{10, 0, 0, 1})
	start := binary.BigEndian.AppendUint32(nil, 1249336279)
	// Packed sub-attributes, an empty one among them, as the port server sends.
	p.Add(rfc2865.VendorSpecific_Type, fbVSA([]byte{34, '5', '5', '5'}, []byte{11}, append([]byte{33}, start...)))
	p.Add(rfc2865.VendorSpecific_Type, fbVSA([]byte{41, 0, 0, 0, 3}, []byte{99, 'x'}))
	p.Add(rfc2865.VendorSpecific_Type, radius.Attribute{0, 0, 0, 9, 1, 3, 'c'}) // Cisco: no dictionary
	p.Add(200, radius.Attribute("mystery"))

	now := time.Unix(1700000000, 5)
	prefix := []byte("earlier records")
	rec, err := AppendRecord(prefix, encode(t, p), Meta{Client: "portserver", Address: "10.0.0.1:1024", Profile: "faxback", Edge: "edge-0", Received: now}, d)
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.SessionID) != "0_yhYH4nK3]dtTFspcBkJQMA" {
		t.Errorf("session ID %q", rec.SessionID)
	}
	r := decodeRecord(t, rec.Wire)
	if r.GetSessionId() != "0_yhYH4nK3]dtTFspcBkJQMA" || r.GetStatusType() != accountingv1.StatusType_STATUS_TYPE_STOP ||
		r.GetStatusTypeValue() != 2 || r.GetUserName() != "account" || r.GetIdentifier() != 77 {
		t.Errorf("record header: %v", r)
	}
	if r.GetNasClient() != "portserver" || r.GetNasAddress() != "10.0.0.1:1024" || r.GetProfile() != "faxback" ||
		r.GetEdge() != "edge-0" || !r.GetReceived().AsTime().Equal(now) {
		t.Errorf("record meta: %v", r)
	}
	want := []string{
		"Acct-Status-Type=2", "Acct-Session-Id=0_yhYH4nK3]dtTFspcBkJQMA", "User-Name=account", "NAS-IP-Address=10.0.0.1",
		"FB-Dial-Number=555", "FB-CDR-Info=", "FB-Start-Time=1249336279", "FB-Page-Count=3",
		"Vendor-30694-Attr-99=78", "Vendor-9=0103" + "63", "Attr-200=6d797374657279",
	}
	if len(r.GetAttributes()) != len(want) {
		t.Fatalf("%d attributes, want %d: %v", len(r.GetAttributes()), len(want), r.GetAttributes())
	}
	for i, a := range r.GetAttributes() {
		if got := show(a); got != want[i] {
			t.Errorf("attribute %d = %s, want %s", i, got, want[i])
		}
	}
	if vsa := r.GetAttributes()[9]; vsa.GetType() != 26 || vsa.GetVendor() != 9 {
		t.Errorf("a VSA without dictionary: type %d vendor %d", vsa.GetType(), vsa.GetVendor())
	}
	if !proto.Equal(r, reference(p, Meta{Client: "portserver", Address: "10.0.0.1:1024", Profile: "faxback", Edge: "edge-0", Received: now}, d)) {
		t.Errorf("the record differs from the reference:\n%v", r)
	}
}

func show(a *accountingv1.Attribute) string {
	switch v := a.GetValue().(type) {
	case *accountingv1.Attribute_Text:
		return a.GetName() + "=" + v.Text
	case *accountingv1.Attribute_Integer:
		return a.GetName() + "=" + strconv.FormatUint(v.Integer, 10)
	case *accountingv1.Attribute_Time:
		return a.GetName() + "=" + strconv.FormatInt(v.Time.AsTime().Unix(), 10)
	case *accountingv1.Attribute_Address:
		return a.GetName() + "=" + v.Address
	case *accountingv1.Attribute_Octets:
		return a.GetName() + "=" + hex.EncodeToString(v.Octets)
	}
	return a.GetName() + "=?"
}

func TestAppendRecordRefuses(t *testing.T) {
	d, _ := NewDictionary()
	noSession := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2866.AcctStatusType_Set(noSession, rfc2866.AcctStatusType_Value_Stop)
	if _, err := AppendRecord(nil, encode(t, noSession), Meta{}, d); err != ErrNoSessionID {
		t.Errorf("no session id: %v", err)
	}
	noStatus := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2866.AcctSessionID_SetString(noStatus, "s1")
	if _, err := AppendRecord(nil, encode(t, noStatus), Meta{}, d); err != ErrNoStatusType {
		t.Errorf("no status type: %v", err)
	}
	broken := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2866.AcctSessionID_SetString(broken, "s1")
	rfc2866.AcctStatusType_Set(broken, rfc2866.AcctStatusType_Value_Start)
	broken.Add(rfc2865.VendorSpecific_Type, radius.Attribute{0, 0, 0x77, 0xe6, 34, 9, 'x'})
	dfb, _ := NewDictionary([]byte(faxbackDict))
	if _, err := AppendRecord(nil, encode(t, broken), Meta{}, dfb); err == nil || !strings.Contains(err.Error(), "framing") {
		t.Errorf("broken sub-attribute framing: %v", err)
	}
	for name, pkt := range map[string][]byte{
		"short":             {4, 1, 0, 19},
		"length field long": append([]byte{4, 1, 0, 40}, make([]byte, 16)...),
		"attribute framing": append(append([]byte{4, 1, 0, 23}, make([]byte, 16)...), 44, 9, 'x'),
	} {
		if _, err := AppendRecord(nil, pkt, Meta{}, d); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A fax station ID or a session ID in Latin-1 must not cost the record: a
// proto string has to be UTF-8, so the text is kept as octets or escaped.
func TestAppendRecordKeepsTextThatIsNotUTF8(t *testing.T) {
	d, _ := NewDictionary([]byte(faxbackDict))
	p := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Start)
	rfc2866.AcctSessionID_Set(p, []byte("caf\xe9-1"))
	rfc2865.UserName_Set(p, []byte("Jos\xe9"))
	p.Add(rfc2865.VendorSpecific_Type, fbVSA([]byte{34, 'M', '\xfc', 'n'}))
	rec, err := AppendRecord(nil, encode(t, p), Meta{}, d)
	if err != nil {
		t.Fatal(err)
	}
	r := decodeRecord(t, rec.Wire)
	if string(rec.SessionID) != `caf\xe9-1` || r.GetSessionId() != `caf\xe9-1` || r.GetUserName() != `Jos\xe9` {
		t.Errorf("session %q / %q, user %q", rec.SessionID, r.GetSessionId(), r.GetUserName())
	}
	if got := show(r.GetAttributes()[3]); got != "FB-Dial-Number=4dfc6e" {
		t.Errorf("a Latin-1 string attribute: %s", got)
	}
	if got := Text(r.GetAttributes()[3]); got != `M\xfcn` {
		t.Errorf("its text for a CDR field: %q", got)
	}
	if got := Text(r.GetAttributes()[2]); got != `Jos\xe9` {
		t.Errorf("User-Name's text: %q", got)
	}
}

// An attribute message longer than 127 bytes has a two-byte length.
func TestAppendRecordLongAttribute(t *testing.T) {
	d, _ := NewDictionary([]byte(faxbackDict))
	p := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(p, "s1")
	long := strings.Repeat("i", 240)
	p.Add(rfc2865.VendorSpecific_Type, fbVSA(append([]byte{11}, long...), []byte{41, 0, 0, 0, 9}))
	p.Add(rfc2865.VendorSpecific_Type, radius.Attribute(append([]byte{0, 0, 0, 9}, long...)))
	p.Add(200, radius.Attribute(long))
	rec, err := AppendRecord(nil, encode(t, p), Meta{}, d)
	if err != nil {
		t.Fatal(err)
	}
	r := decodeRecord(t, rec.Wire)
	if !proto.Equal(r, reference(p, Meta{}, d)) {
		t.Errorf("the record differs from the reference:\n%v", r)
	}
	if got := show(r.GetAttributes()[3]); got != "FB-Page-Count=9" {
		t.Errorf("the attribute after a long one: %s", got)
	}
}

// The encoder writes field numbers by hand: any change to the schema must
// change it too, which this test makes impossible to miss.
// Derived fields appended to a record decode as its derived field, the
// rest of it unchanged.
func TestAppendDerived(t *testing.T) {
	wire, _ := proto.Marshal(&accountingv1.Record{SessionId: "s", Attributes: []*accountingv1.Attribute{{Name: "User-Name", Value: &accountingv1.Attribute_Text{Text: "u"}}}})
	wire, err := AppendDerived(wire, []*accountingv1.Attribute{
		{Name: "Trunk-Id-In", Value: &accountingv1.Attribute_Text{Text: "7"}},
		{Name: "Originate-Address", Value: &accountingv1.Attribute_Address{Address: "192.0.2.1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got accountingv1.Record
	if err := proto.Unmarshal(wire, &got); err != nil {
		t.Fatal(err)
	}
	if got.GetSessionId() != "s" || len(got.GetAttributes()) != 1 || len(got.GetDerived()) != 2 || got.GetDerived()[1].GetAddress() != "192.0.2.1" {
		t.Errorf("record %v", &got)
	}
}

func TestWireFieldsMatchSchema(t *testing.T) {
	check := func(md protoreflect.MessageDescriptor, want map[string]int32) {
		t.Helper()
		fields := md.Fields()
		if fields.Len() != len(want) {
			t.Errorf("%s has %d fields, the encoder writes %d: teach AppendRecord the new ones", md.FullName(), fields.Len(), len(want))
		}
		for name, num := range want {
			f := fields.ByName(protoreflect.Name(name))
			if f == nil || int32(f.Number()) != num {
				t.Errorf("%s.%s: the encoder writes field %d, the schema says %v", md.FullName(), name, num, f)
			}
		}
	}
	check((&accountingv1.Record{}).ProtoReflect().Descriptor(), map[string]int32{
		"session_id": int32(recSessionID), "status_type": int32(recStatusType), "status_type_value": int32(recStatusTypeValue),
		"user_name": int32(recUserName), "nas_client": int32(recNASClient), "nas_address": int32(recNASAddress),
		"profile": int32(recProfile), "received": int32(recReceived), "edge": int32(recEdge),
		"attributes": int32(recAttributes), "identifier": int32(recIdentifier), "derived": int32(recDerived),
	})
	check((&accountingv1.Attribute{}).ProtoReflect().Descriptor(), map[string]int32{
		"name": int32(attrName), "type": int32(attrType), "vendor": int32(attrVendor), "text": int32(attrText),
		"integer": int32(attrInteger), "time": int32(attrTime), "address": int32(attrAddress), "octets": int32(attrOctets),
	})
	check((&timestamppb.Timestamp{}).ProtoReflect().Descriptor(), map[string]int32{
		"seconds": int32(timestampSeconds), "nanos": int32(timestampNanos),
	})
}
