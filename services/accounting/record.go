package accounting

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"layeh.com/radius/dictionary"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
)

// Meta is what the edge knows of a request beyond its attributes.
type Meta struct {
	Client, Address, Profile, Edge string
	Received                       time.Time
}

var (
	// ErrNoSessionID: a record without Acct-Session-Id cannot be keyed,
	// deduplicated or billed.
	ErrNoSessionID = errors.New("no Acct-Session-Id")
	// ErrNoStatusType: without Acct-Status-Type a record is neither start nor stop.
	ErrNoStatusType = errors.New("no Acct-Status-Type")
)

// Field numbers of kradius.accounting.v1.Record and Attribute. The encoder
// writes wire format by hand, because the reflective proto.Marshal of a
// record's oneof attributes was half of the edge's accounting CPU;
// TestWireFieldsMatchSchema holds these to the generated descriptor.
const (
	recSessionID       protowire.Number = 1
	recStatusType      protowire.Number = 2
	recStatusTypeValue protowire.Number = 3
	recUserName        protowire.Number = 4
	recNASClient       protowire.Number = 5
	recNASAddress      protowire.Number = 6
	recProfile         protowire.Number = 7
	recReceived        protowire.Number = 8
	recEdge            protowire.Number = 9
	recAttributes      protowire.Number = 10
	recIdentifier      protowire.Number = 11
	recDerived         protowire.Number = 12

	attrName    protowire.Number = 1
	attrType    protowire.Number = 2
	attrVendor  protowire.Number = 3
	attrText    protowire.Number = 4
	attrInteger protowire.Number = 5
	attrTime    protowire.Number = 6
	attrAddress protowire.Number = 7
	attrOctets  protowire.Number = 8

	timestampSeconds protowire.Number = 1
	timestampNanos   protowire.Number = 2
)

// Record is one Accounting-Request as the log carries it.
type Record struct {
	// SessionID is Acct-Session-Id as the record holds it (escaped if it
	// was not UTF-8): the log key. It is part of Wire, not a copy.
	SessionID []byte
	// Wire is the kradius.accounting.v1.Record, protobuf-encoded.
	Wire []byte
	// Key, when set, is the log key instead of SessionID: a profile whose
	// CDR spans sessions (a call's legs) keys them by what they share, so
	// that they reach one partition, and one consumer, in order.
	Key []byte
}

// AppendDerived appends fields the profile derived from the request
// (Record.derived) to a record's wire form: a repeated field may follow
// the others.
func AppendDerived(wire []byte, derived []*accountingv1.Attribute) ([]byte, error) {
	for _, a := range derived {
		b, err := proto.Marshal(a)
		if err != nil {
			return wire, err
		}
		wire = protowire.AppendTag(wire, recDerived, protowire.BytesType)
		wire = protowire.AppendBytes(wire, b)
	}
	return wire, nil
}

// LogKey is the key the record is appended under.
func (r Record) LogKey() []byte {
	if r.Key != nil {
		return r.Key
	}
	return r.SessionID
}

// AppendRecord encodes an authenticated Accounting-Request, pkt as it came
// off the wire, as a kradius.accounting.v1.Record appended to dst:
// Acct-Session-Id and Acct-Status-Type (both required), User-Name, m, and
// every attribute in order, decoded by d. It reads pkt in place: the edge
// parses no radius.Packet for accounting.
//
// Text that is not UTF-8 (a proto string must be) is never a reason to
// refuse a record: an attribute keeps its bytes as octets, and the session
// ID and user name get their invalid bytes escaped as \xNN.
func AppendRecord(dst, pkt []byte, m Meta, d *Dictionary) (Record, error) {
	attrs, err := attributes(pkt)
	if err != nil {
		return Record{}, err
	}
	var sid, user, status []byte
	var haveStatus bool
	for typ, v := range attrs.all() {
		switch {
		case typ == uint8(rfc2866.AcctSessionID_Type) && sid == nil:
			sid = v
		case typ == uint8(rfc2866.AcctStatusType_Type) && !haveStatus:
			status, haveStatus = v, true
		case typ == uint8(rfc2865.UserName_Type) && user == nil:
			user = v
		}
	}
	if len(sid) == 0 {
		return Record{}, ErrNoSessionID
	}
	if len(status) != 4 {
		return Record{}, ErrNoStatusType
	}
	st := binary.BigEndian.Uint32(status)
	start := len(dst)
	b := protowire.AppendTag(dst, recSessionID, protowire.BytesType)
	b = appendText(b, sid)
	if _, known := accountingv1.StatusType_name[int32(st)]; known {
		b = appendUint(b, recStatusType, uint64(st))
	}
	b = appendUint(b, recStatusTypeValue, uint64(st))
	if len(user) > 0 {
		b = protowire.AppendTag(b, recUserName, protowire.BytesType)
		b = appendText(b, user)
	}
	b = appendString(b, recNASClient, m.Client)
	b = appendString(b, recNASAddress, m.Address)
	b = appendString(b, recProfile, m.Profile)
	b = protowire.AppendTag(b, recReceived, protowire.BytesType)
	b = appendTimestamp(b, m.Received.Unix(), int32(m.Received.Nanosecond()))
	b = appendString(b, recEdge, m.Edge)
	if b, err = d.appendAttributes(b, attrs); err != nil {
		return Record{}, fmt.Errorf("decoding attributes: %w", err)
	}
	b = appendUint(b, recIdentifier, uint64(pkt[1]))
	wire := b[start:]
	// The session ID is the first field: its tag is one byte.
	session, _ := protowire.ConsumeBytes(wire[1:])
	return Record{SessionID: session, Wire: wire}, nil
}

// rawAttributes are a RADIUS packet's attributes as they came off the wire,
// their framing checked.
type rawAttributes []byte

const headerLen = 20

// attributes checks pkt's header and attribute framing and returns its
// attributes.
func attributes(pkt []byte) (rawAttributes, error) {
	if len(pkt) < headerLen {
		return nil, fmt.Errorf("%d bytes is shorter than a RADIUS header", len(pkt))
	}
	n := int(binary.BigEndian.Uint16(pkt[2:4]))
	if n < headerLen || n > len(pkt) {
		return nil, fmt.Errorf("length field %d does not fit %d bytes", n, len(pkt))
	}
	pkt = pkt[:n]
	for b := pkt[headerLen:]; len(b) > 0; b = b[b[1]:] {
		if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
			return nil, fmt.Errorf("attribute framing broken at offset %d", len(pkt)-len(b))
		}
	}
	return rawAttributes(pkt[headerLen:]), nil
}

// all yields each attribute's type and value, in order.
func (a rawAttributes) all() func(yield func(uint8, []byte) bool) {
	return func(yield func(uint8, []byte) bool) {
		for b := a; len(b) > 0; b = b[b[1]:] {
			if !yield(b[0], b[2:b[1]]) {
				return
			}
		}
	}
}

// appendAttributes appends every attribute, in order, each sub-attribute of
// a Vendor-Specific attribute on its own (zero-length values included, as
// the FaxBack port server sends empty strings). User-Password is never
// copied.
func (d *Dictionary) appendAttributes(b []byte, attrs rawAttributes) ([]byte, error) {
	for typ, v := range attrs.all() {
		switch {
		case typ == uint8(rfc2865.UserPassword_Type):
			continue
		case typ != uint8(rfc2865.VendorSpecific_Type) || len(v) < 4:
			b = d.appendAttribute(b, 0, typ, v)
			continue
		}
		vendor := binary.BigEndian.Uint32(v)
		if d.vendors[vendor] == nil {
			// A vendor without a dictionary: its framing is its own business.
			b = appendRaw(b, "Vendor-"+strconv.FormatUint(uint64(vendor), 10), uint32(rfc2865.VendorSpecific_Type), vendor, v[4:])
			continue
		}
		for sub := v[4:]; len(sub) > 0; {
			if len(sub) < 2 || int(sub[1]) < 2 || int(sub[1]) > len(sub) {
				return nil, fmt.Errorf("vendor %d: sub-attribute framing broken", vendor)
			}
			b = d.appendAttribute(b, vendor, sub[0], sub[2:sub[1]])
			sub = sub[sub[1]:]
		}
	}
	return b, nil
}

// appendAttribute appends one Attribute, its value decoded by its
// dictionary type; a value that does not fit its type is kept raw rather
// than dropped.
func (d *Dictionary) appendAttribute(b []byte, vendor uint32, typ uint8, v []byte) []byte {
	def := d.lookup(vendor, typ)
	if def == nil {
		name := "Attr-" + strconv.FormatUint(uint64(typ), 10)
		if vendor != 0 {
			name = "Vendor-" + strconv.FormatUint(uint64(vendor), 10) + "-Attr-" + strconv.FormatUint(uint64(typ), 10)
		}
		return appendRaw(b, name, uint32(typ), vendor, v)
	}
	b = protowire.AppendTag(b, recAttributes, protowire.BytesType)
	// The message's length comes first; one byte covers nearly every
	// attribute, so reserve that and move the body in the rare other case.
	lenAt := len(b)
	b = append(b, 0)
	b = append(b, def.head...)
	b = appendValue(b, def.kind, v)
	return fixLength(b, lenAt)
}

func appendValue(b []byte, kind dictionary.AttributeType, v []byte) []byte {
	switch kind {
	case dictionary.AttributeString:
		if utf8.Valid(v) {
			b = protowire.AppendTag(b, attrText, protowire.BytesType)
			return protowire.AppendBytes(b, v)
		}
	case dictionary.AttributeInteger:
		if len(v) == 4 {
			b = protowire.AppendTag(b, attrInteger, protowire.VarintType)
			return protowire.AppendVarint(b, uint64(binary.BigEndian.Uint32(v)))
		}
	case dictionary.AttributeDate:
		if len(v) == 4 {
			b = protowire.AppendTag(b, attrTime, protowire.BytesType)
			return appendTimestamp(b, int64(binary.BigEndian.Uint32(v)), 0)
		}
	case dictionary.AttributeIPAddr, dictionary.AttributeIPv6Addr:
		if addr, ok := netip.AddrFromSlice(v); ok {
			b = protowire.AppendTag(b, attrAddress, protowire.BytesType)
			var text [64]byte
			return protowire.AppendBytes(b, addr.AppendTo(text[:0]))
		}
	}
	b = protowire.AppendTag(b, attrOctets, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// appendRaw appends an Attribute the dictionary does not know, as octets.
func appendRaw(b []byte, name string, typ, vendor uint32, v []byte) []byte {
	b = protowire.AppendTag(b, recAttributes, protowire.BytesType)
	lenAt := len(b)
	b = append(b, 0)
	b = appendAttrHead(b, name, typ, vendor)
	b = protowire.AppendTag(b, attrOctets, protowire.BytesType)
	b = protowire.AppendBytes(b, v)
	return fixLength(b, lenAt)
}

// fixLength writes the length of the message that starts after the byte
// reserved at lenAt, widening the varint if the body needs it.
func fixLength(b []byte, lenAt int) []byte {
	n := len(b) - lenAt - 1
	w := protowire.SizeVarint(uint64(n))
	if w > 1 {
		b = append(b, make([]byte, w-1)...)
		copy(b[lenAt+w:], b[lenAt+1:lenAt+1+n])
	}
	protowire.AppendVarint(b[:lenAt], uint64(n))
	return b
}

// appendTimestamp appends a google.protobuf.Timestamp message, length first.
func appendTimestamp(b []byte, seconds int64, nanos int32) []byte {
	n := 0
	if seconds != 0 {
		n += 1 + protowire.SizeVarint(uint64(seconds))
	}
	if nanos != 0 {
		n += 1 + protowire.SizeVarint(uint64(nanos))
	}
	b = protowire.AppendVarint(b, uint64(n))
	b = appendUint(b, timestampSeconds, uint64(seconds))
	return appendUint(b, timestampNanos, uint64(nanos))
}

// appendUint appends a varint field unless it is zero (proto3's default).
func appendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendString appends a string field unless it is empty (proto3's default).
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendText appends v as a length-delimited string, escaped if it is not UTF-8.
func appendText(b []byte, v []byte) []byte {
	if utf8.Valid(v) {
		return protowire.AppendBytes(b, v)
	}
	return protowire.AppendString(b, validText(v))
}

// validText returns v as a string, each byte that is not part of valid
// UTF-8 written as \xNN: deterministic, so a retried record keeps its key.
func validText(v []byte) string {
	if utf8.Valid(v) {
		return string(v)
	}
	out := make([]byte, 0, len(v)+8)
	for len(v) > 0 {
		r, n := utf8.DecodeRune(v)
		if r == utf8.RuneError && n == 1 {
			out = append(out, '\\', 'x', "0123456789abcdef"[v[0]>>4], "0123456789abcdef"[v[0]&15])
		} else {
			out = append(out, v[:n]...)
		}
		v = v[n:]
	}
	return string(out)
}

// Text is a string attribute's value for a named field: its text, or for
// one kept as octets because it was not UTF-8, those bytes escaped as
// AppendRecord escapes a session ID.
func Text(a *accountingv1.Attribute) string {
	if o, ok := a.GetValue().(*accountingv1.Attribute_Octets); ok {
		return validText(o.Octets)
	}
	return a.GetText()
}

// StatusTypeOf reads a wire-format Record's status_type without decoding
// the rest, so that a consumer skips the attributes of the records it has
// nothing to do with (Starts, Alives). ok is false if the record does not
// parse at the wire level; the caller then decodes it fully and learns why.
func StatusTypeOf(wire []byte) (st accountingv1.StatusType, ok bool) {
	ok = lastField(wire, recStatusType, protowire.VarintType, func(v []byte) bool {
		n, l := protowire.ConsumeVarint(v)
		st = accountingv1.StatusType(int32(n))
		return l >= 0
	})
	return st, ok
}

// ProfileOf reads a wire-format Record's profile as StatusTypeOf reads its
// status type.
func ProfileOf(wire []byte) (profile string, ok bool) {
	ok = lastField(wire, recProfile, protowire.BytesType, func(v []byte) bool {
		b, l := protowire.ConsumeBytes(v)
		profile = string(b)
		return l >= 0
	})
	return profile, ok
}

// lastField walks a message's fields and gives each occurrence of num
// (the last one wins, as in proto.Unmarshal) to value, at its value; false
// if the message does not parse, a num is not of type typ, or value fails.
func lastField(wire []byte, num protowire.Number, typ protowire.Type, value func([]byte) bool) bool {
	for len(wire) > 0 {
		n, t, l := protowire.ConsumeTag(wire)
		if l < 0 {
			return false
		}
		wire = wire[l:]
		if n == num && (t != typ || !value(wire)) {
			return false
		}
		if l = protowire.ConsumeFieldValue(n, t, wire); l < 0 {
			return false
		}
		wire = wire[l:]
	}
	return true
}
