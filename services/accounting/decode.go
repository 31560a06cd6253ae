// Package accounting turns an authenticated Accounting-Request into the
// record the accounting log carries (kradius.accounting.v1.Record), with
// every attribute decoded by name.
package accounting

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"layeh.com/radius"
	"layeh.com/radius/dictionary"
	"layeh.com/radius/rfc2865"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
)

//go:embed dictionary.rfc
var rfcDictionary []byte

// Dictionary names and types attributes: the standard ones and one NAS
// profile's vendor attributes.
type Dictionary struct {
	attrs   map[key]*dictionary.Attribute
	vendors map[uint32]bool
}

type key struct {
	vendor uint32
	typ    uint32
}

// NewDictionary parses the standard dictionary and the given vendor
// dictionaries (FreeRADIUS format, e.g. faxback.Dictionary).
func NewDictionary(vendors ...[]byte) (*Dictionary, error) {
	d := &Dictionary{attrs: map[key]*dictionary.Attribute{}, vendors: map[uint32]bool{}}
	for i, text := range append([][]byte{rfcDictionary}, vendors...) {
		parsed, err := (&dictionary.Parser{}).Parse(&memFile{Reader: strings.NewReader(string(text)), name: fmt.Sprintf("dictionary %d", i)})
		if err != nil {
			return nil, fmt.Errorf("parsing dictionary: %w", err)
		}
		for _, a := range parsed.Attributes {
			d.attrs[key{0, uint32(a.OID[0])}] = a
		}
		for _, v := range parsed.Vendors {
			d.vendors[uint32(v.Number)] = true
			for _, a := range v.Attributes {
				d.attrs[key{uint32(v.Number), uint32(a.OID[0])}] = a
			}
		}
	}
	return d, nil
}

type memFile struct {
	*strings.Reader
	name string
}

func (f *memFile) Close() error { return nil }
func (f *memFile) Name() string { return f.name }

// Decode returns every attribute of p, in order, each sub-attribute of a
// Vendor-Specific attribute on its own (zero-length values included, as the
// FaxBack port server sends empty strings). User-Password is never copied.
func (d *Dictionary) Decode(p *radius.Packet) ([]*accountingv1.Attribute, error) {
	out := make([]*accountingv1.Attribute, 0, len(p.Attributes)+8)
	for _, avp := range p.Attributes {
		switch avp.Type {
		case rfc2865.UserPassword_Type:
			continue
		case rfc2865.VendorSpecific_Type:
			if len(avp.Attribute) < 4 {
				out = append(out, d.attribute(0, uint32(avp.Type), avp.Attribute))
				continue
			}
			vendor := binary.BigEndian.Uint32(avp.Attribute)
			if !d.vendors[vendor] {
				// A vendor without a dictionary: its framing is its own business.
				out = append(out, &accountingv1.Attribute{Name: fmt.Sprintf("Vendor-%d", vendor), Type: 26, Vendor: vendor, Value: &accountingv1.Attribute_Octets{Octets: avp.Attribute[4:]}})
				continue
			}
			for b := avp.Attribute[4:]; len(b) > 0; {
				if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
					return nil, fmt.Errorf("vendor %d: sub-attribute framing broken", vendor)
				}
				out = append(out, d.attribute(vendor, uint32(b[0]), b[2:b[1]]))
				b = b[b[1]:]
			}
		default:
			out = append(out, d.attribute(0, uint32(avp.Type), avp.Attribute))
		}
	}
	return out, nil
}

// attribute decodes one value by its dictionary type; a value that does not
// fit its type is kept raw rather than dropped.
func (d *Dictionary) attribute(vendor, typ uint32, v []byte) *accountingv1.Attribute {
	a := &accountingv1.Attribute{Type: typ, Vendor: vendor}
	def, ok := d.attrs[key{vendor, typ}]
	switch {
	case ok:
		a.Name = def.Name
	case vendor != 0:
		a.Name = fmt.Sprintf("Vendor-%d-Attr-%d", vendor, typ)
	default:
		a.Name = fmt.Sprintf("Attr-%d", typ)
	}
	if !ok {
		a.Value = &accountingv1.Attribute_Octets{Octets: v}
		return a
	}
	switch def.Type {
	case dictionary.AttributeString:
		a.Value = &accountingv1.Attribute_Text{Text: string(v)}
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
