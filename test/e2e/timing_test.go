package e2e

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"layeh.com/radius"

	"kradius.dev/services/password"
)

// TestTimingRevealsNoAccount: a Reject for an unknown name takes as long as
// one for a known name's wrong password, so that timing logins cannot tell
// which names exist. Each password is new, so that the verifier's cache
// answers neither kind.
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
// the UDP round trip.
func TestTimingRevealsNoAccount(t *testing.T) {
	const (
		pairs  = 100
		warmup = 4 // pairs not counted: the first argon2 runs page in its memory
		limit  = 0.10
	)
	s := startHashing(t, password.DefaultParams)
	client := &radius.Client{Retry: 0} // a retransmission would be timed as one slow request
	login := func(name, pw string) time.Duration {
		t.Helper()
		req := accountLogin(name, pw)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start := time.Now()
		reply, err := client.Exchange(ctx, req, s.auth)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("login %q: %v", name, err)
		}
		if reply.Code != radius.CodeAccessReject {
			t.Fatalf("login %q with a wrong password: %v, want Access-Reject", name, reply.Code)
		}
		return took
	}
	var known, unknown []time.Duration
	var ratios []float64
	for i := range warmup + pairs {
		k := func() time.Duration { return login("account", fmt.Sprintf("wrong-%d", i)) }
		u := func() time.Duration { return login("nobody", fmt.Sprintf("guess-%d", i)) }
		// Taking turns at going first too: the second of a pair may find
		// the server's goroutines or memory warmer than the first did.
		var dk, du time.Duration
		if i%2 == 0 {
			dk, du = k(), u()
		} else {
			du, dk = u(), k()
		}
		if i >= warmup {
			known, unknown = append(known, dk), append(unknown, du)
			ratios = append(ratios, float64(du)/float64(dk))
		}
	}
	r := median(ratios)
	t.Logf("median Reject: known name %v, unknown name %v; median ratio of a pair's unknown to known %.3f, over %d pairs",
		median(known), median(unknown), r, pairs)
	if math.Abs(r-1) >= limit {
		t.Errorf("an unknown name's Reject takes %.2f times a known name's (median over %d pairs), want within %.0f%%", r, pairs, 100*limit)
	}
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
