package loadgen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestJSONFields pins the field names README.md documents.
func TestJSONFields(t *testing.T) {
	srv := newResponder(t, nil)
	cfg := testConfig(srv.addr())
	cfg.Mix, cfg.Count = []Weight{{KindLogin, 1}, {KindAcct, 1}}, 100
	res := run(t, cfg)
	var out bytes.Buffer
	if err := res.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	for _, field := range []string{
		"mix", "server", "acct_server", "concurrency", "sockets", "rate", "timeout_seconds", "interrupted",
		"elapsed_seconds", "active_seconds", "sent", "received", "timeouts", "bad_authenticator", "stray",
		"late", "send_errors", "requests", "replies", "requests_per_second", "latency_ms",
		"cpu_user_seconds", "cpu_system_seconds", "steal_percent",
	} {
		if _, ok := got[field]; !ok {
			t.Errorf("no %q in %s", field, out.String())
		}
	}
	latency, _ := got["latency_ms"].(map[string]any)
	for _, field := range []string{"min", "mean", "p50", "p90", "p99", "max"} {
		if _, ok := latency[field]; !ok {
			t.Errorf("no latency_ms.%s", field)
		}
	}
	requests, _ := got["requests"].(map[string]any)
	for _, field := range []string{"login", "did", "acct_start", "acct_stop", "register", "invite", "dialogic_start", "dialogic_stop"} {
		if _, ok := requests[field]; !ok {
			t.Errorf("no requests.%s", field)
		}
	}
	if got["sent"] != float64(100) || got["mix"] != "login=1,acct=1" {
		t.Errorf("sent %v, mix %v", got["sent"], got["mix"])
	}
}

func TestWriteTextWithoutReplies(t *testing.T) {
	var out strings.Builder
	if err := (Result{Sent: 3, Timeouts: 3}).WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(no replies)", "none: no authentic replies"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}

func TestWriteText(t *testing.T) {
	res := Result{
		Mix: "login", Server: "127.0.0.1:1812", Concurrency: 16, Sockets: 4, Rate: 100,
		Sent: 10, Received: 9, Timeouts: 1, Late: 2,
		Requests: map[string]uint64{"login": 10, "did": 0},
		Replies:  map[string]uint64{"Access-Accept": 8, "Access-Reject": 1},
		Latency:  Latency{P50: 1500 * time.Microsecond, Max: 3 * time.Millisecond},
	}
	var out strings.Builder
	if err := res.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"open loop at 100 req/s", "sent               10 (login 10)",
		"received           9 (Access-Accept 8, Access-Reject 1)", "timeouts           1",
		"late               2", "p50 1.500ms", "max 3.000ms", "generator CPU", "CPU steal",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}

// TestMergeRuns: runs merged are one run in phases: counts add up, and the
// latency figures are over every phase's replies.
func TestMergeRuns(t *testing.T) {
	srv := newResponder(t, nil)
	cfg := testConfig(srv.addr())
	cfg.Count = 100
	a := run(t, cfg)
	cfg.Count = 50
	b := run(t, cfg)

	if twice := Merge(a, a); twice.Latency != a.Latency {
		t.Errorf("a run merged with itself: latency %+v, want %+v", twice.Latency, a.Latency)
	}
	m := Merge(a, b)
	if m.Sent != 150 || m.Received != a.Received+b.Received || m.Requests["login"] != 150 || m.Replies["Access-Accept"] != a.Replies["Access-Accept"]+b.Replies["Access-Accept"] {
		t.Errorf("merged counts: sent %d, received %d, requests %v, replies %v", m.Sent, m.Received, m.Requests, m.Replies)
	}
	if m.Elapsed != a.Elapsed+b.Elapsed || m.Active != a.Active+b.Active {
		t.Errorf("merged durations %v and %v, want the sums", m.Elapsed, m.Active)
	}
	if m.Latency.Min != min(a.Latency.Min, b.Latency.Min) || m.Latency.Max != max(a.Latency.Max, b.Latency.Max) {
		t.Errorf("merged min %v, max %v; runs %+v and %+v", m.Latency.Min, m.Latency.Max, a.Latency, b.Latency)
	}
	if lo, hi := min(a.Latency.P50, b.Latency.P50), max(a.Latency.P50, b.Latency.P50); m.Latency.P50 < lo || m.Latency.P50 > hi {
		t.Errorf("merged p50 %v outside the runs' %v..%v", m.Latency.P50, lo, hi)
	}
	if a.Replies["Access-Accept"] != 100 {
		t.Errorf("merging changed a run: %v", a.Replies)
	}
}
