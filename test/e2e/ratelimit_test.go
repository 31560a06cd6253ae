package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/nas/faxback/fbattr"
)

// TestRateLimitSparesTheOthers: a port server at 127.0.0.6, limited to 50
// requests a second, floods the edge; the demo port server at 127.0.0.1,
// unlimited, logs in meanwhile. The flood's excess is shed as it is read,
// counted by reason, and every one of the other's logins is answered.
func TestRateLimitSparesTheOthers(t *testing.T) {
	const rate, burst = 50, 50
	s := startEdited(t, func(cfg string) string {
		return replaceOnce(t, cfg, "  clients:\n", fmt.Sprintf("  clients:\n"+
			"    - name: flooding-portserver\n"+
			"      cidrs: [127.0.0.6/32]\n"+
			"      secret: testing123\n"+
			"      profile: faxback\n"+
			"      message_authenticator: \"off\"\n"+
			"      rate_limit: {requests_per_second: %d, burst: %d}\n", rate, burst))
	})

	const flood = 3 * time.Second
	var report []byte
	var benchErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		// Closed loop, 64 in flight: as fast as the edge answers, far
		// above the limit.
		report, benchErr = exec.Command(binary, "bench", "-server", s.auth, "-source", "127.0.0.6", "-secret", "testing123",
			"-mix", "login", "-accounts", "account:password", "-concurrency", "64", "-duration", flood.String(),
			"-timeout", "200ms", "-json").Output()
	})
	// The well-behaved NAS: logins during the flood, each answered or
	// failed within the test's budget.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := radius.Client{Retry: time.Second}
	answered, sent := 0, 0
	for began := time.Now(); time.Since(began) < flood; sent++ {
		p := radius.New(radius.CodeAccessRequest, []byte("testing123"))
		rfc2865.UserName_SetString(p, "account")
		rfc2865.UserPassword_SetString(p, "password")
		fbattr.FBCommand_Set(p, fbattr.FBCommand_Value_GetAccount)
		fbattr.FBContext_Set(p, fbattr.FBContext_Value_AccountLogin)
		reply, err := client.Exchange(ctx, p, s.auth)
		if err != nil {
			t.Fatalf("the well-behaved NAS's login %d: %v", sent, err)
		}
		if reply.Code == radius.CodeAccessAccept {
			answered++
		}
	}
	wg.Wait()
	if answered != sent {
		t.Errorf("the well-behaved NAS: %d of %d logins accepted", answered, sent)
	}

	var res struct {
		Sent, Received uint64
		Replies        map[string]uint64
	}
	if err := json.Unmarshal(report, &res); err != nil {
		t.Fatalf("kradius bench: %v, %v\n%s", benchErr, err, report)
	}
	// What the bucket lets through in the flood, with a second's slack for
	// the bench's start and end.
	most := uint64(burst + rate*(flood/time.Second+1))
	shed := s.metric(`kradius_edge_drops_total{listener="auth",reason="rate_limited"}`)
	t.Logf("flooding NAS: %d sent, %d answered (at most %d allowed), %v shed; well-behaved NAS: %d of %d answered",
		res.Sent, res.Received, most, shed, answered, sent)
	if res.Received > most {
		t.Errorf("the flooding NAS got %d answers, over its limit's %d", res.Received, most)
	}
	if shed == 0 || uint64(shed)+res.Received < res.Sent/2 {
		t.Errorf("%v requests shed as rate_limited of the flood's %d (%d answered)", shed, res.Sent, res.Received)
	}
	if !strings.Contains(s.logText(), "reason=rate_limited") {
		t.Error("no log line for the rate-limited drops")
	}
}
