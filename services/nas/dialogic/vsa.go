package dialogic

import (
	"encoding/binary"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/nas"
)

// Vendor is Dialogic's (Cantata's) IANA enterprise number.
const Vendor = 3028

// vsas are the first value of each vendor-3028 attribute of a request, by
// number: the roles' numbers are per client, so they are read by number.
type vsas map[int][]byte

// vsasOf collects the Dialogic VSAs of p. A malformed vendor attribute is
// skipped: its values are not the IMG's.
func vsasOf(p *radius.Packet) vsas {
	out := vsas{}
	for _, a := range p.Attributes {
		if a.Type == rfc2865.VendorSpecific_Type {
			addVSAs(out, a.Attribute)
		}
	}
	return out
}

// vsasOfRaw is vsasOf for a packet as it came off the wire (accounting
// parses no radius.Packet); its framing has been checked.
func vsasOfRaw(pkt []byte) vsas {
	out := vsas{}
	for t, v := range nas.RawAttributes(pkt) {
		if t == rfc2865.VendorSpecific_Type {
			addVSAs(out, v)
		}
	}
	return out
}

func addVSAs(out vsas, v []byte) {
	if len(v) < 4 || binary.BigEndian.Uint32(v) != Vendor {
		return
	}
	for sub := v[4:]; len(sub) >= 2 && int(sub[1]) >= 2 && int(sub[1]) <= len(sub); sub = sub[sub[1]:] {
		if _, seen := out[int(sub[0])]; !seen {
			out[int(sub[0])] = sub[2:sub[1]]
		}
	}
}

// text is a VSA's value as text, "" when absent.
func (v vsas) text(n int) string { return string(v[n]) }

// integer is a 4-octet VSA's value.
func (v vsas) integer(n int) (uint32, bool) {
	b, ok := v[n]
	if !ok || len(b) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}
