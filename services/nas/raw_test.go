package nas

import (
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

func TestRawAttributes(t *testing.T) {
	p := radius.New(radius.CodeAccountingRequest, []byte("s"))
	rfc2865.UserName_SetString(p, "u")
	rfc2865.CalledStationID_SetString(p, "201")
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var types []radius.Type
	var values []string
	for typ, v := range RawAttributes(b) {
		types, values = append(types, typ), append(values, string(v))
	}
	if len(types) != 2 || types[0] != rfc2865.UserName_Type || values[0] != "u" || types[1] != rfc2865.CalledStationID_Type || values[1] != "201" {
		t.Errorf("attributes %v %q", types, values)
	}
	// Broken framing ends the walk; a short packet has none.
	b = append(b, 1, 0)
	n := 0
	for range RawAttributes(b) {
		n++
	}
	if n != 2 {
		t.Errorf("%d attributes before the broken one, want 2", n)
	}
	for range RawAttributes(b[:10]) {
		t.Error("an attribute in a packet shorter than its header")
	}
}
