package accountsrpc

import (
	"testing"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/fieldtest"
	"kradius.dev/services/nas/faxback/fbdata"
)

// storeOnly are the fields of fbdata.Account that do not cross the wire.
var storeOnly = fieldtest.Exceptions{
	"PasswordHash": "the hash never leaves the accounts service; has_password says whether there is one",
}

// wireOnly are the fields of accountsv1.Account that fbdata.Account does not hold.
var wireOnly = fieldtest.Exceptions{
	"has_password": "derived from PasswordHash, which FromProto cannot have",
}

// Every field of fbdata.Account reaches the wire and comes back, and every
// field of the message is set from one: a field added to either side and
// left out of ToProto or FromProto fails here, where in production it would
// be dropped silently, and in distributed mode only.
func TestAccountFieldsRoundTrip(t *testing.T) {
	var a fbdata.Account
	fieldtest.Fill(t, &a)
	p := ToProto(a)
	fieldtest.RequireSet(t, "ToProto", p, nil)
	fieldtest.RequireEqual(t, "FromProto(ToProto)", a, FromProto(p), storeOnly)
}

func TestAccountMessageFieldsRoundTrip(t *testing.T) {
	p := &accountsv1.Account{}
	fieldtest.Fill(t, p)
	a := FromProto(p)
	fieldtest.RequireSet(t, "FromProto", a, storeOnly)
	fieldtest.RequireEqual(t, "ToProto(FromProto)", p, ToProto(a), wireOnly)
}
