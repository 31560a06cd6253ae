// Package accounting turns an authenticated Accounting-Request into the
// record the accounting log carries (kradius.accounting.v1.Record), with
// every attribute decoded by name, written straight to protobuf wire format.
package accounting

import (
	_ "embed"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"layeh.com/radius/dictionary"
)

//go:embed dictionary.rfc
var rfcDictionary []byte

// Dictionary names and types attributes: the standard ones and one NAS
// profile's vendor attributes.
type Dictionary struct {
	standard [256]*attrDef
	vendors  map[uint32]*[256]*attrDef
}

// attrDef is one dictionary attribute with the start of its Attribute
// message (name, type, vendor) encoded once, so that each packet only adds
// the value.
type attrDef struct {
	name string
	kind dictionary.AttributeType
	head []byte
}

// NewDictionary parses the standard dictionary and the given vendor
// dictionaries (FreeRADIUS format, e.g. faxback.Dictionary).
func NewDictionary(vendors ...[]byte) (*Dictionary, error) {
	d := &Dictionary{vendors: map[uint32]*[256]*attrDef{}}
	for i, text := range append([][]byte{rfcDictionary}, vendors...) {
		parsed, err := (&dictionary.Parser{}).Parse(&memFile{Reader: strings.NewReader(string(text)), name: fmt.Sprintf("dictionary %d", i)})
		if err != nil {
			return nil, fmt.Errorf("parsing dictionary: %w", err)
		}
		for _, a := range parsed.Attributes {
			d.add(&d.standard, 0, a)
		}
		for _, v := range parsed.Vendors {
			table := d.vendors[uint32(v.Number)]
			if table == nil {
				table = new([256]*attrDef)
				d.vendors[uint32(v.Number)] = table
			}
			for _, a := range v.Attributes {
				d.add(table, uint32(v.Number), a)
			}
		}
	}
	return d, nil
}

// add keeps top-level attributes only: RADIUS types and vendor types are
// one octet here (FaxBack's format), and TLV children are not decoded.
func (d *Dictionary) add(table *[256]*attrDef, vendor uint32, a *dictionary.Attribute) {
	if len(a.OID) != 1 || a.OID[0] < 0 || a.OID[0] > 255 {
		return
	}
	typ := uint32(a.OID[0])
	table[typ] = &attrDef{name: a.Name, kind: a.Type, head: appendAttrHead(nil, a.Name, typ, vendor)}
}

// lookup returns the definition of (vendor, typ), or nil.
func (d *Dictionary) lookup(vendor uint32, typ uint8) *attrDef {
	if vendor == 0 {
		return d.standard[typ]
	}
	if table := d.vendors[vendor]; table != nil {
		return table[typ]
	}
	return nil
}

func appendAttrHead(b []byte, name string, typ, vendor uint32) []byte {
	b = protowire.AppendTag(b, attrName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	if typ != 0 {
		b = protowire.AppendTag(b, attrType, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(typ))
	}
	if vendor != 0 {
		b = protowire.AppendTag(b, attrVendor, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(vendor))
	}
	return b
}

type memFile struct {
	*strings.Reader
	name string
}

func (f *memFile) Close() error { return nil }
func (f *memFile) Name() string { return f.name }
