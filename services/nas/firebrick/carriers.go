package firebrick

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc3162"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/carrier"
	"kradius.dev/services/store/records"
)

// resultCarrierSource is a known carrier named from an address outside its
// networks.
const resultCarrierSource = "carrier_source"

// carrierOf checks the "@name" of a request (name without the @) against
// the carriers kind: the FireBrick has validated the carrier by its own
// configuration, and kradius refuses a name it does not know, or one
// named from an address (NAS-IP-Address: the requestor's) outside the
// carrier's networks. A refusal is a Reject, carrying the carrier's
// message if it has one, and its result.
func carrierOf(ctx context.Context, rs nas.Records, p *radius.Packet, name string) (*carrierv1.Carrier, *radius.Packet, string, error) {
	m, err := rs.Get(ctx, carrier.KindName, name)
	switch {
	case errors.Is(err, records.ErrNotFound):
		return nil, p.Response(radius.CodeAccessReject), resultCarrier, nil
	case err != nil:
		return nil, nil, "", fmt.Errorf("carrier %q: %w", name, err)
	}
	c := m.(*carrierv1.Carrier)
	if !carrier.From(c, requestor(p)) {
		reject, err := rejectWith(p, c.GetRejectMessage())
		return nil, reject, resultCarrierSource, err
	}
	return c, nil, "", nil
}

// requestor is the address of the SIP requestor, which the FireBrick sends
// as NAS-IP-Address or NAS-IPv6-Address (spec A.2): not its own.
func requestor(p *radius.Packet) netip.Addr {
	if ip, err := rfc2865.NASIPAddress_Lookup(p); err == nil {
		if a, ok := netip.AddrFromSlice(ip); ok {
			return a.Unmap()
		}
	}
	if ip, err := rfc3162.NASIPv6Address_Lookup(p); err == nil {
		if a, ok := netip.AddrFromSlice(ip); ok {
			return a
		}
	}
	return netip.Addr{}
}

// rejectWith is a Reject carrying msg as Reply-Message, which the FireBrick
// puts in the SIP response; none when msg is empty.
func rejectWith(p *radius.Packet, msg string) (*radius.Packet, error) {
	reject := p.Response(radius.CodeAccessReject)
	if msg != "" {
		if err := rfc2865.ReplyMessage_SetString(reject, msg); err != nil {
			return nil, err
		}
	}
	return reject, nil
}
