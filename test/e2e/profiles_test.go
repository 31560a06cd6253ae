package e2e

import (
	"strings"
	"testing"
)

// fromGenericNAS makes radclient send from 127.0.0.2, the demo
// configuration's generic client; the demo port server is 127.0.0.1.
const fromGenericNAS = `, Packet-Src-IP-Address = 127.0.0.2`

// TestTwoProfilesInOneRun: one kradius, the demo configuration, answers the
// FaxBack port server and a generic NAS each by its own profile.
func TestTwoProfilesInOneRun(t *testing.T) {
	s := start(t)
	for _, tc := range []struct {
		name, attrs string
		want        []string
		not         string
	}{
		{"faxback login", `User-Name = "alice", User-Password = "wonderland", ` + login,
			[]string{"Received Access-Accept", `FB-Account-Login-Group = "EAST"`}, ""},
		{"generic PAP login", `User-Name = "dialup", User-Password = "dial-in"` + fromGenericNAS,
			[]string{"Received Access-Accept", `Reply-Message = "Welcome, dialup"`}, "FB-"},
		{"generic, wrong password", `User-Name = "dialup", User-Password = "guess"` + fromGenericNAS,
			[]string{"Received Access-Reject", `Reply-Message = "login failed"`}, ""},
		{"generic, unknown name", `User-Name = "nobody", User-Password = "guess"` + fromGenericNAS,
			[]string{"Received Access-Reject", `Reply-Message = "login failed"`}, ""},
		{"generic, a FaxBack account is no generic user", `User-Name = "alice", User-Password = "wonderland"` + fromGenericNAS,
			[]string{"Received Access-Reject", `Reply-Message = "login failed"`}, ""},
		{"generic ignores FaxBack commands", `User-Name = "dialup", User-Password = "dial-in", ` + login + fromGenericNAS,
			[]string{"Received Access-Accept"}, "FB-Account"},
		{"generic CHAP", `User-Name = "chapuser", CHAP-Password = "chap-secret"` + fromGenericNAS,
			[]string{"Received Access-Accept"}, ""},
		{"generic CHAP, wrong password", `User-Name = "chapuser", CHAP-Password = "chap-guess"` + fromGenericNAS,
			[]string{"Received Access-Reject", `Reply-Message = "login failed"`}, ""},
		{"generic CHAP, user without a CHAP password", `User-Name = "dialup", CHAP-Password = "dial-in"` + fromGenericNAS,
			[]string{"Received Access-Reject", `Reply-Message = "login failed"`}, ""},
	} {
		out := radclient(t, s.auth, "testing123", tc.attrs)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: radclient output lacks %q:\n%s", tc.name, w, out)
			}
		}
		if tc.not != "" && strings.Contains(out, tc.not) {
			t.Errorf("%s: radclient output has %q:\n%s", tc.name, tc.not, out)
		}
	}
	s.waitMetric(`kradius_generic_requests_total{method="pap",result="accept"}`, 2)
	s.waitMetric(`kradius_generic_requests_total{method="pap",result="reject"}`, 3)
	s.waitMetric(`kradius_generic_requests_total{method="chap",result="accept"}`, 1)
	s.waitMetric(`kradius_generic_requests_total{method="chap",result="reject"}`, 2)

	// Accounting from the generic NAS is acknowledged once durable, and its
	// Stop becomes a CDR of the common fields.
	for _, status := range []string{"Start", "Stop"} {
		out := radacct(t, s.addr("acct"), "testing123", `Acct-Status-Type = `+status+`, Acct-Session-Id = "gen-1", User-Name = "alice", Acct-Session-Time = 30`+fromGenericNAS)
		if !strings.Contains(out, "Received Accounting-Response") {
			t.Fatalf("generic %s: no Accounting-Response:\n%s", status, out)
		}
	}
	s.waitMetric(`kradius_cdr_effects_total{effect="cdr",result="applied"}`, 1)
}
