package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"layeh.com/radius"
)

// Result is what a run measured. Sent = Received + Timeouts, since every
// request in flight is waited for; Received = the sum of Replies +
// BadAuthenticator.
type Result struct {
	Mix         string
	Server      string
	AcctServer  string // empty unless the mix has acct or dialogic
	Concurrency int
	Sockets     int // sockets used: no more than Concurrency
	Rate        float64
	Timeout     time.Duration
	Interrupted bool // the run was cut short (SIGINT)

	// Elapsed runs from the first request to the last one answered or
	// timed out; Active to the last reply, which is what throughput is over.
	Elapsed time.Duration
	Active  time.Duration

	Sent             uint64
	Received         uint64 // replies matched to a request in flight
	Timeouts         uint64
	BadAuthenticator uint64 // replies whose Response Authenticator did not verify
	Stray            uint64 // replies matching no request in flight
	Late             uint64 // open loop: scheduled requests not sent, every slot busy
	SendErrors       uint64 // requests the socket refused to send

	Requests map[string]uint64 // sent, by request: login, did, acct_start, acct_stop, register, invite, dialogic_start, dialogic_stop
	Replies  map[string]uint64 // authentic replies, by code name

	Latency Latency // of authentic replies
	// latencies are what Latency summarises, for Merge; nil in a Result
	// not made by Run or Merge.
	latencies *histogram

	CPUUser   time.Duration // this process's CPU time during the run
	CPUSystem time.Duration
	// StealPercent is the share of the machine's CPU time its hypervisor
	// gave to other guests during the run (Linux; 0 elsewhere).
	StealPercent float64
}

// Latency summarises the latencies, to about 0.8%; Min, Mean and Max are exact.
type Latency struct {
	Min, Mean, P50, P90, P99, Max time.Duration
}

// RequestsPerSecond is Received over Active.
func (r Result) RequestsPerSecond() float64 {
	if r.Active <= 0 {
		return 0
	}
	return float64(r.Received) / r.Active.Seconds()
}

func (r *runner) result(elapsed time.Duration, interrupted bool, user, sys time.Duration) Result {
	res := Result{
		Mix:         FormatMix(r.cfg.Mix),
		Server:      r.auth.String(),
		Concurrency: r.cfg.Concurrency,
		Sockets:     len(r.sockets),
		Rate:        r.rate,
		Timeout:     r.cfg.Timeout,
		Interrupted: interrupted,
		Elapsed:     elapsed,
		Late:        r.late,
		Requests:    map[string]uint64{},
		Replies:     map[string]uint64{},
		CPUUser:     user,
		CPUSystem:   sys,
	}
	if r.cfg.accounting() {
		res.AcctServer = r.acct.String()
	}
	var lat histogram
	var codes [256]uint64
	var kinds [numReqKinds]uint64
	var lastReply int64
	for _, s := range r.sockets {
		c := &s.c // the readers have exited: no lock needed
		res.Sent += c.sent
		res.Received += c.received
		res.Timeouts += c.timeouts
		res.BadAuthenticator += c.badAuth
		res.Stray += c.stray
		res.SendErrors += c.sendErrors
		for i, n := range c.codes {
			codes[i] += n
		}
		for i, n := range c.kinds {
			kinds[i] += n
		}
		lastReply = max(lastReply, c.lastReply)
		lat.merge(&c.latency)
	}
	for i, n := range kinds {
		res.Requests[reqKindNames[i]] = n
	}
	for code, n := range codes {
		if n > 0 {
			res.Replies[radius.Code(code).String()] = n
		}
	}
	res.Active = time.Duration(lastReply)
	res.summarise(&lat)
	return res
}

func (r *Result) summarise(lat *histogram) {
	r.latencies = lat
	r.Latency = Latency{
		Min: time.Duration(lat.min), Mean: lat.mean(),
		P50: lat.quantile(0.50), P90: lat.quantile(0.90), P99: lat.quantile(0.99),
		Max: time.Duration(lat.max),
	}
}

// Merge is runs taken as one run in phases, such as the phases of a load
// that alternates with another: the counts add up, the latencies are over
// every phase's replies, Elapsed and Active are the phases' sums (so that
// RequestsPerSecond is over the time they ran), CPU time adds up, steal is
// weighted by Elapsed, and the description (mix, server, rate...) is the
// first run's.
func Merge(runs ...Result) Result {
	if len(runs) == 0 {
		return Result{}
	}
	m := runs[0]
	m.Requests, m.Replies = map[string]uint64{}, map[string]uint64{}
	m.Interrupted, m.Elapsed, m.Active, m.CPUUser, m.CPUSystem, m.StealPercent = false, 0, 0, 0, 0, 0
	m.Sent, m.Received, m.Timeouts, m.BadAuthenticator, m.Stray, m.Late, m.SendErrors = 0, 0, 0, 0, 0, 0, 0
	var lat histogram
	var steal float64
	for _, r := range runs {
		m.Interrupted = m.Interrupted || r.Interrupted
		m.Elapsed += r.Elapsed
		m.Active += r.Active
		m.CPUUser += r.CPUUser
		m.CPUSystem += r.CPUSystem
		steal += r.StealPercent * r.Elapsed.Seconds()
		m.Sent += r.Sent
		m.Received += r.Received
		m.Timeouts += r.Timeouts
		m.BadAuthenticator += r.BadAuthenticator
		m.Stray += r.Stray
		m.Late += r.Late
		m.SendErrors += r.SendErrors
		for k, n := range r.Requests {
			m.Requests[k] += n
		}
		for k, n := range r.Replies {
			m.Replies[k] += n
		}
		if r.latencies != nil {
			lat.merge(r.latencies)
		}
	}
	if m.Elapsed > 0 {
		m.StealPercent = steal / m.Elapsed.Seconds()
	}
	m.summarise(&lat)
	return m
}

// WriteText writes the report for people.
func (r Result) WriteText(w io.Writer) error {
	var b strings.Builder
	mode := "closed loop"
	if r.Rate > 0 {
		mode = fmt.Sprintf("open loop at %g req/s", r.Rate)
	}
	fmt.Fprintf(&b, "kradius bench: %s to %s", r.Mix, r.Server)
	if r.AcctServer != "" {
		fmt.Fprintf(&b, " (accounting %s)", r.AcctServer)
	}
	fmt.Fprintf(&b, ", %d in flight over %d sockets, %s, timeout %s\n", r.Concurrency, r.Sockets, mode, r.Timeout)
	if r.Interrupted {
		b.WriteString("  interrupted: the figures cover the run until then\n")
	}
	row := func(name, format string, a ...any) {
		fmt.Fprintf(&b, "  %-18s "+format+"\n", append([]any{name}, a...)...)
	}
	if r.Active > 0 {
		row("elapsed", "%s (first request to last reply: %s)", r.Elapsed.Round(time.Millisecond), r.Active.Round(time.Millisecond))
	} else {
		row("elapsed", "%s (no replies)", r.Elapsed.Round(time.Millisecond))
	}
	row("sent", "%d%s", r.Sent, breakdown(r.Requests))
	row("received", "%d%s", r.Received, breakdown(r.Replies))
	row("timeouts", "%d", r.Timeouts)
	row("bad authenticator", "%d", r.BadAuthenticator)
	row("stray", "%d", r.Stray)
	if r.Rate > 0 {
		row("late", "%d", r.Late)
	}
	if r.SendErrors > 0 {
		row("send errors", "%d", r.SendErrors)
	}
	row("throughput", "%.0f req/s", r.RequestsPerSecond())
	if l := r.Latency; l.Max > 0 {
		row("latency", "p50 %s  p90 %s  p99 %s  max %s  (min %s, mean %s)",
			ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), ms(l.Min), ms(l.Mean))
	} else {
		row("latency", "none: no authentic replies")
	}
	cpu := r.CPUUser + r.CPUSystem
	share := 0.0
	if r.Elapsed > 0 {
		share = 100 * cpu.Seconds() / r.Elapsed.Seconds()
	}
	row("generator CPU", "%s user + %s system = %.0f%% of one core", r.CPUUser.Round(time.Millisecond), r.CPUSystem.Round(time.Millisecond), share)
	row("CPU steal", "%.1f%% of the machine's CPU time went to other guests of the hypervisor", r.StealPercent)
	_, err := io.WriteString(w, b.String())
	return err
}

// breakdown renders non-zero counts as " (a 1, b 2)", largest first.
func breakdown(counts map[string]uint64) string {
	var names []string
	for name, n := range counts {
		if n > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.SortFunc(names, func(a, b string) int {
		if counts[a] != counts[b] {
			if counts[a] > counts[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %d", name, counts[name])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }

// jsonResult fixes the JSON field names: README.md documents them, and
// scripts depend on them.
type jsonResult struct {
	Mix               string            `json:"mix"`
	Server            string            `json:"server"`
	AcctServer        string            `json:"acct_server,omitempty"`
	Concurrency       int               `json:"concurrency"`
	Sockets           int               `json:"sockets"`
	Rate              float64           `json:"rate"`
	TimeoutSeconds    float64           `json:"timeout_seconds"`
	Interrupted       bool              `json:"interrupted"`
	ElapsedSeconds    float64           `json:"elapsed_seconds"`
	ActiveSeconds     float64           `json:"active_seconds"`
	Sent              uint64            `json:"sent"`
	Received          uint64            `json:"received"`
	Timeouts          uint64            `json:"timeouts"`
	BadAuthenticator  uint64            `json:"bad_authenticator"`
	Stray             uint64            `json:"stray"`
	Late              uint64            `json:"late"`
	SendErrors        uint64            `json:"send_errors"`
	Requests          map[string]uint64 `json:"requests"`
	Replies           map[string]uint64 `json:"replies"`
	RequestsPerSecond float64           `json:"requests_per_second"`
	LatencyMS         jsonLatency       `json:"latency_ms"`
	CPUUserSeconds    float64           `json:"cpu_user_seconds"`
	CPUSystemSeconds  float64           `json:"cpu_system_seconds"`
	StealPercent      float64           `json:"steal_percent"`
}

type jsonLatency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// WriteJSON writes the report as one JSON object.
func (r Result) WriteJSON(w io.Writer) error {
	msf := func(d time.Duration) float64 { return float64(d) / 1e6 }
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonResult{
		Mix: r.Mix, Server: r.Server, AcctServer: r.AcctServer,
		Concurrency: r.Concurrency, Sockets: r.Sockets, Rate: r.Rate,
		TimeoutSeconds: r.Timeout.Seconds(), Interrupted: r.Interrupted,
		ElapsedSeconds: r.Elapsed.Seconds(), ActiveSeconds: r.Active.Seconds(),
		Sent: r.Sent, Received: r.Received, Timeouts: r.Timeouts,
		BadAuthenticator: r.BadAuthenticator, Stray: r.Stray, Late: r.Late, SendErrors: r.SendErrors,
		Requests: r.Requests, Replies: r.Replies,
		RequestsPerSecond: r.RequestsPerSecond(),
		LatencyMS: jsonLatency{
			Min: msf(r.Latency.Min), Mean: msf(r.Latency.Mean),
			P50: msf(r.Latency.P50), P90: msf(r.Latency.P90), P99: msf(r.Latency.P99), Max: msf(r.Latency.Max),
		},
		CPUUserSeconds: r.CPUUser.Seconds(), CPUSystemSeconds: r.CPUSystem.Seconds(),
		StealPercent: r.StealPercent,
	})
}
