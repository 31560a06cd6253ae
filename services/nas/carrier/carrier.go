// Package carrier is the Carrier kind: the telephone carriers that the
// carrier-voice profiles (firebrick, dialogic) exchange calls with. One
// record serves every profile, so the kind is shared: it is named
// "carriers", without a profile.
package carrier

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/store/records"
)

// KindName is the store name of the kind.
const KindName = "carriers"

// Kind is the carriers kind, carried by the accounts target: a carrier is
// who may send calls, as an account is who may log in.
var Kind = nas.Kind{
	Name:   KindName,
	Shared: true,
	Key:    "name",
	// At most one Primary Carrier.
	Unique: []string{"primary"},
	Schema: &nas.Schema{
		Service: nas.ServiceAccounts,
		Message: &carrierv1.Carrier{},
		Fold:    strings.ToLower,
		Index:   index,
	},
}

func index(m proto.Message) (records.Record, error) {
	c := m.(*carrierv1.Carrier)
	name := c.GetName()
	switch {
	case name == "":
		return records.Record{}, errors.New("name: required")
	case len(name) > 252 || !utf8.ValidString(name) || strings.ContainsAny(name, "@ \t:") || strings.ContainsFunc(name, unicode.IsControl):
		// The FireBrick sends "@name" in User-Name: one attribute. The
		// settlement totals' keys separate names with a control
		// character.
		return records.Record{}, fmt.Errorf("name: %q is not a carrier name (UTF-8, at most 252 octets, no '@', ':', blanks or control characters)", name)
	case len(c.GetRejectMessage()) > 253:
		return records.Record{}, fmt.Errorf("carrier %q: rejectMessage: longer than one attribute (253 octets)", name)
	case len(c.GetCui()) > 253:
		return records.Record{}, fmt.Errorf("carrier %q: cui: longer than one attribute (253 octets)", name)
	}
	for i, s := range c.GetSourceCidrs() {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return records.Record{}, fmt.Errorf("carrier %q: sourceCidrs[%d]: %q is not a CIDR (address/bits)", name, i, s)
		}
		if p.Masked() != p {
			return records.Record{}, fmt.Errorf("carrier %q: sourceCidrs[%d]: %q has host bits set (did you mean %s?)", name, i, s, p.Masked())
		}
	}
	for i, t := range c.GetTrunks() {
		if _, err := netip.ParseAddr(t.GetImg()); err != nil {
			return records.Record{}, fmt.Errorf("carrier %q: trunks[%d]: img: %q is not an IP address (the IMG's NAS-IP-Address)", name, i, t.GetImg())
		}
		if id := t.GetTrunkId(); id == "" || len(id) > 253 || !utf8.ValidString(id) {
			return records.Record{}, fmt.Errorf("carrier %q: trunks[%d]: trunkId: required, UTF-8, at most 253 octets", name, i)
		}
	}
	for i, p := range c.GetAllowedPrefixes() {
		if p == "" || len(p) > 32 || strings.Trim(strings.TrimPrefix(p, "+"), "0123456789") != "" {
			return records.Record{}, fmt.Errorf("carrier %q: allowedPrefixes[%d]: %q is not a number prefix (digits, a leading + allowed)", name, i, p)
		}
	}
	r := records.Record{Key: strings.ToLower(name)}
	if c.GetPrimary() {
		r.Unique = map[string]string{"primary": "true"}
	}
	return r, nil
}

// Reaches says whether the carrier may call number: any number if it lists
// no allowed prefixes, else one that begins with one of them.
func Reaches(c *carrierv1.Carrier, number string) bool {
	if len(c.GetAllowedPrefixes()) == 0 {
		return true
	}
	for _, p := range c.GetAllowedPrefixes() {
		if strings.HasPrefix(number, p) {
			return true
		}
	}
	return false
}

// From says whether a request from addr may speak for the carrier: any
// address if it lists no networks, else one of them. An invalid addr (the
// NAS sent none) matches only a carrier without networks.
func From(c *carrierv1.Carrier, addr netip.Addr) bool {
	if len(c.GetSourceCidrs()) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, s := range c.GetSourceCidrs() {
		if p, err := netip.ParsePrefix(s); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}
