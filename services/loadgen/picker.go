package loadgen

import (
	"math/rand/v2"
	"sync/atomic"
)

// pools is what every socket's picker shares: round-robin positions and
// the session counter.
type pools struct {
	tpl         *templates
	random      bool
	nextAccount atomic.Uint64
	nextDID     atomic.Uint64
	nextSIPUser atomic.Uint64
	nextDialled atomic.Uint64
	sessionBase uint64 // random, so two runs do not reuse session ids
	sessionSeq  atomic.Uint64
}

func (p *pools) newSession() uint64 { return p.sessionBase + p.sessionSeq.Add(1) }

// session is an accounting session between its Start and its Stop.
type session struct {
	account int
	id      uint64
}

// picker chooses each request of one socket. It is used under the socket's
// lock.
type picker struct {
	shared *pools
	rng    *rand.Rand
	mix    []Weight
	total  int
	// stops are sessions whose Start is done (answered or not: a NAS sends
	// its Stop either way), oldest first. A Start is only sent when stops
	// is empty, so it holds at most the Starts of one socket in flight: 256.
	stops     [idsPerSocket]session
	stopsHead int
	stopsN    int
}

func newPicker(shared *pools, mix []Weight, rng *rand.Rand) *picker {
	p := &picker{shared: shared, rng: rng, mix: mix}
	for _, w := range mix {
		p.total += w.Weight
	}
	return p
}

// next returns the request to send and, for the ones that carry an
// Acct-Session-Id, its session.
func (p *picker) next() (*template, session) {
	tpl := p.shared.tpl
	switch p.kind() {
	case KindLogin:
		return &tpl.login[p.index(&p.shared.nextAccount, len(tpl.login))], session{}
	case KindDID:
		return &tpl.did[p.index(&p.shared.nextDID, len(tpl.did))], session{id: p.shared.newSession()}
	case KindRegister:
		return &tpl.register[p.index(&p.shared.nextSIPUser, len(tpl.register))], session{}
	case KindInvite:
		return &tpl.invite[p.index(&p.shared.nextDialled, len(tpl.invite))], session{}
	default:
		if s, ok := p.popStop(); ok {
			return &tpl.stop[s.account], s
		}
		i := p.index(&p.shared.nextAccount, len(tpl.start))
		return &tpl.start[i], session{account: i, id: p.shared.newSession()}
	}
}

func (p *picker) kind() Kind {
	if len(p.mix) == 1 {
		return p.mix[0].Kind
	}
	r := p.rng.IntN(p.total)
	for _, w := range p.mix {
		if r < w.Weight {
			return w.Kind
		}
		r -= w.Weight
	}
	return p.mix[len(p.mix)-1].Kind
}

func (p *picker) index(rr *atomic.Uint64, n int) int {
	if p.shared.random {
		return p.rng.IntN(n)
	}
	return int((rr.Add(1) - 1) % uint64(n))
}

// stopLater queues the Stop of a session whose Start is done.
func (p *picker) stopLater(s session) {
	if p.stopsN == len(p.stops) {
		return // cannot happen (see stops); dropping a Stop beats corrupting the ring
	}
	p.stops[(p.stopsHead+p.stopsN)%len(p.stops)] = s
	p.stopsN++
}

func (p *picker) popStop() (session, bool) {
	if p.stopsN == 0 {
		return session{}, false
	}
	s := p.stops[p.stopsHead]
	p.stopsHead = (p.stopsHead + 1) % len(p.stops)
	p.stopsN--
	return s, true
}
