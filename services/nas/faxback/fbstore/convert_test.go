package fbstore

import (
	"testing"

	faxbackv1 "kradius.dev/proto/kradius/faxback/v1"
	"kradius.dev/services/fieldtest"
	"kradius.dev/services/nas/faxback/fbdata"
)

// A field added to store's types or to the records' messages and left out
// of a converter fails here; in production it would vanish on the next
// write.

func TestAccountFieldsRoundTrip(t *testing.T) {
	var a fbdata.Account
	fieldtest.Fill(t, &a)
	p := AccountToProto(a)
	fieldtest.RequireSet(t, "AccountToProto", p, nil)
	fieldtest.RequireEqual(t, "AccountFromProto(AccountToProto)", a, AccountFromProto(p), nil)
}

func TestAccountMessageFieldsRoundTrip(t *testing.T) {
	p := &faxbackv1.Account{}
	fieldtest.Fill(t, p)
	a := AccountFromProto(p)
	fieldtest.RequireSet(t, "AccountFromProto", a, nil)
	fieldtest.RequireEqual(t, "AccountToProto(AccountFromProto)", p, AccountToProto(a), nil)
}

func TestDIDFieldsRoundTrip(t *testing.T) {
	var d fbdata.DID
	fieldtest.Fill(t, &d)
	p := DIDToProto(d)
	fieldtest.RequireSet(t, "DIDToProto", p, nil)
	fieldtest.RequireEqual(t, "DIDFromProto(DIDToProto)", d, DIDFromProto(p), nil)
}

func TestDIDMessageFieldsRoundTrip(t *testing.T) {
	p := &faxbackv1.DID{}
	fieldtest.Fill(t, p)
	d := DIDFromProto(p)
	fieldtest.RequireSet(t, "DIDFromProto", d, nil)
	fieldtest.RequireEqual(t, "DIDToProto(DIDFromProto)", p, DIDToProto(d), nil)
}

func TestCalledNumberFieldsRoundTrip(t *testing.T) {
	var c fbdata.CalledNumber
	fieldtest.Fill(t, &c)
	p := CalledNumberToProto(c)
	fieldtest.RequireSet(t, "CalledNumberToProto", p, nil)
	fieldtest.RequireEqual(t, "CalledNumberFromProto(CalledNumberToProto)", c, CalledNumberFromProto(p), nil)
}

func TestCalledNumberMessageFieldsRoundTrip(t *testing.T) {
	p := &faxbackv1.CalledNumber{}
	fieldtest.Fill(t, p)
	c := CalledNumberFromProto(p)
	fieldtest.RequireSet(t, "CalledNumberFromProto", c, nil)
	fieldtest.RequireEqual(t, "CalledNumberToProto(CalledNumberFromProto)", p, CalledNumberToProto(c), nil)
}
