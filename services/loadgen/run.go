package loadgen

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// minTick bounds how often the open-loop schedule wakes: high rates are sent
// in small bursts rather than by one timer per request.
const minTick = 50 * time.Microsecond

// runner is the state of one run that its sockets share.
type runner struct {
	cfg      Config
	secret   []byte
	auth     netip.AddrPort
	acct     netip.AddrPort
	source   *net.UDPAddr // nil: the system's choice
	pools    *pools
	timeout  int64 // ns
	deadline int64 // ns since start; MaxInt64 without a duration
	rate     float64
	start    time.Time
	sockets  []*socket

	stopped   atomic.Bool
	limited   bool
	remaining atomic.Int64  // tickets left when limited by Count
	wake      chan struct{} // the controller has something to look at
	errOnce   sync.Once
	err       error

	// The open-loop schedule, the controller's alone.
	scheduled int64
	nextDue   int64
	late      uint64
	rr        int
}

// Run sends requests as cfg says until its duration or count is reached, or
// ctx is done, then waits for the requests in flight to be answered or time
// out, and returns the figures. A run cut short by ctx still returns them,
// with Interrupted set.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return Result{}, err
	}
	user0, sys0 := cpuTimes()
	steal0, total0 := machineCPU()
	r.start = time.Now()
	var readers sync.WaitGroup
	for _, s := range r.sockets {
		readers.Go(func() {
			if err := s.readLoop(); err != nil {
				r.fail(err)
			}
		})
	}
	interrupted := r.control(ctx)
	elapsed := time.Since(r.start)
	for _, s := range r.sockets {
		s.conn.Close()
	}
	readers.Wait()
	user1, sys1 := cpuTimes()
	res := r.result(elapsed, interrupted, user1-user0, sys1-sys0)
	if steal1, total1 := machineCPU(); total1 > total0 {
		res.StealPercent = 100 * float64(steal1-steal0) / float64(total1-total0)
	}
	return res, r.err
}

func newRunner(cfg Config) (*runner, error) {
	r := &runner{
		cfg:      cfg,
		secret:   []byte(cfg.Secret),
		timeout:  int64(cfg.Timeout),
		deadline: math.MaxInt64,
		rate:     cfg.Rate,
		limited:  cfg.Count > 0,
		wake:     make(chan struct{}, 1),
	}
	if cfg.Duration > 0 {
		r.deadline = int64(cfg.Duration)
	}
	r.remaining.Store(cfg.Count)
	var err error
	if r.auth, err = resolve(cfg.Server); err != nil {
		return nil, fmt.Errorf("loadgen: server: %w", err)
	}
	r.acct = r.auth
	if cfg.accounting() {
		if r.acct, err = resolve(cfg.acctServer()); err != nil {
			return nil, fmt.Errorf("loadgen: acct server: %w", err)
		}
		if r.acct.Addr().Is4() != r.auth.Addr().Is4() {
			return nil, fmt.Errorf("loadgen: server %s and acct server %s: one socket cannot reach both IPv4 and IPv6", r.auth, r.acct)
		}
	}
	if cfg.Source != "" {
		src, err := netip.ParseAddr(cfg.Source)
		if err != nil {
			return nil, fmt.Errorf("loadgen: source: %w", err)
		}
		r.source = net.UDPAddrFromAddrPort(netip.AddrPortFrom(src.Unmap(), 0))
	}
	tpl, err := buildTemplates(cfg)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	var seed [8]byte
	_, _ = crand.Read(seed[:])
	r.pools = &pools{tpl: tpl, random: cfg.Random, sessionBase: binary.BigEndian.Uint64(seed[:])}

	network := "udp4"
	if !r.auth.Addr().Is4() {
		network = "udp6"
	}
	// Fewer requests than sockets would leave sockets idle: use as many as
	// there are requests in flight, and split those evenly.
	n := min(cfg.Sockets, cfg.Concurrency)
	for i := range n {
		limit := cfg.Concurrency / n
		if i < cfg.Concurrency%n {
			limit++
		}
		s, err := newSocket(r, network, limit)
		if err != nil {
			for _, s := range r.sockets {
				s.conn.Close()
			}
			return nil, err
		}
		r.sockets = append(r.sockets, s)
	}
	return r, nil
}

func (r *runner) now() int64     { return int64(time.Since(r.start)) }
func (r *runner) openLoop() bool { return r.rate > 0 }

// mayIssue reports whether new requests may still be sent.
func (r *runner) mayIssue(now int64) bool { return !r.stopped.Load() && now < r.deadline }

// takeTicket claims one of Count's requests.
func (r *runner) takeTicket() bool {
	if !r.limited {
		return true
	}
	left := r.remaining.Add(-1)
	if left == 0 {
		r.notify() // the last one: the controller can start draining
	}
	if left < 0 {
		r.remaining.Add(1)
		return false
	}
	return true
}

// returnTicket gives back the ticket of a request that could not be sent.
func (r *runner) returnTicket() {
	if r.limited {
		r.remaining.Add(1)
	}
}

func (r *runner) exhausted() bool { return r.limited && r.remaining.Load() <= 0 }

// notify wakes the controller without blocking; one pending wake is enough.
func (r *runner) notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// fail ends the run with err, keeping the first.
func (r *runner) fail(err error) {
	r.errOnce.Do(func() { r.err = err })
	r.stopped.Store(true)
	r.notify()
}

// control runs the run: the first requests, the open-loop schedule, the
// timeout sweep, the stop, and the drain of requests in flight.
func (r *runner) control(ctx context.Context) (interrupted bool) {
	// The sweep's period is the timeouts' precision; a reply arriving past
	// its deadline is a timeout whatever the sweep has seen (socket.handle).
	sweepEvery := int64(min(max(time.Duration(r.timeout)/100, time.Millisecond), 10*time.Millisecond))
	nextSweep := sweepEvery
	done := ctx.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	if ctx.Err() == nil {
		for _, s := range r.sockets {
			s.mu.Lock()
			s.refill(0)
			s.mu.Unlock()
		}
	}
	for {
		now := r.now()
		if !r.stopped.Load() && (ctx.Err() != nil || now >= r.deadline || r.exhausted()) {
			interrupted = ctx.Err() != nil
			r.stopped.Store(true)
		}
		stopped := r.stopped.Load()
		if stopped {
			done = nil // a done context would otherwise wake this loop forever
		} else if r.openLoop() {
			r.issueDue(now)
		}
		if now >= nextSweep {
			for _, s := range r.sockets {
				s.expire(now)
			}
			nextSweep = now + sweepEvery
		}
		if stopped && r.idle() {
			return interrupted
		}
		wait := nextSweep - now
		if !stopped {
			wait = min(wait, r.deadline-now)
			if r.openLoop() {
				wait = min(wait, max(r.nextDue-now, int64(minTick)))
			}
		}
		timer.Reset(time.Duration(max(wait, 0)))
		select {
		case <-timer.C:
		case <-r.wake:
		case <-done:
		}
	}
}

// issueDue sends the open-loop requests whose time has come. One that finds
// every slot busy is late: it is not sent, and the schedule moves on, so the
// target rate is never silently lowered to what the server sustains.
func (r *runner) issueDue(now int64) {
	due := int64(float64(now)*r.rate/1e9) + 1 // the first is due at 0
	for r.scheduled < due && !r.exhausted() {
		if !r.sendAny() {
			// Nothing was freed since the first try: the rest of this
			// batch finds the same full slots.
			r.late += uint64(due - r.scheduled)
			r.scheduled = due
			break
		}
		r.scheduled++
	}
	r.nextDue = int64(float64(r.scheduled) * 1e9 / r.rate)
}

// sendAny sends on the next socket with a free slot. It reports false only
// when every socket is full; a failed write counts as an attempt.
func (r *runner) sendAny() bool {
	for i := range r.sockets {
		s := r.sockets[(r.rr+i)%len(r.sockets)]
		s.mu.Lock()
		full := s.inflight >= s.limit
		if !full {
			s.trySend()
		}
		s.mu.Unlock()
		if !full {
			r.rr = (r.rr + i + 1) % len(r.sockets)
			return true
		}
	}
	return false
}

func (r *runner) idle() bool {
	for _, s := range r.sockets {
		if s.inFlight() > 0 {
			return false
		}
	}
	return true
}
