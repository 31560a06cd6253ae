package edge

import (
	"encoding/binary"
	"hash/maphash"
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
//
// Each shard is a ring of entries in arrival order plus an index from a
// 64-bit hash of the key to the entry. A new request takes the ring's next
// entry, evicting the oldest, so the cache's memory is fixed at its size and
// a request costs two lookups in a map of integers and no allocation: at
// tens of thousands of requests a second the cache is on every packet's path.
type replyCache struct {
	ttl    int64 // ns
	now    func() time.Time
	seed   maphash.Seed
	shards [replyShards]replyShard
}

type replyShard struct {
	mu    sync.Mutex
	index map[uint64]int32 // hash of a key → its entry in ring
	ring  []replyEntry
	next  int32
}

type replyEntry struct {
	key     replyKey
	hash    uint64
	reply   []byte // nil while in flight
	expires int64  // unix ns; 0 for a free entry
}

func newReplyCache(ttl time.Duration, maxEntries int) *replyCache {
	c := &replyCache{ttl: int64(ttl), now: time.Now, seed: maphash.MakeSeed()}
	per := max(1, maxEntries/replyShards)
	for i := range c.shards {
		c.shards[i].index = make(map[uint64]int32, per)
		c.shards[i].ring = make([]replyEntry, per)
	}
	return c
}

func (c *replyCache) hash(k replyKey) uint64 {
	var b [16 + 2 + 1 + 16]byte
	a := k.src.Addr().As16()
	copy(b[:16], a[:])
	binary.BigEndian.PutUint16(b[16:], k.src.Port())
	b[18] = k.id
	copy(b[19:], k.auth[:])
	return maphash.Bytes(c.seed, b[:])
}

func (c *replyCache) shard(h uint64) *replyShard { return &c.shards[h%replyShards] }

// find returns k's live entry, or nil. Called with s.mu held.
func (s *replyShard) find(k replyKey, h uint64, now int64) *replyEntry {
	i, ok := s.index[h]
	if !ok {
		return nil
	}
	if e := &s.ring[i]; e.key == k && now < e.expires {
		return e
	}
	return nil
}

// begin claims k for a new decision, or reports a retransmit.
func (c *replyCache) begin(k replyKey) (replyState, []byte) {
	h := c.hash(k)
	s := c.shard(h)
	now := c.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.find(k, h, now); e != nil {
		if e.reply == nil {
			return stateInFlight, nil
		}
		return stateDone, e.reply
	}
	i := s.next
	s.next = (s.next + 1) % int32(len(s.ring))
	if old := &s.ring[i]; old.expires != 0 {
		if j, ok := s.index[old.hash]; ok && j == i {
			delete(s.index, old.hash)
		}
	}
	// A different key with the same hash loses its entry: a retransmit of
	// it would be decided again, which is what an evicted entry means too.
	s.ring[i] = replyEntry{key: k, hash: h, expires: now + c.ttl}
	s.index[h] = i
	return stateNew, nil
}

// finish stores the reply sent for k.
func (c *replyCache) finish(k replyKey, reply []byte) {
	h := c.hash(k)
	s := c.shard(h)
	now := c.now().UnixNano()
	s.mu.Lock()
	if e := s.find(k, h, now); e != nil {
		e.reply = reply
	}
	s.mu.Unlock()
}

// abort forgets k, so that the NAS's retransmit is decided afresh. Used when
// no reply was sent, e.g. because a backend was down.
func (c *replyCache) abort(k replyKey) {
	h := c.hash(k)
	s := c.shard(h)
	now := c.now().UnixNano()
	s.mu.Lock()
	if e := s.find(k, h, now); e != nil {
		delete(s.index, h)
		*e = replyEntry{}
	}
	s.mu.Unlock()
}

// len counts the entries a retransmit could still find.
func (c *replyCache) len() int {
	now := c.now().UnixNano()
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for _, j := range s.index {
			if now < s.ring[j].expires {
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}
