package accounting

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

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

func TestBuildRecord(t *testing.T) {
	d, err := NewDictionary([]byte(faxbackDict))
	if err != nil {
		t.Fatal(err)
	}
	p := radius.New(radius.CodeAccountingRequest, []byte("s"))
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

	now := time.Unix(1700000000, 0)
	r, err := BuildRecord(p, Meta{Client: "portserver", Address: "10.0.0.1:1024", Profile: "faxback", Edge: "edge-0", Received: now}, d)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetSessionId() != "0_yhYH4nK3]dtTFspcBkJQMA" || r.GetStatusType() != accountingv1.StatusType_STATUS_TYPE_STOP || r.GetUserName() != "account" {
		t.Errorf("record header: %v", r)
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

func TestBuildRecordRefuses(t *testing.T) {
	d, _ := NewDictionary()
	noSession := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2866.AcctStatusType_Set(noSession, rfc2866.AcctStatusType_Value_Stop)
	if _, err := BuildRecord(noSession, Meta{}, d); err != ErrNoSessionID {
		t.Errorf("no session id: %v", err)
	}
	noStatus := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2866.AcctSessionID_SetString(noStatus, "s1")
	if _, err := BuildRecord(noStatus, Meta{}, d); err != ErrNoStatusType {
		t.Errorf("no status type: %v", err)
	}
}
