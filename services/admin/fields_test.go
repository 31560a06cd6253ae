package admin

import (
	"context"
	"io"
	"log/slog"
	"testing"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	"kradius.dev/services/fieldtest"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
)

// recordOnly are the fields of AccountRecord that ToRecord leaves unset.
var recordOnly = fieldtest.Exceptions{
	"password": "ToRecord's callers (kradius import, the operator) hash on their side and send password_hash",
}

// validHash stands in for the filled PasswordHash, which the server parses.
func validHash(t *testing.T) string {
	t.Helper()
	h, err := password.Hash("pw", cheap)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// What `kradius import` and the operator send is what the server stores:
// every field of fbdata.Account, the hash included, crosses the
// AdminService.
func TestAccountRecordFieldsRoundTrip(t *testing.T) {
	s := NewServer(nil, nil, cheap, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var a fbdata.Account
	fieldtest.Fill(t, &a)
	a.PasswordHash = validHash(t)
	r := ToRecord(a)
	fieldtest.RequireSet(t, "ToRecord", r, recordOnly)
	got, err := s.accountFromRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	fieldtest.RequireEqual(t, "accountFromRecord(ToRecord)", a, got, nil)
}

func TestAccountRecordMessageFieldsRoundTrip(t *testing.T) {
	s := NewServer(nil, nil, cheap, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r := &adminv1.AccountRecord{}
	fieldtest.Fill(t, r)
	r.Password, r.PasswordHash = "", validHash(t) // one of the two, tested apart
	a, err := s.accountFromRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	fieldtest.RequireSet(t, "accountFromRecord", a, nil)
	fieldtest.RequireEqual(t, "ToRecord(accountFromRecord)", r, ToRecord(a), nil)
}

// A group is an account seen through four of its fields: groupOf sets every
// field of Group, and PutGroup stores every one.
func TestGroupFields(t *testing.T) {
	var a fbdata.Account
	fieldtest.Fill(t, &a)
	fieldtest.RequireSet(t, "groupOf", groupOf(a), nil)

	c, _, st := serve(t)
	ctx := context.Background()
	g := &adminv1.Group{}
	fieldtest.Fill(t, g)
	// Values the store accepts, for the fields it validates.
	g.Type, g.Uuid = 9, "05a32765-c400-4993-90d8-35289f96988a"
	for _, m := range g.Members {
		if err := st.PutAccount(ctx, fbdata.Account{Name: m}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutGroup(ctx, &adminv1.PutGroupRequest{Group: g}); err != nil {
		t.Fatal(err)
	}
	stored, err := st.GetAccount(ctx, g.Name)
	if err != nil {
		t.Fatal(err)
	}
	fieldtest.RequireEqual(t, "groupOf(PutGroup)", g, groupOf(stored), nil)
}
