package didsrpc

import (
	"testing"

	didsv1 "kradius.dev/proto/kradius/dids/v1"
	"kradius.dev/services/fieldtest"
	"kradius.dev/services/nas/faxback/fbdata"
)

// Every field of fbdata.DID and fbdata.CalledNumber reaches the wire and
// comes back, and every field of their messages is set from one: a field
// added to either side and left out of a converter fails here instead of
// being dropped in distributed mode.
func TestDIDFieldsRoundTrip(t *testing.T) {
	var d fbdata.DID
	fieldtest.Fill(t, &d)
	p := ToProto(d)
	fieldtest.RequireSet(t, "ToProto", p, nil)
	fieldtest.RequireEqual(t, "FromProto(ToProto)", d, FromProto(p), nil)
}

func TestDIDMessageFieldsRoundTrip(t *testing.T) {
	p := &didsv1.DID{}
	fieldtest.Fill(t, p)
	d := FromProto(p)
	fieldtest.RequireSet(t, "FromProto", d, nil)
	fieldtest.RequireEqual(t, "ToProto(FromProto)", p, ToProto(d), nil)
}

func TestCalledNumberFieldsRoundTrip(t *testing.T) {
	var c fbdata.CalledNumber
	fieldtest.Fill(t, &c)
	p := CalledToProto(c)
	fieldtest.RequireSet(t, "CalledToProto", p, nil)
	fieldtest.RequireEqual(t, "CalledFromProto(CalledToProto)", c, CalledFromProto(p), nil)
}

func TestCalledNumberMessageFieldsRoundTrip(t *testing.T) {
	p := &didsv1.CalledNumber{}
	fieldtest.Fill(t, p)
	c := CalledFromProto(p)
	fieldtest.RequireSet(t, "CalledFromProto", c, nil)
	fieldtest.RequireEqual(t, "CalledToProto(CalledFromProto)", p, CalledToProto(c), nil)
}
