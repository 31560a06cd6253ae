package edge

import (
	"bytes"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// withProxyState returns reply with the request's Proxy-State attributes
// added after the profile's own, unmodified and in order (RFC 2865 §5.33):
// a proxy between the NAS and kradius matches the reply to its request by
// the one it added, and discards a reply without it. Without Proxy-State it
// returns reply itself; with, a copy, because a profile's reply may be
// shared, and the values are copied, because pkt's buffer is reused once
// the request is handled. pkt is the framed request (checkFrame).
func withProxyState(reply *radius.Packet, pkt []byte) *radius.Packet {
	var states radius.Attributes
	for off := headerLen; off+2 <= len(pkt); {
		alen := int(pkt[off+1])
		if alen < 2 || off+alen > len(pkt) {
			break
		}
		if pkt[off] == byte(rfc2865.ProxyState_Type) {
			states = append(states, &radius.AVP{Type: rfc2865.ProxyState_Type, Attribute: bytes.Clone(pkt[off+2 : off+alen])})
		}
		off += alen
	}
	if len(states) == 0 {
		return reply
	}
	cp := *reply
	cp.Attributes = append(reply.Attributes[:len(reply.Attributes):len(reply.Attributes)], states...)
	return &cp
}
