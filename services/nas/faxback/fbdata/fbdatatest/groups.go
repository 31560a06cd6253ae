package fbdatatest

import (
	"slices"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
)

var groupTests = []test{
	{"GroupMembersMustExist", testGroupMembersMustExist},
	{"GroupMembersAsStored", testGroupMembersAsStored},
	{"FailoverAccountMustExist", testFailoverAccountMustExist},
	{"DeleteReferencedAccount", testDeleteReferencedAccount},
}

func group(name string, members ...string) fbdata.Account {
	return fbdata.Account{Name: name, Type: 8, Members: members}
}

func testGroupMembersMustExist(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("m1"))
	err := s.PutAccount(t.Context(), group("lb", "m1", "ghost"))
	assertError(t, "PutAccount of a group with a missing member", err, fbdata.ErrConflict)
	assertMentions(t, "PutAccount of a group with a missing member", err, "ghost")
	assertAccountAbsent(t, s, "lb")

	// Replacing an existing group is held to the same rule.
	mustPutAccount(t, s, group("lb", "m1"))
	err = s.PutAccount(t.Context(), group("lb", "m1", "ghost"))
	assertError(t, "PutAccount replacing a group with a missing member", err, fbdata.ErrConflict)
	if got := mustGetAccount(t, s, "lb").Members; !slices.Equal(got, []string{"m1"}) {
		t.Errorf("after the refused replacement, members = %q, want [m1]", got)
	}
}

func testGroupMembersAsStored(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("Zed"))
	mustPutAccount(t, s, account("alpha"))
	// Members are named in any case and kept in the order and spelling given.
	want := []string{"ZED", "Alpha"}
	mustPutAccount(t, s, group("LB", want...))
	if got := mustGetAccount(t, s, "lb").Members; !slices.Equal(got, want) {
		t.Errorf("members = %q, want %q as written", got, want)
	}
}

func testFailoverAccountMustExist(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	a := account("primary")
	a.RcvFailoverAccount, a.RcvFailoverMode = "mailgw", "always"
	err := s.PutAccount(t.Context(), a)
	assertError(t, "PutAccount with a missing failover account", err, fbdata.ErrConflict)
	assertMentions(t, "PutAccount with a missing failover account", err, "mailgw")
	assertAccountAbsent(t, s, "primary")

	mustPutAccount(t, s, account("MailGW"))
	mustPutAccount(t, s, a)
	// An account that fails over to itself refers to an existing account,
	// and does not stop its own deletion.
	self := account("loop")
	self.RcvFailoverAccount = "LOOP"
	mustPutAccount(t, s, self)
	if err := s.DeleteAccount(t.Context(), "loop"); err != nil {
		t.Errorf("DeleteAccount of an account failing over to itself: %v", err)
	}
}

func testDeleteReferencedAccount(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	for _, name := range []string{"m1", "m2", "mailgw"} {
		mustPutAccount(t, s, account(name))
	}
	mustPutAccount(t, s, group("LB", "m1", "M2"))
	primary := account("primary")
	primary.RcvFailoverAccount = "MailGW"
	mustPutAccount(t, s, primary)

	for _, tt := range []struct{ name, referrer string }{{"m2", "LB"}, {"MAILGW", "primary"}} {
		err := s.DeleteAccount(t.Context(), tt.name)
		assertError(t, "DeleteAccount("+tt.name+")", err, fbdata.ErrConflict)
		assertMentions(t, "DeleteAccount("+tt.name+")", err, tt.referrer)
		mustGetAccount(t, s, tt.name)
	}

	// Once the group lets m2 go, it may be deleted; m1 may not.
	mustPutAccount(t, s, group("lb", "m1"))
	if err := s.DeleteAccount(t.Context(), "m2"); err != nil {
		t.Errorf("DeleteAccount(m2) after the group dropped it: %v", err)
	}
	assertError(t, "DeleteAccount(m1)", s.DeleteAccount(t.Context(), "m1"), fbdata.ErrConflict)

	// Deleting the group and the failover's user frees the rest.
	for _, name := range []string{"lb", "m1", "primary", "mailgw"} {
		if err := s.DeleteAccount(t.Context(), name); err != nil {
			t.Errorf("DeleteAccount(%s): %v", name, err)
		}
		assertAccountAbsent(t, s, name)
	}
}
