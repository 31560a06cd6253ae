package edge

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
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

const (
	replyShardBits = 4
	replyShards    = 1 << replyShardBits
)

// replyCache answers retransmits with the reply already sent, so that a
// retransmit never gets a second decision or a second accounting append.
//
// Each shard is a ring of entries in arrival order plus an index from a
// 64-bit hash of the key to the entry. A new request takes the ring's next
// entry, evicting the oldest, so the cache's memory is fixed at its size and
// a request allocates nothing. The index is an open-addressed table at most
// half full, probed linearly: with Go's map in its place, begin and finish
// on a full cache were a noticeable part of an access decision's CPU, most
// of it cache misses (BenchmarkReplyCacheFull; docs/performance.md, "Reply
// cache").
//
// Callers pass the time, in unix ns: the request's receive time serves, and
// reading the clock is itself a cost at this rate.
type replyCache struct {
	ttl    int64 // ns
	seed   maphash.Seed
	shards [replyShards]replyShard
}

type replyShard struct {
	mu    sync.Mutex
	index []indexSlot // a power of two long, at least twice the ring
	ring  []replyEntry
	next  int32
}

// indexSlot points a hash at an entry of the ring: entry is its position
// plus one, so the zero slot is free.
type indexSlot struct {
	hash  uint64
	entry int32
}

type replyEntry struct {
	key     replyKey
	hash    uint64
	reply   []byte // nil while in flight
	expires int64  // unix ns; 0 for a free entry
}

func newReplyCache(ttl time.Duration, maxEntries int) *replyCache {
	c := &replyCache{ttl: int64(ttl), seed: maphash.MakeSeed()}
	per := max(1, maxEntries/replyShards)
	slots := 1 << bits.Len(uint(2*per-1))
	for i := range c.shards {
		c.shards[i].index = make([]indexSlot, slots)
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

// shard picks by the hash's top bits: its low bits place it in the index.
func (c *replyCache) shard(h uint64) *replyShard { return &c.shards[h>>(64-replyShardBits)] }

// slot returns the index position holding h, or -1. Called with s.mu held.
func (s *replyShard) slot(h uint64) int {
	mask := uint64(len(s.index) - 1)
	for p := h & mask; s.index[p].entry != 0; p = (p + 1) & mask {
		if s.index[p].hash == h {
			return int(p)
		}
	}
	return -1
}

// put points h at entry i, replacing what h pointed at.
func (s *replyShard) put(h uint64, i int32) {
	mask := uint64(len(s.index) - 1)
	p := h & mask
	for s.index[p].entry != 0 && s.index[p].hash != h {
		p = (p + 1) & mask
	}
	s.index[p] = indexSlot{hash: h, entry: i + 1}
}

// remove frees position p, moving back the slots after it that probed past
// it, so that every lookup still finds its slot before a free one.
func (s *replyShard) remove(p int) {
	mask := len(s.index) - 1
	for {
		s.index[p] = indexSlot{}
		q := p
		for {
			q = (q + 1) & mask
			if s.index[q].entry == 0 {
				return
			}
			// A slot may move back to p only if its home is not in
			// (p, q], cyclically: otherwise its probe starts after p.
			home := int(s.index[q].hash) & mask
			if (q-home)&mask >= (q-p)&mask {
				break
			}
		}
		s.index[p] = s.index[q]
		p = q
	}
}

// find returns k's live entry, or nil. Called with s.mu held.
func (s *replyShard) find(k replyKey, h uint64, now int64) (*replyEntry, int) {
	p := s.slot(h)
	if p < 0 {
		return nil, -1
	}
	if e := &s.ring[s.index[p].entry-1]; e.key == k && now < e.expires {
		return e, p
	}
	return nil, -1
}

// begin claims k for a new decision, or reports a retransmit.
func (c *replyCache) begin(now int64, k replyKey) (replyState, []byte) {
	h := c.hash(k)
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, _ := s.find(k, h, now); e != nil {
		if e.reply == nil {
			return stateInFlight, nil
		}
		return stateDone, e.reply
	}
	i := s.next
	s.next = (s.next + 1) % int32(len(s.ring))
	if old := &s.ring[i]; old.expires != 0 {
		if p := s.slot(old.hash); p >= 0 && s.index[p].entry == i+1 {
			s.remove(p)
		}
	}
	// A different key with the same hash loses its entry: a retransmit of
	// it would be decided again, which is what an evicted entry means too.
	s.ring[i] = replyEntry{key: k, hash: h, expires: now + c.ttl}
	s.put(h, i)
	return stateNew, nil
}

// finish stores the reply sent for k.
func (c *replyCache) finish(now int64, k replyKey, reply []byte) {
	h := c.hash(k)
	s := c.shard(h)
	s.mu.Lock()
	if e, _ := s.find(k, h, now); e != nil {
		e.reply = reply
	}
	s.mu.Unlock()
}

// abort forgets k, so that the NAS's retransmit is decided afresh. Used when
// no reply was sent, e.g. because a backend was down.
func (c *replyCache) abort(now int64, k replyKey) {
	h := c.hash(k)
	s := c.shard(h)
	s.mu.Lock()
	if e, p := s.find(k, h, now); e != nil {
		s.remove(p)
		*e = replyEntry{}
	}
	s.mu.Unlock()
}

// len counts the entries a retransmit could still find.
func (c *replyCache) len(now int64) int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for _, slot := range s.index {
			if slot.entry != 0 && now < s.ring[slot.entry-1].expires {
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}
