package faxback

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRequestCounters: the counters kept at hand and those looked up each
// time land in the same series, unknown codes together.
func TestRequestCounters(t *testing.T) {
	r := newRequestCounters()
	for range 3 {
		r.inc(1, 1, accepted) // Get-Account / Account-Login
	}
	r.inc(1, 1, rejected)
	r.inc(12, 1, rejected)  // unknown command, kept at hand
	r.inc(300, 1, rejected) // unknown command, looked up
	for _, c := range []struct {
		cmd, ctx, result string
		want             float64
	}{
		{"Get-Account", "Account-Login", "accept", 3},
		{"Get-Account", "Account-Login", "reject", 1},
		{"unknown", "Account-Login", "reject", 2},
	} {
		if got := testutil.ToFloat64(r.vec.WithLabelValues(c.cmd, c.ctx, c.result)); got != c.want {
			t.Errorf("%s/%s/%s = %v, want %v", c.cmd, c.ctx, c.result, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(r.vec); n != 3 {
		t.Errorf("%d series, want 3", n)
	}
}
