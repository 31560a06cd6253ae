package faxback

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// outcome is the result label of kradius_faxback_requests_total.
type outcome uint8

const (
	accepted outcome = iota
	rejected
	dropped
	numOutcomes
)

var outcomeLabels = [numOutcomes]string{"accept", "reject", "dropped"}

// maxCounted bounds the FB-Command and FB-Context values whose counters are
// kept at hand; larger ones, all "unknown", are looked up each time.
const maxCounted = 15

// requestCounters keeps each (command, context, outcome) counter once it is
// first used: looking it up by its three labels on every request was a
// measurable part of a login's CPU under make bench (docs/performance.md,
// "FaxBack request counters").
type requestCounters struct {
	vec   *prometheus.CounterVec
	cells [maxCounted + 1][maxCounted + 1][numOutcomes]atomic.Pointer[prometheus.Counter]
}

func newRequestCounters() *requestCounters {
	return &requestCounters{vec: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kradius_faxback_requests_total",
		Help: "FaxBack Access-Requests by FB-Command, FB-Context and result (accept, reject, dropped).",
	}, []string{"command", "context", "result"})}
}

func (r *requestCounters) inc(cmd, ctx uint32, o outcome) {
	if cmd > maxCounted || ctx > maxCounted {
		r.vec.WithLabelValues(commandName(cmd), contextName(ctx), outcomeLabels[o]).Inc()
		return
	}
	cell := &r.cells[cmd][ctx][o]
	c := cell.Load()
	if c == nil {
		// Two first uses racing both store the same counter.
		v := r.vec.WithLabelValues(commandName(cmd), contextName(ctx), outcomeLabels[o])
		c = &v
		cell.Store(c)
	}
	(*c).Inc()
}
