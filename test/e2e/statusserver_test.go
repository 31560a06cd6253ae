package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"kradius.dev/services/eventually"
)

// signedProbe is radclient's input for a Status-Server it signs: given a
// Message-Authenticator to fill, radclient computes it.
const signedProbe = `Message-Authenticator = 0x00`

// statusServer sends one Status-Server with radclient, waiting wait
// seconds, and returns its output.
func statusServer(t *testing.T, addr, wait, attrs string) string {
	t.Helper()
	return runRadclient(t, "status", wait, addr, "testing123", attrs)
}

// unanswered is what statusWaitFor waits for when no reply is the event.
const unanswered = "No reply"

// statusWaitFor sends signed Status-Servers to addr until one's outcome
// is want: "Received Access-Accept", "Received Accounting-Response", or
// unanswered. Each waits silenceWait: a reply slower than that counts as
// none, so a caller that waits for silence then checks the drop counter.
func statusWaitFor(t *testing.T, addr, want string) {
	t.Helper()
	eventually.NoError(t, "Status-Server to "+addr+": "+want, func() error {
		out := statusServer(t, addr, silenceWait, signedProbe)
		if !strings.Contains(out, want) {
			return fmt.Errorf("radclient:\n%s", out)
		}
		return nil
	})
}

func statusDrops(listener, reason string) string {
	return fmt.Sprintf(`kradius_edge_drops_total{listener=%q,reason=%q}`, listener, reason)
}

// atLeastOne waits until the metric is at least one.
func atLeastOne(s *server, metric string) {
	s.t.Helper()
	s.waitMetricFunc(metric, ">= 1", func(v float64) bool { return v >= 1 })
}

// A known NAS's Status-Server, signed, is answered on both ports; one
// without Message-Authenticator, with a wrong secret or from an unknown
// address is not, and each drop is counted and logged.
func TestStatusServerWithRadclient(t *testing.T) {
	s := start(t)
	ports := []struct{ listener, addr, want string }{
		{"auth", s.auth, "Received Access-Accept"},
		{"acct", s.addr("acct"), "Received Accounting-Response"},
	}
	for _, p := range ports {
		if out := statusServer(t, p.addr, replyWait, signedProbe); !strings.Contains(out, p.want) {
			t.Errorf("%s port: want %q from radclient:\n%s", p.listener, p.want, out)
		}
		s.waitMetric(fmt.Sprintf(`kradius_edge_requests_total{kind="status-server",listener=%q,profile="faxback",result="serving"}`, p.listener), 1)
	}

	for _, tc := range []struct {
		name, secret, attrs, reason string
	}{
		{"no Message-Authenticator", "testing123", `User-Name = "probe"`, "missing_message_authenticator"},
		{"wrong secret", "not-the-secret", signedProbe, "bad_authenticator"},
		{"unknown client", "testing123", signedProbe + `, Packet-Src-IP-Address = 127.0.0.9`, "unknown_client"},
	} {
		for _, p := range ports {
			if out := runRadclient(t, "status", silenceWait, p.addr, tc.secret, tc.attrs); !strings.Contains(out, unanswered) {
				t.Errorf("%s on the %s port: answered:\n%s", tc.name, p.listener, out)
			}
			s.waitMetric(statusDrops(p.listener, tc.reason), 1)
		}
		if !strings.Contains(s.logText(), "reason="+tc.reason) {
			t.Errorf("%s: no log line for the %s drop", tc.name, tc.reason)
		}
	}
	// The known client's two, by kind: the unknown one's is counted only
	// among the drops.
	s.waitMetric(`kradius_edge_requests_total{kind="status-server",listener="auth",profile="faxback",result="dropped"}`, 2)
}

// With the accounts service killed the auth port's Status-Server goes
// unanswered, counted as not_serving, and is answered again once the
// service is back; with no accounting log the accounting port's never is.
func TestStatusServerBackendDown(t *testing.T) {
	c := startCluster(t) // accounting.log: none
	auth, acct := c.edge.auth, c.edge.addr("acct")
	statusWaitFor(t, auth, "Received Access-Accept")
	if out := statusServer(t, acct, silenceWait, signedProbe); !strings.Contains(out, unanswered) {
		t.Errorf("the accounting port answered with no accounting log:\n%s", out)
	}
	c.edge.waitMetric(statusDrops("acct", "not_serving"), 1)

	addr := c.accounts.addr("accounts")
	c.accounts.cmd.Process.Signal(syscall.SIGKILL)
	<-c.accounts.exited
	statusWaitFor(t, auth, unanswered)
	atLeastOne(c.edge, statusDrops("auth", "not_serving"))
	if !strings.Contains(c.edge.logText(), "reason=not_serving") {
		t.Error("no log line for the not_serving drops")
	}

	waitPortFree(t, addr)
	c.accounts = c.service("accounts", addr)
	statusWaitFor(t, auth, "Received Access-Accept")
}

// With the Kafka broker stopped the accounting port's Status-Server goes
// unanswered while the auth port's still is; once the broker is back, the
// accounting port answers again.
func TestStatusServerKafkaDown(t *testing.T) {
	k := startKafkaCluster(t)
	auth, acct := k.edge.auth, k.edge.addr("acct")
	statusWaitFor(t, acct, "Received Accounting-Response")

	k.broker.Stop()
	statusWaitFor(t, acct, unanswered)
	atLeastOne(k.edge, statusDrops("acct", "not_serving"))
	if out := statusServer(t, auth, replyWait, signedProbe); !strings.Contains(out, "Received Access-Accept") {
		t.Errorf("the auth port, whose backends are up, did not answer:\n%s", out)
	}

	k.broker.Restart()
	statusWaitFor(t, acct, "Received Accounting-Response")
}
