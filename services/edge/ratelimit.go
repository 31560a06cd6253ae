package edge

import (
	"sync"
	"time"
)

// RateLimit is a client's token bucket: Rate requests a second on average,
// Burst at once. The zero value is no limit.
type RateLimit struct {
	Rate  float64
	Burst int
}

// tokenBucket sheds a client's requests beyond its RateLimit, before they
// reach the work queue that every client's requests share: a flooding NAS
// then costs the others nothing but the reads.
type tokenBucket struct {
	rate, burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// newTokenBucket returns nil for no limit; the bucket starts full.
func newTokenBucket(l RateLimit) *tokenBucket {
	if l.Rate <= 0 {
		return nil
	}
	burst := float64(max(l.Burst, 1))
	return &tokenBucket{rate: l.Rate, burst: burst, tokens: burst}
}

// allow takes a token at now, if there is one.
func (b *tokenBucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	if now.After(b.last) {
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
