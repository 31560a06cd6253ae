package accounting

import (
	"encoding/binary"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
)

// BenchmarkAppendRecord is what the edge does with a Stop before appending
// it: decode every attribute by the dictionary into the record's wire format.
func BenchmarkAppendRecord(b *testing.B) {
	d, err := NewDictionary([]byte(faxbackDict))
	if err != nil {
		b.Fatal(err)
	}
	p := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(p, "0_yhYH4nK3]dtTFspcBkJQMA")
	rfc2865.UserName_SetString(p, "account")
	rfc2865.NASIPAddress_Set(p, []byte{10, 0, 0, 1})
	rfc2866.AcctSessionTime_Set(p, 62)
	start := binary.BigEndian.AppendUint32(nil, 1249336279)
	for range 4 { // a Stop carries a dozen or so FaxBack attributes
		p.Add(rfc2865.VendorSpecific_Type, fbVSA([]byte{34, '5', '5', '5', '1', '2', '3'}, []byte{11}, append([]byte{33}, start...)))
	}
	p.Add(rfc2865.VendorSpecific_Type, fbVSA([]byte{41, 0, 0, 0, 3}))
	m := Meta{Client: "portserver", Address: "10.0.0.1:1024", Profile: "faxback", Edge: "edge-0", Received: time.Unix(1700000000, 0)}
	pkt, err := p.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		r, err := AppendRecord(buf[:0], pkt, m, d)
		if err != nil {
			b.Fatal(err)
		}
		buf = r.Wire
	}
}
