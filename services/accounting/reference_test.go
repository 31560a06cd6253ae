package accounting

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"layeh.com/radius"
	"layeh.com/radius/dictionary"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
)

// reference builds the record the plain way, with the generated structs:
// the specification AppendRecord's hand-written wire format is held to.
func reference(p *radius.Packet, m Meta, d *Dictionary) *accountingv1.Record {
	st, _ := rfc2866.AcctStatusType_Lookup(p)
	r := &accountingv1.Record{
		SessionId:       validText(rfc2866.AcctSessionID_Get(p)),
		StatusTypeValue: uint32(st),
		NasClient:       m.Client,
		NasAddress:      m.Address,
		Profile:         m.Profile,
		Received:        timestamppb.New(m.Received),
		Edge:            m.Edge,
		Identifier:      uint32(p.Identifier),
	}
	if _, known := accountingv1.StatusType_name[int32(st)]; known {
		r.StatusType = accountingv1.StatusType(st)
	}
	if user, ok := p.Lookup(rfc2865.UserName_Type); ok {
		r.UserName = validText(user)
	}
	for _, avp := range p.Attributes {
		switch {
		case avp.Type == rfc2865.UserPassword_Type:
		case avp.Type != rfc2865.VendorSpecific_Type || len(avp.Attribute) < 4:
			r.Attributes = append(r.Attributes, referenceAttribute(d, 0, uint32(avp.Type), avp.Attribute))
		case d.vendors[binary.BigEndian.Uint32(avp.Attribute)] == nil:
			vendor := binary.BigEndian.Uint32(avp.Attribute)
			r.Attributes = append(r.Attributes, &accountingv1.Attribute{Name: fmt.Sprintf("Vendor-%d", vendor), Type: 26, Vendor: vendor, Value: &accountingv1.Attribute_Octets{Octets: avp.Attribute[4:]}})
		default:
			vendor := binary.BigEndian.Uint32(avp.Attribute)
			for b := avp.Attribute[4:]; len(b) >= 2 && int(b[1]) >= 2 && int(b[1]) <= len(b); b = b[b[1]:] {
				r.Attributes = append(r.Attributes, referenceAttribute(d, vendor, uint32(b[0]), b[2:b[1]]))
			}
		}
	}
	return r
}

func referenceAttribute(d *Dictionary, vendor, typ uint32, v []byte) *accountingv1.Attribute {
	a := &accountingv1.Attribute{Type: typ, Vendor: vendor}
	def := d.lookup(vendor, uint8(typ))
	switch {
	case def != nil:
		a.Name = def.name
	case vendor != 0:
		a.Name = fmt.Sprintf("Vendor-%d-Attr-%d", vendor, typ)
	default:
		a.Name = fmt.Sprintf("Attr-%d", typ)
	}
	if def == nil {
		a.Value = &accountingv1.Attribute_Octets{Octets: v}
		return a
	}
	switch def.kind {
	case dictionary.AttributeString:
		if utf8.Valid(v) {
			a.Value = &accountingv1.Attribute_Text{Text: string(v)}
		}
	case dictionary.AttributeInteger:
		if len(v) == 4 {
			a.Value = &accountingv1.Attribute_Integer{Integer: uint64(binary.BigEndian.Uint32(v))}
		}
	case dictionary.AttributeDate:
		if len(v) == 4 {
			a.Value = &accountingv1.Attribute_Time{Time: timestamppb.New(time.Unix(int64(binary.BigEndian.Uint32(v)), 0))}
		}
	case dictionary.AttributeIPAddr, dictionary.AttributeIPv6Addr:
		if addr, ok := netip.AddrFromSlice(v); ok {
			a.Value = &accountingv1.Attribute_Address{Address: addr.String()}
		}
	}
	if a.Value == nil {
		a.Value = &accountingv1.Attribute_Octets{Octets: v}
	}
	return a
}

// FuzzAppendRecord holds the encoder to the reference for any attributes a
// NAS can send: the log must carry exactly what the structs would.
func FuzzAppendRecord(f *testing.F) {
	d, err := NewDictionary([]byte(faxbackDict))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{1, 5, 'a', 'b', 'c', 4, 6, 10, 0, 0, 1, 26, 12, 0, 0, 0x77, 0xe6, 41, 6, 0, 0, 0, 3}, int64(1700000000), uint8(3))
	f.Add([]byte{26, 9, 0, 0, 0x77, 0xe6, 33, 3, 7, 95, 4, 1, 2, 3}, int64(0), uint8(0))
	f.Add([]byte{8, 6, 192, 0, 2, 1, 2, 3, 0xff, 26, 5, 0, 0, 0}, int64(-5), uint8(255))
	f.Fuzz(func(t *testing.T, attrs []byte, received int64, id uint8) {
		head := radius.New(radius.CodeAccountingRequest, []byte("s"))
		head.Identifier = id
		rfc2866.AcctSessionID_Set(head, []byte("session\xff"))
		rfc2866.AcctStatusType_Set(head, rfc2866.AcctStatusType_Value_Stop)
		pkt := append(encode(t, head), attrs...)
		if len(pkt) > 4096 {
			return
		}
		binary.BigEndian.PutUint16(pkt[2:4], uint16(len(pkt)))
		m := Meta{Client: "c", Address: "a", Profile: "p", Edge: "e", Received: time.Unix(received/1e9, received%1e9)}
		rec, err := AppendRecord(nil, pkt, m, d)
		p, perr := radius.Parse(pkt, []byte("s"))
		if perr != nil {
			if err == nil {
				t.Fatalf("layeh refuses the packet (%v), AppendRecord took it", perr)
			}
			return
		}
		if err != nil {
			return // broken vendor framing: refused, as the reference cannot say
		}
		got := decodeRecord(t, rec.Wire)
		if want := reference(p, m, d); !proto.Equal(got, want) {
			t.Fatalf("encoder and reference differ:\n got %v\nwant %v", got, want)
		}
		if st, ok := StatusTypeOf(rec.Wire); !ok || st != got.GetStatusType() {
			t.Fatalf("StatusTypeOf = %v, %v; the record says %v", st, ok, got.GetStatusType())
		}
		if profile, ok := ProfileOf(rec.Wire); !ok || profile != got.GetProfile() {
			t.Fatalf("ProfileOf = %q, %v; the record says %q", profile, ok, got.GetProfile())
		}
		if got.GetSessionId() != string(rec.SessionID) {
			t.Fatalf("session ID %q in the record, %q returned", got.GetSessionId(), rec.SessionID)
		}
	})
}

// FuzzStatusTypeOf: whatever bytes a log hands the consumer, the shortcuts
// (StatusTypeOf, ProfileOf) agree with a full decode wherever both succeed.
func FuzzStatusTypeOf(f *testing.F) {
	for _, st := range []accountingv1.StatusType{0, 1, 2, 3, 7, 8, 42} {
		wire, _ := proto.Marshal(&accountingv1.Record{SessionId: "s", StatusType: st, Profile: "firebrick", Attributes: []*accountingv1.Attribute{{Name: "x", Value: &accountingv1.Attribute_Integer{Integer: 2}}}})
		f.Add(wire)
	}
	f.Add([]byte{0x10, 0x02, 0x10, 0x01})
	f.Add([]byte{0x12, 0x00})
	f.Fuzz(func(t *testing.T, wire []byte) {
		st, ok := StatusTypeOf(wire)
		profile, profileOK := ProfileOf(wire)
		r := &accountingv1.Record{}
		if err := proto.Unmarshal(wire, r); err != nil {
			return
		}
		if ok && st != r.GetStatusType() {
			t.Fatalf("StatusTypeOf = %v, proto.Unmarshal says %v", st, r.GetStatusType())
		}
		if profileOK && profile != r.GetProfile() {
			t.Fatalf("ProfileOf = %q, proto.Unmarshal says %q", profile, r.GetProfile())
		}
	})
}
