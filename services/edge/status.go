package edge

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"layeh.com/radius"

	"kradius.dev/services/nas"
)

// Health is what one port's decisions depend on, as Status-Server (RFC
// 5997) asks after it. Either function may be nil: nothing to ask.
type Health struct {
	// State says at once whether the dependency can serve: nil, or why
	// not (a gRPC connection that is not ready, a journal that failed).
	// It is asked for every Status-Server, so it answers from what the
	// process already holds, never by a round trip: a flood of probes must
	// not reach the backends.
	State func() error
	// Check asks the dependency itself, for one whose state only a round
	// trip tells (a Kafka broker, a Redis PING). The edge runs it in the
	// background every HealthInterval while it serves, each within the
	// request budget, and Status-Server answers from the latest outcome;
	// until the first, nothing is known and nothing is answered.
	Check func(context.Context) error
}

var (
	errStatusWithoutMA = errors.New("Status-Server without Message-Authenticator (RFC 5997 requires one)")
	errNotChecked      = errors.New("not checked yet")
	errNoAccountingLog = errors.New("no accounting log is configured")
	errNoAccounting    = errors.New("the client's profile keeps no accounting")
)

// statusReplies answer a Status-Server by the port it came to, as RFC 5997
// says.
var statusReplies = map[radius.Code]radius.Code{
	radius.CodeAccessRequest:     radius.CodeAccessAccept,
	radius.CodeAccountingRequest: radius.CodeAccountingResponse,
}

// status answers a Status-Server, only while r's port can serve r's
// client: a NAS or a load balancer probing the edge then moves away from
// one that cannot. It is never a login or a record, and never enters the
// reply cache: a retransmit is answered afresh, with the health of now,
// and a flood of probes evicts no real request's reply.
func (s *Server) status(r *request, pkt []byte, maOffset int) {
	if maOffset < 0 {
		s.drop(r, ReasonMissingMessageAut, errStatusWithoutMA)
		return
	}
	if err := s.serving(r); err != nil {
		s.drop(r, ReasonNotServing, fmt.Errorf("the %s port cannot serve: %w", r.l.name, err))
		return
	}
	reply := &radius.Packet{Code: statusReplies[r.l.code], Identifier: pkt[1], Authenticator: [16]byte(pkt[4:20]), Secret: r.client.Secret}
	// RFC 5997 §3: the response carries a Message-Authenticator too.
	b, err := encodeReply(reply, true)
	if err != nil {
		s.drop(r, ReasonInternal, fmt.Errorf("encoding reply: %w", err))
		return
	}
	s.send(r, b, resultServing, time.Now())
}

// serving says whether r's port can serve r's client now, or why not.
func (s *Server) serving(r *request) error {
	if r.l.code == radius.CodeAccountingRequest {
		if s.cfg.Log == nil {
			return errNoAccountingLog
		}
		if _, ok := r.client.Handler.(nas.AccountingHandler); !ok {
			return errNoAccounting
		}
	}
	return r.l.health.serving(r.j.at.UnixNano())
}

// portHealth is what a port's Status-Server answers from: its Health, and
// what the port's own requests found. A backend can be reachable and still
// fail every request (the accounts service up, its Redis down): the
// requests are what tell.
type portHealth struct {
	Health
	// memory is how long a failed request keeps the port unanswered when
	// nothing succeeds after it, in ns: once the NAS have moved away, no
	// request comes to clear it, and the edge offers itself again.
	memory  int64
	checked atomic.Pointer[outcome] // Check's latest
	// failure is the latest request that failed for the dependency (a
	// backend, the accounting log); recovered when one last succeeded
	// after it, unix ns.
	failure   atomic.Pointer[outcome]
	recovered atomic.Int64
}

type outcome struct {
	at  int64 // unix ns; a failure's only
	err error
}

func newPortHealth(h Health, memory time.Duration) *portHealth {
	p := &portHealth{Health: h, memory: int64(memory)}
	p.checked.Store(&outcome{err: errNotChecked})
	return p
}

// serving is nil when the port can serve at now, unix ns, or says why not.
func (p *portHealth) serving(now int64) error {
	if p.State != nil {
		if err := p.State(); err != nil {
			return err
		}
	}
	if p.Check != nil {
		if c := p.checked.Load(); c.err != nil {
			return c.err
		}
	}
	if f := p.failure.Load(); f != nil && f.at > p.recovered.Load() && now-f.at < p.memory {
		return fmt.Errorf("a request failed %s ago, none has succeeded since: %w", time.Duration(now-f.at).Round(time.Millisecond), f.err)
	}
	return nil
}

// failed records a request that failed for the dependency at now.
func (p *portHealth) failed(now int64, err error) {
	p.failure.Store(&outcome{at: now, err: err})
}

// succeeded records a request decided at now. It is on every request's
// path, so it writes only when it clears a failure: workers on many cores
// would otherwise contend for the one cache line.
func (p *portHealth) succeeded(now int64) {
	if f := p.failure.Load(); f != nil && f.at > p.recovered.Load() {
		p.recovered.Store(now)
	}
}

// watch runs Check every interval until ctx ends, each within budget.
func (p *portHealth) watch(ctx context.Context, interval, budget time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, budget)
		err := p.Check(cctx)
		cancel()
		p.checked.Store(&outcome{err: err})
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
