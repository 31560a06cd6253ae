package e2e

import (
	"context"
	"fmt"
	"math"
	"net"
	"slices"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/password"
)

// TestTimingRevealsNoAccount: a Reject for an unknown name takes as long as
// one for a known name's wrong password, so that timing logins cannot tell
// which names exist: FaxBack's Account-Login (the accounts service), and a
// generic NAS's PAP (the records service). Each password is new, so that
// the verifier's cache answers neither kind.
//
// The two kinds are sent in pairs, one after the other, and what is compared
// is the median over the pairs of the ratio of their round trips. On a
// machine busy with other work a round trip can take several times its own
// cost; the two of a pair mostly share whatever the machine was doing then,
// and the median is not moved by the pairs that did not. Comparing the
// median of each kind instead, the load on shared test machines moved them
// apart by more than the limit when they were equal.
//
// The server hashes with password.DefaultParams rather than the suite's
// cheap parameters: that is the cost deployments run with, and it makes the
// argon2 run the bulk of a login's time, as it is in production, rather than
// the UDP round trip. The server and the test run at the CPU share a pod's
// request gives (prioritize), so that a neighbour's bursts move their
// round trips less.
func TestTimingRevealsNoAccount(t *testing.T) {
	s := startHashing(t, password.DefaultParams)
	prioritize(t, s.cmd.Process.Pid, 0)
	t.Run("faxback", func(t *testing.T) {
		compareRejects(t, s, &radius.Client{Retry: 0}, "account", accountLogin)
	})
	t.Run("generic", func(t *testing.T) {
		// The demo's generic NAS is 127.0.0.2.
		client := &radius.Client{Retry: 0, Dialer: net.Dialer{LocalAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}}}
		compareRejects(t, s, client, "dialup", papLogin)
	})
}

// compareRejects times pairs of Rejects from client: known's with a wrong
// password, and an unknown name's, each login built by login.
func compareRejects(t *testing.T, s *server, client *radius.Client, known string, login func(name, pw string) *radius.Packet) {
	const (
		pairs  = 100
		warmup = 4 // pairs not counted: the first argon2 runs page in its memory
		limit  = 0.10
	)
	// client.Retry is 0: a retransmission would be timed as one slow request.
	reject := func(name, pw string) time.Duration {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		reply, err := client.Exchange(ctx, login(name, pw), s.auth)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("login %q: %v", name, err)
		}
		if reply.Code != radius.CodeAccessReject {
			t.Fatalf("login %q with a wrong password: %v, want Access-Reject", name, reply.Code)
		}
		return took
	}
	var knowns, unknowns []time.Duration
	var ratios []float64
	for i := range warmup + pairs {
		k := func() time.Duration { return reject(known, fmt.Sprintf("wrong-%d", i)) }
		u := func() time.Duration { return reject("nobody", fmt.Sprintf("guess-%d", i)) }
		// Taking turns at going first too: the second of a pair may find
		// the server's goroutines or memory warmer than the first did.
		var dk, du time.Duration
		if i%2 == 0 {
			dk, du = k(), u()
		} else {
			du, dk = u(), k()
		}
		if i >= warmup {
			knowns, unknowns = append(knowns, dk), append(unknowns, du)
			ratios = append(ratios, float64(du)/float64(dk))
		}
	}
	r := median(ratios)
	t.Logf("median Reject: known name %v, unknown name %v; median ratio of a pair's unknown to known %.3f, over %d pairs",
		median(knowns), median(unknowns), r, pairs)
	if math.Abs(r-1) >= limit {
		t.Errorf("an unknown name's Reject takes %.2f times a known name's (median over %d pairs), want within %.0f%%", r, pairs, 100*limit)
	}
}

// papLogin is a PAP Access-Request of name with password pw, under the
// demo's secret.
func papLogin(name, pw string) *radius.Packet {
	req := radius.New(radius.CodeAccessRequest, []byte("testing123"))
	rfc2865.UserName_SetString(req, name)
	rfc2865.UserPassword_SetString(req, pw)
	return req
}

// startHashing is start with the server's new hashes, the demo accounts'
// among them, made under p.
func startHashing(t *testing.T, p password.Params) *server {
	t.Helper()
	return startEdited(t, func(cfg string) string {
		return replaceOnce(t, cfg, "password:\n  memory_kib: 64\n  time: 1\n  threads: 1\n",
			fmt.Sprintf("password:\n  memory_kib: %d\n  time: %d\n  threads: %d\n", p.Memory, p.Time, p.Threads))
	})
}

func median[T ~int64 | ~float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
