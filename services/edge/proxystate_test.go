package edge

import (
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

func TestWithProxyState(t *testing.T) {
	req := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2865.ProxyState_Add(req, []byte("first"))
	rfc2865.UserName_SetString(req, "u")
	rfc2865.ProxyState_Add(req, []byte("second"))
	pkt, err := req.Encode()
	if err != nil {
		t.Fatal(err)
	}
	reply := &radius.Packet{Code: radius.CodeAccountingResponse, Attributes: radius.Attributes{{Type: rfc2865.ReplyMessage_Type, Attribute: []byte("m")}}}
	got := withProxyState(reply, pkt)
	if got == reply || len(reply.Attributes) != 1 {
		t.Fatal("the profile's reply was changed in place; it may be shared")
	}
	var states []string
	for _, a := range got.Attributes {
		if a.Type == rfc2865.ProxyState_Type {
			states = append(states, string(a.Attribute))
		}
	}
	if len(got.Attributes) != 3 || got.Attributes[0].Type != rfc2865.ReplyMessage_Type || len(states) != 2 || states[0] != "first" || states[1] != "second" {
		t.Errorf("reply attributes %v, want the profile's, then the Proxy-States in order", got.Attributes)
	}
	// The request's buffer is reused after the request: the reply owns its values.
	for i := range pkt {
		pkt[i] = 0
	}
	if string(got.Attributes[1].Attribute) != "first" {
		t.Error("the reply's Proxy-State shares the request's buffer")
	}

	plain := radius.New(radius.CodeAccessRequest, []byte("s"))
	rfc2865.UserName_SetString(plain, "u")
	b, err := plain.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if withProxyState(reply, b) != reply {
		t.Error("a request without Proxy-State copied the reply")
	}
}
