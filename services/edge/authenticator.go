package edge

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"

	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
)

const (
	headerLen = 20
	maxPacket = 4096
	// typeMessageAuthenticator is RFC 2869's attribute 80.
	typeMessageAuthenticator = byte(rfc2869.MessageAuthenticator_Type)
	messageAuthenticatorLen  = 18
)

var (
	errBadAuthenticator  = errors.New("authenticator does not match the client's secret")
	errBadMessageAuth    = errors.New("Message-Authenticator does not match the client's secret")
	errMissingMessageAut = errors.New("Message-Authenticator required by the client's policy but absent")
)

// checkFrame validates the header and the attribute framing of a datagram and
// returns the packet, trimmed to its Length field (RFC 2865 §3: octets beyond
// Length are padding), and the offset of its Message-Authenticator or -1.
func checkFrame(b []byte) (pkt []byte, maOffset int, err error) {
	if len(b) < headerLen {
		return nil, -1, fmt.Errorf("%d bytes is shorter than a RADIUS header", len(b))
	}
	length := int(binary.BigEndian.Uint16(b[2:4]))
	if length < headerLen || length > maxPacket || length > len(b) {
		return nil, -1, fmt.Errorf("length field %d does not fit a %d-byte datagram", length, len(b))
	}
	pkt = b[:length]
	maOffset = -1
	for off := headerLen; off < length; {
		if length-off < 2 {
			return nil, -1, fmt.Errorf("attribute at offset %d is truncated", off)
		}
		alen := int(pkt[off+1])
		if alen < 2 || off+alen > length {
			return nil, -1, fmt.Errorf("attribute %d at offset %d has length %d", pkt[off], off, alen)
		}
		if pkt[off] == typeMessageAuthenticator {
			if alen != messageAuthenticatorLen {
				return nil, -1, fmt.Errorf("Message-Authenticator has length %d, want 18", alen)
			}
			if maOffset >= 0 {
				return nil, -1, errors.New("more than one Message-Authenticator")
			}
			maOffset = off
		}
		off += alen
	}
	return pkt, maOffset, nil
}

// messageAuthenticator computes RFC 3579 §3.2's HMAC-MD5 over pkt with the
// attribute's value zeroed. zeroAuth zeroes the Authenticator field too, as
// Accounting-Requests require (RFC 5080 §2.2.1).
func messageAuthenticator(pkt []byte, maOffset int, secret []byte, zeroAuth bool) []byte {
	pool := macs(secret)
	mac := pool.Get().(hash.Hash)
	defer pool.Put(mac)
	mac.Reset()
	var zero [16]byte
	mac.Write(pkt[:4])
	if zeroAuth {
		mac.Write(zero[:])
	} else {
		mac.Write(pkt[4:20])
	}
	mac.Write(pkt[20 : maOffset+2])
	mac.Write(zero[:])
	mac.Write(pkt[maOffset+messageAuthenticatorLen:])
	return mac.Sum(nil)
}

// macPools keep HMAC-MD5s keyed with each client's secret, by secret:
// keying one (hmac.New) cost as much as the rest of the check, and a
// FireBrick signs every request. Reset brings a used one back to its key.
var macPools sync.Map // string -> *sync.Pool of hash.Hash

func macs(secret []byte) *sync.Pool {
	if p, ok := macPools.Load(string(secret)); ok {
		return p.(*sync.Pool)
	}
	key := bytes.Clone(secret)
	p, _ := macPools.LoadOrStore(string(key), &sync.Pool{New: func() any { return hmac.New(md5.New, key) }})
	return p.(*sync.Pool)
}

// verifyRequest checks a request's authenticators against the client's secret.
func verifyRequest(pkt []byte, maOffset int, secret []byte) error {
	code := radius.Code(pkt[0])
	if code == radius.CodeAccountingRequest {
		h := md5.New()
		var zero [16]byte
		h.Write(pkt[:4])
		h.Write(zero[:])
		h.Write(pkt[20:])
		h.Write(secret)
		if !hmac.Equal(h.Sum(nil), pkt[4:20]) {
			return errBadAuthenticator
		}
	}
	if maOffset >= 0 {
		want := messageAuthenticator(pkt, maOffset, secret, code == radius.CodeAccountingRequest)
		if !hmac.Equal(want, pkt[maOffset+2:maOffset+messageAuthenticatorLen]) {
			return errBadMessageAuth
		}
	}
	return nil
}

// encodeReply encodes a response to a request whose Authenticator the reply
// carries (radius.Packet.Response copies it). withMA puts a Message-Authenticator
// first, as BlastRADIUS mitigations recommend, because the request had one.
func encodeReply(reply *radius.Packet, withMA bool) ([]byte, error) {
	size := headerLen
	if withMA {
		size += messageAuthenticatorLen
	}
	for _, a := range reply.Attributes {
		if len(a.Attribute) > 253 {
			return nil, fmt.Errorf("attribute %d is %d bytes, over 253", a.Type, len(a.Attribute))
		}
		size += 2 + len(a.Attribute)
	}
	if size > maxPacket {
		return nil, fmt.Errorf("reply is %d bytes, over %d", size, maxPacket)
	}
	b := make([]byte, headerLen, size)
	b[0] = byte(reply.Code)
	b[1] = reply.Identifier
	binary.BigEndian.PutUint16(b[2:4], uint16(size))
	copy(b[4:20], reply.Authenticator[:])
	maOffset := -1
	if withMA {
		maOffset = len(b)
		b = append(b, typeMessageAuthenticator, messageAuthenticatorLen)
		b = append(b, make([]byte, 16)...)
	}
	for _, a := range reply.Attributes {
		b = append(b, byte(a.Type), byte(2+len(a.Attribute)))
		b = append(b, a.Attribute...)
	}
	if withMA {
		copy(b[maOffset+2:], messageAuthenticator(b, maOffset, reply.Secret, false))
	}
	h := md5.New()
	h.Write(b)
	h.Write(reply.Secret)
	copy(b[4:20], h.Sum(nil))
	return b, nil
}
