package faxback

import (
	"encoding/binary"
	"errors"
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/nas"
)

// VendorID is FaxBack's IANA enterprise number.
const VendorID = 30694

// Sub-attribute numbers this profile reads from requests (dictionary.faxback;
// a test checks them against the dictionary). Replies are built with the
// generated fbattr helpers.
const (
	attrCommand      = 1
	attrContext      = 2
	attrDialNumber   = 34
	attrClientInfo   = 45
	attrTransferType = 58
	attrAccountUUID  = 59
	attrFaxATAType   = 66
)

// Request is the FaxBack view of an Access-Request: every sub-attribute of
// every FaxBack Vendor-Specific attribute, in order.
type Request struct {
	Command uint32
	Context uint32
	vsas    []subAttr
}

type subAttr struct {
	typ   byte
	value []byte // may be empty: the port server sends "" as length 2
}

var (
	errNoCommand = errors.New("no FB-Command")
	errNoContext = errors.New("no FB-Context")
)

// Decode walks every FaxBack VSA. The port server packs several
// sub-attributes into one VSA (FB-Command and FB-Context share one) and sends
// empty strings as zero-length values, so the walk reads all of them.
// A framing error is a malformed-packet drop; a missing command or context
// is reported as errNoCommand / errNoContext for the caller to reject.
func Decode(p *radius.Packet) (*Request, error) {
	r := &Request{}
	for _, avp := range p.Attributes {
		if avp.Type != rfc2865.VendorSpecific_Type {
			continue
		}
		if len(avp.Attribute) < 4 || binary.BigEndian.Uint32(avp.Attribute) != VendorID {
			continue
		}
		for b := avp.Attribute[4:]; len(b) > 0; {
			if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
				return nil, malformed(fmt.Errorf("FaxBack VSA: sub-attribute framing broken at %x", b))
			}
			r.vsas = append(r.vsas, subAttr{typ: b[0], value: b[2:b[1]]})
			b = b[b[1]:]
		}
	}
	var err error
	var ok bool
	if r.Command, ok, err = r.Uint32(attrCommand); err != nil {
		return nil, err
	} else if !ok {
		return r, errNoCommand
	}
	if r.Context, ok, err = r.Uint32(attrContext); err != nil {
		return nil, err
	} else if !ok {
		return r, errNoContext
	}
	return r, nil
}

// Lookup returns the value of sub-attribute typ. Two different values for
// one attribute make the request ambiguous, hence malformed.
func (r *Request) Lookup(typ byte) (value []byte, ok bool, err error) {
	for _, a := range r.vsas {
		if a.typ != typ {
			continue
		}
		if ok && string(a.value) != string(value) {
			return nil, false, malformed(fmt.Errorf("FaxBack attribute %d repeated with different values", typ))
		}
		value, ok = a.value, true
	}
	return value, ok, nil
}

// Uint32 reads an integer sub-attribute.
func (r *Request) Uint32(typ byte) (uint32, bool, error) {
	v, ok, err := r.Lookup(typ)
	if err != nil || !ok {
		return 0, ok, err
	}
	if len(v) != 4 {
		return 0, false, malformed(fmt.Errorf("FaxBack integer attribute %d has %d bytes", typ, len(v)))
	}
	return binary.BigEndian.Uint32(v), true, nil
}

// String reads a string sub-attribute; an empty value is present and "".
func (r *Request) String(typ byte) (string, bool, error) {
	v, ok, err := r.Lookup(typ)
	return string(v), ok, err
}

func malformed(err error) error { return &nas.Drop{Reason: nas.ReasonMalformed, Err: err} }
