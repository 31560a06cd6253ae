package e2e

import (
	"fmt"
	"strings"
	"testing"

	"kradius.dev/services/eventually"
)

// radacct sends one Accounting-Request with radclient, waits for a reply,
// and returns its output.
func radacct(t *testing.T, addr, secret, attrs string) string {
	t.Helper()
	return runRadclient(t, "acct", replyWait, addr, secret, attrs)
}

func stopAttrs(session, dial, result string) string {
	s := fmt.Sprintf(`Acct-Status-Type = Stop, Acct-Session-Id = %q, User-Name = "account", FB-Dial-Number = %q, FB-Is-Send = 1, FB-Page-Count = 2, FB-Customer = ""`, session, dial)
	if result != "" {
		s += ", FB-Called-Number-Result = " + result
	}
	return s
}

// callAhead asks the edge for FB-Call-Ahead-Mode: Get-Call-Ahead-Mode, or
// Pre-Send-Session of a queue transfer for account (alice: mode never).
func callAhead(t *testing.T, s *server, account, number string) string {
	attrs := fmt.Sprintf(`User-Name = %q, FB-Command = Get-Call-Ahead-Mode, FB-Context = Pre-Send-Session`, number)
	if account != "" {
		attrs = fmt.Sprintf(`User-Name = %q, FB-Dial-Number = %q, FB-Transfer-Type = Queue, FB-Command = Get-Account, FB-Context = Pre-Send-Session`, account, number)
	}
	out := radclient(t, s.auth, "testing123", attrs)
	for _, mode := range []string{"Never", "Dynamic", "Always"} {
		if strings.Contains(out, "FB-Call-Ahead-Mode = "+mode) {
			return mode
		}
	}
	return "none: " + out
}

// waitCallAhead polls until the consumer has applied the Stop.
func waitCallAhead(t *testing.T, s *server, account, number, want string) {
	t.Helper()
	eventually.NoError(t, fmt.Sprintf("call-ahead for %s (account %q) %s", number, account, want), func() error {
		if got := callAhead(t, s, account, number); got != want {
			return fmt.Errorf("call-ahead %s", got)
		}
		return nil
	})
}

func TestAccountingAndCalledNumbers(t *testing.T) {
	s := start(t)
	acct := s.addr("acct")

	// Success for a fresh number: the ATA need not call ahead (0).
	if out := radacct(t, acct, "testing123", stopAttrs("sess-ok", "5557770001", "Success")); !strings.Contains(out, "Received Accounting-Response") {
		t.Fatalf("Stop not acknowledged:\n%s", out)
	}
	waitCallAhead(t, s, "", "5557770001", "Never")

	// A fax device answered a number, then a voice: an account in mode
	// dynamic, which asks the database, calls ahead to it again (1), and a
	// later success does not clear that. An account in mode never is never
	// told to, whatever the database says.
	radacct(t, acct, "testing123", stopAttrs("sess-fax", "5557770002", "FaxError"))
	waitCallAhead(t, s, "account", "5557770002", "Never")
	radacct(t, acct, "testing123", stopAttrs("sess-voice", "5557770002", "VoiceError"))
	waitCallAhead(t, s, "account", "5557770002", "Dynamic")
	if got := callAhead(t, s, "", "5557770002"); got != "Dynamic" {
		t.Errorf("Get-Call-Ahead-Mode after the voice answer: %s, want Dynamic", got)
	}
	if got := callAhead(t, s, "alice", "5557770002"); got != "Never" {
		t.Errorf("account in mode never after the voice answer: %s, want Never", got)
	}
	radacct(t, acct, "testing123", stopAttrs("sess-after", "5557770002", "Success"))
	waitCallAhead(t, s, "", "5557770002", "Dynamic")

	// The same Stop resent as a new request (new Identifier and
	// authenticator, as after a NAS restart) is appended again but billed once.
	for range 2 {
		if out := radacct(t, acct, "testing123", stopAttrs("sess-dup", "5557770003", "")); !strings.Contains(out, "Accounting-Response") {
			t.Fatalf("duplicate Stop not acknowledged:\n%s", out)
		}
	}
	// Latin-1 where the dictionary says string (a fax station ID, a name):
	// a protobuf string must be UTF-8, and that must not cost the record.
	latin1 := `Acct-Status-Type = Stop, Acct-Session-Id = "sess-latin1", User-Name = "Jos\351", FB-Dial-Number = "5557770004", FB-Remote-CSID = "M\374nchen", FB-Called-Number-Result = Success`
	if out := radacct(t, acct, "testing123", latin1); !strings.Contains(out, "Received Accounting-Response") {
		t.Fatalf("a Stop with Latin-1 text not acknowledged:\n%s", out)
	}
	waitCallAhead(t, s, "", "5557770004", "Never")
	s.waitMetric(`kradius_cdr_effects_total{effect="cdr",result="applied"}`, 6)
	s.waitMetric(`kradius_cdr_effects_total{effect="cdr",result="duplicate"}`, 1)
	// Applied and committed: no billing left to come.
	s.waitMetric(`kradius_cdr_lag_records{partition="0"}`, 0)

	// Bad input: never acknowledged, never appended, counted.
	before := s.metric(`kradius_edge_accounting_appends_total{result="ok"}`)
	if out := runRadclient(t, "acct", silenceWait, acct, "not-the-secret", stopAttrs("sess-bad", "1", "")); !strings.Contains(out, "No reply") {
		t.Errorf("wrong secret acknowledged:\n%s", out)
	}
	if out := runRadclient(t, "acct", silenceWait, acct, "testing123", `Acct-Status-Type = Stop, User-Name = "account"`); !strings.Contains(out, "No reply") {
		t.Errorf("Stop without Acct-Session-Id acknowledged:\n%s", out)
	}
	s.waitMetric(`kradius_edge_drops_total{listener="acct",reason="bad_authenticator"}`, 1)
	s.waitMetric(`kradius_edge_drops_total{listener="acct",reason="no_session_id"}`, 1)
	if after := s.metric(`kradius_edge_accounting_appends_total{result="ok"}`); after != before {
		t.Errorf("bad input appended: %v records before, %v after", before, after)
	}
}
