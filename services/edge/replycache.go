package edge

import (
	"net/netip"
	"sync"
	"time"
)

// replyKey identifies one request. The Request Authenticator is part of it:
// a NAS that reuses an Identifier for a new request gets a new decision, not
// the previous reply (layeh's PacketServer keys on address and Identifier only).
type replyKey struct {
	src  netip.AddrPort
	id   byte
	auth [16]byte
}

type replyState int

const (
	stateNew      replyState = iota // the caller owns the key: finish or abort it
	stateInFlight                   // the original is still being decided
	stateDone                       // the reply is cached: resend it
)

const replyShards = 16

// replyCache answers retransmits with the reply already sent, so that a
// retransmit never gets a second decision or a second accounting append.
type replyCache struct {
	ttl    time.Duration
	max    int // entries per shard
	now    func() time.Time
	shards [replyShards]replyShard
}

type replyShard struct {
	mu      sync.Mutex
	entries map[replyKey]*replyEntry
	fifo    []replyKey // insertion order, for expiry and the size bound
	head    int
}

type replyEntry struct {
	reply   []byte // nil while in flight
	expires time.Time
}

func newReplyCache(ttl time.Duration, maxEntries int) *replyCache {
	c := &replyCache{ttl: ttl, max: max(1, maxEntries/replyShards), now: time.Now}
	for i := range c.shards {
		c.shards[i].entries = map[replyKey]*replyEntry{}
	}
	return c
}

func (c *replyCache) shard(k replyKey) *replyShard {
	// The Request Authenticator is random per request, so its first byte spreads keys.
	return &c.shards[int(k.auth[0]^k.id)%replyShards]
}

// begin claims k for a new decision, or reports a retransmit.
func (c *replyCache) begin(k replyKey) (replyState, []byte) {
	s := c.shard(k)
	now := c.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[k]; ok && now.Before(e.expires) {
		if e.reply == nil {
			return stateInFlight, nil
		}
		return stateDone, e.reply
	}
	s.evict(now, c.max-1)
	s.entries[k] = &replyEntry{expires: now.Add(c.ttl)}
	s.fifo = append(s.fifo, k)
	return stateNew, nil
}

// finish stores the reply sent for k.
func (c *replyCache) finish(k replyKey, reply []byte) {
	s := c.shard(k)
	s.mu.Lock()
	if e, ok := s.entries[k]; ok {
		e.reply = reply
	}
	s.mu.Unlock()
}

// abort forgets k, so that the NAS's retransmit is decided afresh. Used when
// no reply was sent, e.g. because a backend was down.
func (c *replyCache) abort(k replyKey) {
	s := c.shard(k)
	s.mu.Lock()
	delete(s.entries, k)
	s.mu.Unlock()
}

func (c *replyCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

// evict drops expired entries, then the oldest, until at most keep remain.
func (s *replyShard) evict(now time.Time, keep int) {
	for s.head < len(s.fifo) {
		k := s.fifo[s.head]
		e, ok := s.entries[k]
		switch {
		case !ok: // aborted or replaced: a stale fifo slot
		case len(s.entries) > keep || !now.Before(e.expires):
			delete(s.entries, k)
		default:
			s.compact()
			return
		}
		s.fifo[s.head] = replyKey{}
		s.head++
	}
	s.compact()
}

func (s *replyShard) compact() {
	if s.head > 1024 && s.head > len(s.fifo)/2 {
		s.fifo = append(s.fifo[:0], s.fifo[s.head:]...)
		s.head = 0
	}
}
