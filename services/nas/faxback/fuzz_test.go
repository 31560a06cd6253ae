package faxback

import (
	"context"
	"os"
	"strings"
	"testing"

	"layeh.com/radius"

	"kradius.dev/services/nas"
)

// FuzzDecode feeds arbitrary packets to the decoder and to the whole
// Access-Request path behind it: nothing may panic, and a packet is either
// answered or dropped with a reason.
func FuzzDecode(f *testing.F) {
	entries, err := os.ReadDir("testdata/golden")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		f.Add(readGolden(f, strings.TrimSuffix(e.Name(), ".txt")).request)
	}
	h, _, _ := testHandler(f, Options{UUIDFormat: UUIDDash})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := radius.Parse(b, []byte(secret))
		if err != nil {
			return // the edge drops these as malformed before a profile sees them
		}
		if _, err := Decode(p); err != nil && nas.DropReason(err) != nas.ReasonMalformed &&
			err != errNoCommand && err != errNoContext {
			t.Fatalf("Decode error of no known kind: %v", err)
		}
		reply, err := h.ServeAccess(context.Background(), &nas.Request{Packet: p, Client: "fuzz"})
		if (reply == nil) == (err == nil) {
			t.Fatalf("reply %v with err %v: want exactly one", reply, err)
		}
		if reply != nil {
			if _, err := reply.Encode(); err != nil {
				t.Fatalf("unencodable reply: %v", err)
			}
		}
	})
}
