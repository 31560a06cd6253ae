package firebrick

import (
	"context"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/nas"
	"kradius.dev/services/nas/firebrick/sipattr"
)

// FuzzServeAccess feeds arbitrary packets to the whole Access-Request path
// of a FireBrick client, on a real store: nothing may panic, and a packet
// is either answered, with a reply that encodes, or dropped with a reason.
func FuzzServeAccess(f *testing.F) {
	for _, p := range []*radius.Packet{
		sipRequest("office1", "REGISTER", "n", "s3cret", 600),
		sipRequest("office1", "REGISTER", "", "", 0),
		invite("@carrierA", "", false),
		invite("office1", "s3cret", false),
		invite("reception", "", true),
	} {
		b, err := p.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	c, _ := newClient(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := radius.Parse(b, []byte("secret"))
		if err != nil {
			return // the edge drops these as malformed before a profile sees them
		}
		reply, err := c.ServeAccess(context.Background(), &nas.Request{Packet: p, Client: "fuzz"})
		if (reply == nil) == (err == nil) {
			t.Fatalf("reply %v with err %v: want exactly one", reply, err)
		}
		if reply != nil {
			if _, err := reply.Encode(); err != nil {
				t.Fatalf("unencodable reply: %v", err)
			}
			// An approval is the user's: never an Accept without one.
			if m := sipattr.DigestMethod_GetString(p); reply.Code == radius.CodeAccessAccept && m != "INVITE" && m != "REFER" &&
				rfc2865.UserName_GetString(p) == "" && sipattr.DigestUsername_GetString(p) == "" {
				t.Fatalf("an Accept of a %s without a user name", m)
			}
		}
	})
}
