package carrier

import (
	"net/netip"
	"slices"
	"strings"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
)

// Table finds carriers by what a NAS reports of a call: a TDM trunk (the
// IMG's address and the trunk id) or a VoIP address (the longest of the
// carriers' networks that holds it). It is built from every carrier and
// then only read, so it is safe for concurrent use.
type Table struct {
	byName  map[string]*carrierv1.Carrier
	byTrunk map[trunk]*carrierv1.Carrier // nil: claimed by two carriers
	// networks, longest prefix first; a network two carriers list is
	// neither's.
	networks []network
	primary  *carrierv1.Carrier
	// Conflicts are the trunks and networks two carriers claim, which
	// match neither (a provisioning error, logged by the caller).
	Conflicts []string
}

type trunk struct {
	img netip.Addr
	id  string
}

type network struct {
	prefix  netip.Prefix
	carrier *carrierv1.Carrier
}

// NewTable indexes carriers (records the store accepted).
func NewTable(carriers []*carrierv1.Carrier) *Table {
	t := &Table{byName: map[string]*carrierv1.Carrier{}, byTrunk: map[trunk]*carrierv1.Carrier{}}
	byPrefix := map[netip.Prefix]*carrierv1.Carrier{}
	for _, c := range carriers {
		t.byName[strings.ToLower(c.GetName())] = c
		if c.GetPrimary() {
			t.primary = c
		}
		for _, tr := range c.GetTrunks() {
			img, err := netip.ParseAddr(tr.GetImg())
			if err != nil {
				continue
			}
			k := trunk{img.Unmap(), tr.GetTrunkId()}
			if other, ok := t.byTrunk[k]; ok && other != c {
				if other != nil {
					t.Conflicts = append(t.Conflicts, "trunk "+tr.GetTrunkId()+" of IMG "+tr.GetImg()+": "+other.GetName()+" and "+c.GetName())
				}
				t.byTrunk[k] = nil
				continue
			}
			t.byTrunk[k] = c
		}
		for _, s := range c.GetSourceCidrs() {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				continue
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr()))
			if other, ok := byPrefix[p]; ok && other != c {
				if other != nil {
					t.Conflicts = append(t.Conflicts, "network "+p.String()+": "+other.GetName()+" and "+c.GetName())
				}
				byPrefix[p] = nil
				continue
			}
			byPrefix[p] = c
		}
	}
	for p, c := range byPrefix {
		t.networks = append(t.networks, network{p, c})
	}
	slices.SortFunc(t.networks, func(a, b network) int {
		if a.prefix.Bits() != b.prefix.Bits() {
			return b.prefix.Bits() - a.prefix.Bits()
		}
		return a.prefix.Addr().Compare(b.prefix.Addr())
	})
	slices.Sort(t.Conflicts)
	return t
}

// unmapBits is what an IPv4-mapped IPv6 prefix loses when unmapped.
func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// ByName finds a carrier by its name, in any letter case.
func (t *Table) ByName(name string) (*carrierv1.Carrier, bool) {
	c, ok := t.byName[strings.ToLower(name)]
	return c, ok
}

// ByTrunk finds the carrier of a TDM trunk of the IMG at img.
func (t *Table) ByTrunk(img netip.Addr, id string) (*carrierv1.Carrier, bool) {
	c := t.byTrunk[trunk{img.Unmap(), id}]
	return c, c != nil
}

// ByAddress finds the carrier whose network holds addr, the longest
// prefix of all carriers' winning.
func (t *Table) ByAddress(addr netip.Addr) (*carrierv1.Carrier, bool) {
	if !addr.IsValid() {
		return nil, false
	}
	addr = addr.Unmap()
	for _, n := range t.networks {
		if n.prefix.Contains(addr) {
			return n.carrier, n.carrier != nil
		}
	}
	return nil, false
}

// Primary is the Primary Carrier, if one is marked.
func (t *Table) Primary() (*carrierv1.Carrier, bool) { return t.primary, t.primary != nil }

// Len is the number of carriers.
func (t *Table) Len() int { return len(t.byName) }
