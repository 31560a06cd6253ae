package edge

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// now is the tests' clock, unless a test keeps its own.
var now = time.Unix(1000, 0)

func at(t time.Time) int64 { return t.UnixNano() }

func key(port uint16, id byte, auth byte) replyKey {
	return replyKey{src: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), port), id: id, auth: [16]byte{auth}}
}

func TestReplyCacheStates(t *testing.T) {
	c := newReplyCache(time.Minute, 1000)
	k := key(1000, 7, 1)
	if st, _ := c.begin(at(now), k); st != stateNew {
		t.Fatalf("first begin: %v", st)
	}
	if st, _ := c.begin(at(now), k); st != stateInFlight {
		t.Fatalf("retransmit while deciding: %v", st)
	}
	c.finish(at(now), k, []byte("reply"))
	if st, r := c.begin(at(now), k); st != stateDone || string(r) != "reply" {
		t.Fatalf("retransmit after reply: %v %q", st, r)
	}
	// Same address and Identifier, new Request Authenticator: a new request.
	if st, _ := c.begin(at(now), key(1000, 7, 2)); st != stateNew {
		t.Fatalf("reused Identifier with a new authenticator: %v", st)
	}
	// Another source port is another request.
	if st, _ := c.begin(at(now), key(1001, 7, 1)); st != stateNew {
		t.Fatalf("other port: %v", st)
	}
}

func TestReplyCacheAbort(t *testing.T) {
	c := newReplyCache(time.Minute, 1000)
	k := key(1000, 1, 1)
	c.begin(at(now), k)
	c.abort(at(now), k)
	if st, _ := c.begin(at(now), k); st != stateNew {
		t.Fatalf("after abort: %v", st)
	}
}

func TestReplyCacheExpiry(t *testing.T) {
	now := now
	c := newReplyCache(30*time.Second, 1000)
	k := key(1000, 1, 1)
	c.begin(at(now), k)
	c.finish(at(now), k, []byte("r"))
	now = now.Add(31 * time.Second)
	if st, _ := c.begin(at(now), k); st != stateNew {
		t.Fatalf("after TTL: %v", st)
	}
	for i := range 50 {
		c.begin(at(now), key(uint16(2000+i), 0, 16))
	}
	now = now.Add(time.Minute)
	c.begin(at(now), key(3000, 0, 0))
	if n := c.len(at(now)); n != 1 {
		t.Fatalf("%d entries findable past their TTL, want 1", n)
	}
}

func TestReplyCacheBound(t *testing.T) {
	c := newReplyCache(time.Hour, 160) // 10 per shard
	for i := range 5000 {
		c.begin(at(now), key(uint16(i), byte(i), byte(i)))
	}
	if n := c.len(at(now)); n > 160 {
		t.Fatalf("%d entries, bound is 160", n)
	}
}

// TestReplyCacheEvictsOldest: past its size the cache forgets the oldest
// requests first, and finishing an evicted one neither fails nor revives it.
func TestReplyCacheEvictsOldest(t *testing.T) {
	c := newReplyCache(time.Hour, replyShards) // one entry per shard
	first := key(1000, 1, 1)
	c.begin(at(now), first)
	for i := range 1000 { // a second key in first's shard takes its entry
		if k := key(uint16(2000+i), 1, 1); c.shard(c.hash(k)) == c.shard(c.hash(first)) {
			c.begin(at(now), k)
			break
		}
	}
	c.finish(at(now), first, []byte("late"))
	if st, _ := c.begin(at(now), first); st != stateNew {
		t.Fatalf("evicted request: %v, want a new decision", st)
	}
}

// TestReplyCacheIndexConsistent runs a small, crowded cache through random
// begins, finishes and aborts, and checks after each step that the index
// and the ring agree: every entry a retransmit could want is found by its
// hash, and every index slot names an entry with its hash. Removal moves
// slots back along their probe runs, which is where that could break.
func TestReplyCacheIndexConsistent(t *testing.T) {
	c := newReplyCache(time.Hour, 8*replyShards) // 8 entries, 16 slots a shard
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		k := key(uint16(rng.IntN(64)), byte(rng.IntN(4)), byte(rng.IntN(4)))
		switch rng.IntN(3) {
		case 0:
			c.begin(at(now), k)
		case 1:
			c.finish(at(now), k, []byte("r"))
		case 2:
			c.abort(at(now), k)
		}
		for si := range c.shards {
			s := &c.shards[si]
			for i, e := range s.ring {
				if e.expires == 0 {
					continue
				}
				if p := s.slot(e.hash); p < 0 || s.index[p].entry != int32(i)+1 {
					t.Fatalf("step %d: entry %d of shard %d is not found by its hash", step, i, si)
				}
			}
			for p, slot := range s.index {
				if slot.entry != 0 && s.ring[slot.entry-1].hash != slot.hash {
					t.Fatalf("step %d: index slot %d of shard %d names an entry with another hash", step, p, si)
				}
			}
		}
	}
}
