package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"

	"layeh.com/radius"
)

// slot is one Identifier of a socket.
type slot struct {
	busy bool
	kind reqKind
	sess session
	dest netip.AddrPort
	sent int64 // ns since the run started
	// The headers (Code, Identifier, Length, Request Authenticator) of the
	// request in flight and of the one sent before under this Identifier.
	// A Response Authenticator covers only the request's authenticator, so a
	// header is all a reply needs to be verified against; the previous one
	// tells a late reply to that request (stray) from a forged or broken
	// reply to this one (bad authenticator).
	cur, prev [20]byte
	hasPrev   bool
}

// counters are one socket's share of the result, kept under its lock.
type counters struct {
	sent, received, timeouts, badAuth, stray, sendErrors uint64
	kinds                                                [numReqKinds]uint64
	codes                                                [256]uint64
	lastReply                                            int64 // ns since the run started
	latency                                              histogram
}

// socket is one UDP socket with its 256 Identifiers. Its reader goroutine
// verifies replies and, in the closed loop, sends the next request itself:
// no hand-off between goroutines on the hot path.
type socket struct {
	r     *runner
	conn  *net.UDPConn
	limit int // its share of the concurrency

	mu       sync.Mutex
	enc      *encoder
	pick     *picker
	free     *idRing
	inflight int
	slots    [idsPerSocket]slot
	c        counters
}

func newSocket(r *runner, network string, limit int) (*socket, error) {
	conn, err := net.ListenUDP(network, r.source)
	if err != nil {
		return nil, fmt.Errorf("loadgen: opening a UDP socket: %w", err)
	}
	enc := newEncoder(r.secret, r.pools.tpl.maxLen())
	return &socket{
		r:     r,
		conn:  conn,
		limit: limit,
		enc:   enc,
		pick:  newPicker(r.pools, r.cfg.Mix, rand.New(enc.rng)),
		free:  newIDRing(),
	}, nil
}

// trySend sends one request if the socket has room and the run a ticket.
// Called with s.mu held.
func (s *socket) trySend() bool {
	if s.inflight >= s.limit || !s.r.takeTicket() {
		return false
	}
	id, _ := s.free.pop() // inflight < limit ≤ 256 leaves one
	t, sess := s.pick.next()
	dest := s.r.auth
	if t.kind.accounting() {
		dest = s.r.acct
	}
	req := s.enc.encode(t, id, sess.id)
	sent := s.r.now()
	if _, err := s.conn.WriteToUDPAddrPort(req, dest); err != nil {
		// Not a request in flight, so not a timeout either: counted apart.
		s.c.sendErrors++
		s.free.push(id)
		s.r.returnTicket()
		if t.kind == reqAcctStop || t.kind == reqDialogicStop {
			s.pick.stopLater(t.kind, sess)
		}
		return false
	}
	sl := &s.slots[id]
	if sl.cur != ([20]byte{}) {
		sl.prev, sl.hasPrev = sl.cur, true
	}
	copy(sl.cur[:], req[:20])
	sl.busy, sl.kind, sl.sess, sl.dest, sl.sent = true, t.kind, sess, dest, sent
	s.inflight++
	s.c.sent++
	s.c.kinds[t.kind]++
	return true
}

// refill keeps the closed loop full. Called with s.mu held.
func (s *socket) refill(now int64) {
	if s.r.openLoop() {
		return
	}
	for s.r.mayIssue(now) && s.trySend() {
	}
}

// release frees a slot whose request is answered or timed out. Called with
// s.mu held.
func (s *socket) release(id byte) {
	sl := &s.slots[id]
	sl.busy = false
	s.free.push(id)
	s.inflight--
	if sl.kind == reqAcctStart || sl.kind == reqDialogicStart {
		s.pick.stopLater(sl.kind, sl.sess)
	}
	if s.inflight == 0 && s.r.stopped.Load() {
		s.r.notify()
	}
}

// expire times out the requests older than the timeout, then refills.
func (s *socket) expire(now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.slots {
		if sl := &s.slots[i]; sl.busy && now-sl.sent >= s.r.timeout {
			s.c.timeouts++
			s.release(byte(i))
		}
	}
	s.refill(now)
}

func (s *socket) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight
}

// readLoop runs until the socket is closed.
func (s *socket) readLoop() error {
	buf := make([]byte, radius.MaxPacketLength+1)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("loadgen: reading replies: %w", err)
		}
		s.handle(buf[:n], from, s.r.now())
	}
}

// handle accounts for one datagram received at now.
func (s *socket) handle(b []byte, from netip.AddrPort, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(b) < 20 {
		s.c.stray++ // not even a header to match
		return
	}
	id := b[1]
	sl := &s.slots[id]
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	switch {
	case !sl.busy || from != sl.dest:
		s.c.stray++
		return
	case now-sl.sent >= s.r.timeout:
		// Past its deadline: the request is a timeout whether or not the
		// sweep has seen it yet, and this reply came too late to count.
		s.c.timeouts++
		s.c.stray++
	case !authentic(b, sl.cur[:], s.r.secret):
		if sl.hasPrev && authentic(b, sl.prev[:], s.r.secret) {
			s.c.stray++ // the previous request's, late: this one still waits
			return
		}
		s.c.received++
		s.c.badAuth++
	default:
		s.c.received++
		s.c.codes[b[0]]++
		s.c.latency.record(now - sl.sent)
		s.c.lastReply = now
	}
	s.release(id)
	s.refill(now)
}

// authentic verifies reply's Response Authenticator against request. Bytes
// past the Length field are padding (RFC 2865 §3) and not covered; a Length
// that does not fit the datagram cannot be verified.
func authentic(reply, request, secret []byte) bool {
	length := int(binary.BigEndian.Uint16(reply[2:4]))
	if length < 20 || length > len(reply) {
		return false
	}
	return radius.IsAuthenticResponse(reply[:length], request, secret)
}
