package edge

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
)

// fuzzSecrets are the secrets FuzzFrame picks from, rather than fuzzed
// bytes: macs keeps a pool per secret for the life of the process, and a
// fuzzed secret would add one per execution. Among them, one longer than
// HMAC-MD5's 64-byte block, which HMAC hashes into its key, and one with a
// NUL.
var fuzzSecrets = [][]byte{
	[]byte("s"),
	[]byte("testing123"),
	bytes.Repeat([]byte("a-long-secret/"), 5),
	[]byte("nul\x00inside"),
}

// FuzzFrame feeds arbitrary datagrams to the edge's framing and
// authenticator checks, and replies built from them to encodeReply.
// Nothing may panic. checkFrame accepts only what radius.Parse, which runs
// next, accepts too, and refuses beyond it only a bad Message-Authenticator;
// verifyRequest agrees with RFC 2866's and RFC 3579's checks written out
// plainly here, and takes any request signed with the secret (sign: the
// fuzz signs before checking, since mutated bytes are almost never
// authentic); a reply encodes into a frame the NAS can authenticate.
func FuzzFrame(f *testing.F) {
	for _, s := range fuzzFrameSeeds(f) {
		f.Add(s.b, s.secret, s.sign)
	}
	f.Fuzz(func(t *testing.T, b []byte, secretIndex uint8, sign bool) {
		secret := fuzzSecrets[int(secretIndex)%len(fuzzSecrets)]
		if sign {
			b = fuzzSign(b, secret)
		}
		pkt, maOffset, err := checkFrame(b)
		p, perr := radius.Parse(b, secret)
		switch {
		case err != nil && perr == nil:
			fuzzCheckRefusedMA(t, p, err)
			return
		case err != nil:
			return
		case perr != nil:
			t.Fatalf("checkFrame takes what radius.Parse refuses (%v)", perr)
		}
		fuzzCheckFrame(t, b, pkt, maOffset, p)
		if got, want := verifyRequest(pkt, maOffset, secret), fuzzVerify(pkt, maOffset, secret); (got == nil) != want {
			t.Fatalf("verifyRequest = %v, the RFCs' checks say %v", got, want)
		} else if sign && got != nil {
			t.Fatalf("verifyRequest refuses a signed request: %v", got)
		}
		fuzzCheckReply(t, p, pkt, maOffset >= 0)
	})
}

type fuzzFrameSeed struct {
	b      []byte
	secret uint8
	sign   bool
}

func fuzzFrameSeeds(f *testing.F) []fuzzFrameSeed {
	access := radius.New(radius.CodeAccessRequest, fuzzSecrets[1])
	rfc2865.UserName_SetString(access, "account")
	rfc2865.UserPassword_SetString(access, "password")
	withMA := radius.New(radius.CodeAccessRequest, fuzzSecrets[1])
	withMA.Add(radius.Type(typeMessageAuthenticator), make(radius.Attribute, 16))
	rfc2865.UserName_SetString(withMA, "account")
	start := radius.New(radius.CodeAccountingRequest, fuzzSecrets[2])
	rfc2866.AcctStatusType_Set(start, rfc2866.AcctStatusType_Value_Start)
	rfc2866.AcctSessionID_SetString(start, "session-1")
	start.Add(radius.Type(typeMessageAuthenticator), make(radius.Attribute, 16))
	stop := radius.New(radius.CodeAccountingRequest, fuzzSecrets[3])
	rfc2866.AcctStatusType_Set(stop, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(stop, "session-1")
	twoMA := radius.New(radius.CodeAccessRequest, fuzzSecrets[0])
	twoMA.Add(radius.Type(typeMessageAuthenticator), make(radius.Attribute, 16))
	twoMA.Add(radius.Type(typeMessageAuthenticator), make(radius.Attribute, 16))
	padded := append(fuzzEncode(f, access), 0, 0, 0, 0)
	return []fuzzFrameSeed{
		{fuzzEncode(f, access), 1, false},
		{fuzzEncode(f, withMA), 1, true},
		{fuzzEncode(f, start), 2, true},
		{fuzzEncode(f, stop), 3, false},
		{fuzzEncode(f, twoMA), 0, true},
		{padded, 1, false},
		{padded[:headerLen-1], 0, false},
	}
}

func fuzzEncode(f *testing.F, p *radius.Packet) []byte {
	b, err := p.Encode()
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// fuzzSign signs a well-framed datagram as a NAS does: its
// Message-Authenticator first, then an Accounting-Request's Request
// Authenticator, which covers it. Anything else is returned as it is.
func fuzzSign(b, secret []byte) []byte {
	pkt, maOffset, err := checkFrame(b)
	if err != nil {
		return b
	}
	pkt = bytes.Clone(pkt)
	acct := radius.Code(pkt[0]) == radius.CodeAccountingRequest
	if maOffset >= 0 {
		copy(pkt[maOffset+2:], fuzzMA(pkt, maOffset, secret, pkt[4:20], acct))
	}
	if acct {
		copy(pkt[4:20], fuzzRequestAuthenticator(pkt, secret))
	}
	return pkt
}

// fuzzRequestAuthenticator is RFC 2866 §3's Request Authenticator.
func fuzzRequestAuthenticator(pkt, secret []byte) []byte {
	h := md5.New()
	h.Write(pkt[:4])
	h.Write(make([]byte, 16))
	h.Write(pkt[20:])
	h.Write(secret)
	return h.Sum(nil)
}

// fuzzMA is RFC 3579 §3.2's Message-Authenticator of pkt, whose
// Authenticator field is taken as auth, or zeros when zeroAuth (RFC 5080
// §2.2.1, for accounting): a fresh HMAC on a copy, where the edge's keeps
// pooled HMACs and hashes around the attribute.
func fuzzMA(pkt []byte, maOffset int, secret, auth []byte, zeroAuth bool) []byte {
	c := bytes.Clone(pkt)
	copy(c[4:20], auth)
	if zeroAuth {
		clear(c[4:20])
	}
	clear(c[maOffset+2 : maOffset+messageAuthenticatorLen])
	m := hmac.New(md5.New, secret)
	m.Write(c)
	return m.Sum(nil)
}

// fuzzVerify says whether a request is authentic under the RFCs.
func fuzzVerify(pkt []byte, maOffset int, secret []byte) bool {
	acct := radius.Code(pkt[0]) == radius.CodeAccountingRequest
	if acct && !radius.IsAuthenticRequest(pkt, secret) {
		return false
	}
	return maOffset < 0 || hmac.Equal(fuzzMA(pkt, maOffset, secret, pkt[4:20], acct), pkt[maOffset+2:maOffset+messageAuthenticatorLen])
}

// fuzzCheckFrame holds an accepted frame to its datagram and to what
// radius.Parse read from it.
func fuzzCheckFrame(t *testing.T, b, pkt []byte, maOffset int, p *radius.Packet) {
	t.Helper()
	if n := int(binary.BigEndian.Uint16(b[2:4])); len(pkt) != n || !bytes.Equal(pkt, b[:n]) {
		t.Fatalf("frame of %d bytes, Length field %d", len(pkt), n)
	}
	again, err := p.MarshalBinary()
	if err != nil || !bytes.Equal(again, pkt) {
		t.Fatalf("the parsed packet encodes to %x (%v), not the frame %x", again, err, pkt)
	}
	want := -1
	off := headerLen
	for _, a := range p.Attributes {
		if a.Type == radius.Type(typeMessageAuthenticator) {
			want = off
		}
		off += 2 + len(a.Attribute)
	}
	if maOffset != want {
		t.Fatalf("Message-Authenticator at %d, the attributes put it at %d", maOffset, want)
	}
}

// fuzzCheckRefusedMA: what radius.Parse reads and checkFrame refuses must
// have a Message-Authenticator the edge cannot check.
func fuzzCheckRefusedMA(t *testing.T, p *radius.Packet, err error) {
	t.Helper()
	n := 0
	for _, a := range p.Attributes {
		if a.Type != radius.Type(typeMessageAuthenticator) {
			continue
		}
		if n++; n > 1 || len(a.Attribute) != 16 {
			return
		}
	}
	t.Fatalf("checkFrame refuses a packet radius.Parse reads, with no Message-Authenticator at fault: %v", err)
}

// fuzzCheckReply encodes a reply carrying the request's attributes, as a
// profile's reply might, and checks it as the NAS will.
func fuzzCheckReply(t *testing.T, req *radius.Packet, pkt []byte, withMA bool) {
	t.Helper()
	code := radius.CodeAccessAccept
	if req.Code == radius.CodeAccountingRequest {
		code = radius.CodeAccountingResponse
	}
	reply := req.Response(code)
	size := headerLen
	if withMA {
		size += messageAuthenticatorLen
	}
	for _, a := range req.Attributes {
		if a.Type != radius.Type(typeMessageAuthenticator) {
			reply.Attributes = append(reply.Attributes, a)
			size += 2 + len(a.Attribute)
		}
	}
	b, err := encodeReply(reply, withMA)
	if (err != nil) != (size > maxPacket) {
		t.Fatalf("a reply of %d bytes: encodeReply says %v", size, err)
	}
	if err != nil {
		return
	}
	frame, maOffset, err := checkFrame(b)
	switch {
	case err != nil || len(frame) != size:
		t.Fatalf("reply of %d bytes, want %d: %v", len(frame), size, err)
	case withMA && maOffset != headerLen, !withMA && maOffset >= 0:
		t.Fatalf("reply's Message-Authenticator at %d, with one asked: %v", maOffset, withMA)
	case !radius.IsAuthenticResponse(b, pkt, reply.Secret):
		t.Fatal("the Response Authenticator does not match")
	case withMA && !hmac.Equal(b[maOffset+2:maOffset+messageAuthenticatorLen], fuzzMA(b, maOffset, reply.Secret, pkt[4:20], false)):
		t.Fatal("the reply's Message-Authenticator does not match")
	}
}
