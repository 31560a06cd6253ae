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
	index int // of its templates: the account (acct), the dialled number (dialogic)
	id    uint64
}

// stopQueue holds sessions whose Start is done (answered or not: a NAS
// sends its Stop either way), oldest first. A Start is only sent when its
// kind's queue is empty, so a queue holds at most the Starts of one socket
// in flight: 256.
type stopQueue struct {
	ring [idsPerSocket]session
	head int
	n    int
}

func (q *stopQueue) push(s session) {
	if q.n == len(q.ring) {
		return // cannot happen (see stopQueue); dropping a Stop beats corrupting the ring
	}
	q.ring[(q.head+q.n)%len(q.ring)] = s
	q.n++
}

func (q *stopQueue) pop() (session, bool) {
	if q.n == 0 {
		return session{}, false
	}
	s := q.ring[q.head]
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return s, true
}

// picker chooses each request of one socket. It is used under the socket's
// lock.
type picker struct {
	shared *pools
	rng    *rand.Rand
	mix    []Weight
	total  int
	// The Stops due, by kind: each kind's weight counts its own Starts and
	// Stops, so a mix of both sends each the Stops of its own sessions.
	acctStops, dialogicStops stopQueue
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
	case KindDialogic:
		if s, ok := p.dialogicStops.pop(); ok {
			return &tpl.dialogicStop[s.index], s
		}
		i := p.index(&p.shared.nextDialled, len(tpl.dialogicStart))
		return &tpl.dialogicStart[i], session{index: i, id: p.shared.newSession()}
	default:
		if s, ok := p.acctStops.pop(); ok {
			return &tpl.stop[s.index], s
		}
		i := p.index(&p.shared.nextAccount, len(tpl.start))
		return &tpl.start[i], session{index: i, id: p.shared.newSession()}
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

// stopLater queues the Stop of session s, whose Start is done (k is the
// Start), or whose Stop could not be sent (k is the Stop).
func (p *picker) stopLater(k reqKind, s session) {
	switch k {
	case reqAcctStart, reqAcctStop:
		p.acctStops.push(s)
	case reqDialogicStart, reqDialogicStop:
		p.dialogicStops.push(s)
	}
}
