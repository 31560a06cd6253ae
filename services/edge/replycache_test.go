package edge

import (
	"net/netip"
	"testing"
	"time"
)

func key(port uint16, id byte, auth byte) replyKey {
	return replyKey{src: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), port), id: id, auth: [16]byte{auth}}
}

func TestReplyCacheStates(t *testing.T) {
	c := newReplyCache(time.Minute, 1000)
	k := key(1000, 7, 1)
	if st, _ := c.begin(k); st != stateNew {
		t.Fatalf("first begin: %v", st)
	}
	if st, _ := c.begin(k); st != stateInFlight {
		t.Fatalf("retransmit while deciding: %v", st)
	}
	c.finish(k, []byte("reply"))
	if st, r := c.begin(k); st != stateDone || string(r) != "reply" {
		t.Fatalf("retransmit after reply: %v %q", st, r)
	}
	// Same address and Identifier, new Request Authenticator: a new request.
	if st, _ := c.begin(key(1000, 7, 2)); st != stateNew {
		t.Fatalf("reused Identifier with a new authenticator: %v", st)
	}
	// Another source port is another request.
	if st, _ := c.begin(key(1001, 7, 1)); st != stateNew {
		t.Fatalf("other port: %v", st)
	}
}

func TestReplyCacheAbort(t *testing.T) {
	c := newReplyCache(time.Minute, 1000)
	k := key(1000, 1, 1)
	c.begin(k)
	c.abort(k)
	if st, _ := c.begin(k); st != stateNew {
		t.Fatalf("after abort: %v", st)
	}
}

func TestReplyCacheExpiry(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newReplyCache(30*time.Second, 1000)
	c.now = func() time.Time { return now }
	k := key(1000, 1, 1)
	c.begin(k)
	c.finish(k, []byte("r"))
	now = now.Add(31 * time.Second)
	if st, _ := c.begin(k); st != stateNew {
		t.Fatalf("after TTL: %v", st)
	}
	for i := range 50 {
		c.begin(key(uint16(2000+i), 0, 16))
	}
	now = now.Add(time.Minute)
	c.begin(key(3000, 0, 0))
	if n := c.len(); n != 1 {
		t.Fatalf("%d entries findable past their TTL, want 1", n)
	}
}

func TestReplyCacheBound(t *testing.T) {
	c := newReplyCache(time.Hour, 160) // 10 per shard
	for i := range 5000 {
		c.begin(key(uint16(i), byte(i), byte(i)))
	}
	if n := c.len(); n > 160 {
		t.Fatalf("%d entries, bound is 160", n)
	}
}

// TestReplyCacheEvictsOldest: past its size the cache forgets the oldest
// requests first, and finishing an evicted one neither fails nor revives it.
func TestReplyCacheEvictsOldest(t *testing.T) {
	c := newReplyCache(time.Hour, replyShards) // one entry per shard
	first := key(1000, 1, 1)
	c.begin(first)
	for i := range 1000 { // a second key in first's shard takes its entry
		if k := key(uint16(2000+i), 1, 1); c.shard(c.hash(k)) == c.shard(c.hash(first)) {
			c.begin(k)
			break
		}
	}
	c.finish(first, []byte("late"))
	if st, _ := c.begin(first); st != stateNew {
		t.Fatalf("evicted request: %v, want a new decision", st)
	}
}
