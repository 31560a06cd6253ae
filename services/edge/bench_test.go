package edge

import (
	"net/netip"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// BenchmarkVerifyAccessRequest is framing plus Message-Authenticator check.
func BenchmarkVerifyAccessRequest(b *testing.B) {
	p := radius.New(radius.CodeAccessRequest, []byte("s3cret"))
	rfc2865.UserName_SetString(p, "account")
	rfc2865.UserPassword_SetString(p, "password")
	pkt := withMessageAuthenticator(&testing.T{}, p)
	b.ReportAllocs()
	for b.Loop() {
		raw, off, err := checkFrame(pkt)
		if err != nil || verifyRequest(raw, off, p.Secret) != nil {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkEncodeReply(b *testing.B) {
	req := radius.New(radius.CodeAccessRequest, []byte("s3cret"))
	reply := req.Response(radius.CodeAccessAccept)
	rfc2865.ReplyMessage_SetString(reply, "welcome")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeReply(reply, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplyCache(b *testing.B) {
	c := newReplyCache(30*time.Second, 100000)
	src := netip.MustParseAddrPort("192.0.2.1:1812")
	reply := []byte("reply")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		k := replyKey{src: src, id: byte(i), auth: [16]byte{byte(i), byte(i >> 8), byte(i >> 16)}}
		c.begin(k)
		c.finish(k, reply)
	}
}
