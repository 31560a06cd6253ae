package edge

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"kradius.dev/services/batch"
)

// SharedReplies configures the reply cache the edge pods share in Redis,
// behind each edge's local one: a NAS whose retransmit reaches another edge
// (a failover, a load balancer that does not keep it on one edge) gets the
// reply the first edge sent, and its accounting record is appended once.
type SharedReplies struct {
	Client redis.UniversalClient
	// Prefix starts every key: the store's key prefix, so that the keys
	// live beside the data set they belong to.
	Prefix string
	// Timeout is the budget of one Redis call, default 20ms: past it the
	// request goes on with the local cache alone.
	Timeout time.Duration
	// Pause is how long Redis is left out after a failure, default 1s, so
	// that a Redis that is down costs each request nothing.
	Pause time.Duration
}

// inFlight is the claim's value until the reply replaces it. A RADIUS
// reply is at least 20 bytes and starts with its code, so none reads so.
const inFlight = "in-flight"

// The values of kradius_edge_shared_reply_cache_errors_total's op label.
const (
	opClaim   = "claim"   // SET NX of the in-flight claim
	opLookup  = "lookup"  // GET of a claim another edge holds
	opStore   = "store"   // SET XX of the reply over the claim
	opRelease = "release" // DEL of a claim whose request got no reply
)

var sharedOps = []string{opClaim, opLookup, opStore, opRelease}

// sharedReplies is SharedReplies at work.
//
// A request the local cache has not seen is claimed with SET NX before it
// is decided, so that the claim exists before an accounting record is
// appended: an edge that then gets the retransmit finds the claim, and
// answers it with the reply written over the claim, or drops it as in
// flight while there is none. A request dropped without a reply releases
// its claim, so that the NAS's retransmit is decided again, wherever it
// lands. The reply and the release are written after the request's
// outcome, off its path.
//
// Redis helps, and is never needed: a call that fails or outruns its
// budget leaves the request to the local cache, which still answers every
// retransmit that comes back to this edge, and keeps Redis out of the path
// for Pause.
type sharedReplies struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
	// claimTTL is the in-flight claim's life, the decision's budget: an
	// edge that dies deciding holds its requests from the others no longer
	// than it could have taken to answer them.
	claimTTL time.Duration
	timeout  time.Duration
	pause    int64        // ns
	resume   atomic.Int64 // unix ns before which Redis is left out
	writes   sync.WaitGroup
	errors   map[string]prometheus.Counter
	// localOnly counts requests decided without the shared cache.
	localOnly prometheus.Counter
	log       *dropLog
	// claims and writes batch the calls of concurrent requests into one
	// pipeline each: a round trip and a system call per command cost the
	// edge and Redis more than the commands do (docs/performance.md,
	// "Shared reply cache").
	claims *batch.Batcher[string, claimAnswer]
	writer *batch.Batcher[sharedWrite, struct{}]
}

// claimAnswer is claimBatch's answer for one key; err is its lookup's
// failure, the claim's own being the whole call's.
type claimAnswer struct {
	outcome sharedOutcome
	reply   []byte
	err     error
}

// sharedWrite is a reply to write over its claim, or, with no reply, the
// claim to release.
type sharedWrite struct {
	key   string
	reply []byte
}

// A batch of shared-cache calls holds at most sharedBatchMax requests,
// and at most sharedBatchCalls batches are in flight at once.
const (
	sharedBatchMax   = 256
	sharedBatchCalls = 2
)

// sharedOutcome is what the shared cache says of a request new to this
// edge.
type sharedOutcome int

const (
	sharedClaimed     sharedOutcome = iota // this edge decides: store or release the claim
	sharedAnswered                         // another edge answered: resend its reply
	sharedInFlight                         // another edge is deciding
	sharedUnavailable                      // Redis failed or is paused: decide locally
	// sharedUnknown is a claim that failed, and may have landed all the
	// same: the request is decided locally, and its outcome written over
	// the claim as if this edge held it, lest it block other edges.
	sharedUnknown
)

func newSharedReplies(c SharedReplies, ttl, claimTTL time.Duration, m *metrics, log *slog.Logger) *sharedReplies {
	s := &sharedReplies{
		client:    c.Client,
		prefix:    c.Prefix + "reply:",
		ttl:       ttl,
		claimTTL:  claimTTL,
		timeout:   c.Timeout,
		pause:     int64(c.Pause),
		errors:    map[string]prometheus.Counter{},
		localOnly: m.localOnly,
		log:       newRateLog(log, "shared reply cache unavailable: deciding with the local cache only", time.Second),
	}
	for _, op := range sharedOps {
		s.errors[op] = m.sharedErrors.WithLabelValues(op)
	}
	s.claims = batch.New(s.claimBatch, sharedBatchMax, sharedBatchCalls)
	s.writer = batch.New(s.writeBatch, sharedBatchMax, sharedBatchCalls)
	return s
}

// key names a request across edges by its client rather than its source
// address, which a NAT between the NAS and the edges may show differently
// to each.
func (s *sharedReplies) key(client string, k replyKey) string {
	b := make([]byte, 0, len(s.prefix)+len(client)+1+5+1+3+1+32)
	b = append(b, s.prefix...)
	b = append(b, client...)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(k.src.Port()), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(k.id), 10)
	b = append(b, ':')
	b = hex.AppendEncode(b, k.auth[:])
	return string(b)
}

// claim asks Redis who decides the request at key; now is its receipt.
// With sharedAnswered it returns the reply.
func (s *sharedReplies) claim(now int64, key string) (sharedOutcome, []byte) {
	if now < s.resume.Load() {
		s.localOnly.Inc()
		return sharedUnavailable, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	a, err := s.claims.Do(ctx, key)
	switch {
	case err != nil:
		s.failed(opClaim, key, err)
		return sharedUnknown, nil
	case a.err != nil:
		s.failed(opLookup, key, a.err)
	}
	return a.outcome, a.reply
}

// claimBatch claims keys with SET NX in one pipeline, then looks up in a
// second the claims other edges hold.
func (s *sharedReplies) claimBatch(ctx context.Context, keys []string) ([]claimAnswer, []error, error) {
	out := make([]claimAnswer, len(keys))
	pipe := s.client.Pipeline()
	won := make([]*redis.BoolCmd, len(keys))
	for i, k := range keys {
		won[i] = pipe.SetNX(ctx, k, inFlight, s.claimTTL)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, err
	}
	var held []int
	for i, cmd := range won {
		if cmd.Val() {
			out[i].outcome = sharedClaimed
		} else {
			held = append(held, i)
		}
	}
	if len(held) == 0 {
		return out, nil, nil
	}
	pipe = s.client.Pipeline()
	gets := make([]*redis.StringCmd, len(held))
	for j, i := range held {
		gets[j] = pipe.Get(ctx, keys[i])
	}
	_, _ = pipe.Exec(ctx) // each command's error is read below
	for j, i := range held {
		v, err := gets[j].Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			// Released since: the edge that held it dropped the
			// request, and the NAS's next retransmit is decided afresh.
			out[i].outcome = sharedInFlight
		case err != nil:
			out[i] = claimAnswer{outcome: sharedUnavailable, err: err}
		case string(v) == inFlight:
			out[i].outcome = sharedInFlight
		default:
			out[i] = claimAnswer{outcome: sharedAnswered, reply: v}
		}
	}
	return out, nil, nil
}

// store writes the reply over the claim at key, for the retransmits that
// reach other edges.
func (s *sharedReplies) store(key string, reply []byte) { s.write(opStore, key, reply) }

// release deletes the claim at key, so that the request is decided again.
func (s *sharedReplies) release(key string) { s.write(opRelease, key, nil) }

// write sends a store or a release off the request's path.
func (s *sharedReplies) write(op, key string, reply []byte) {
	s.writes.Add(1)
	s.writer.Go(sharedWrite{key: key, reply: reply}, func(_ struct{}, err error) {
		defer s.writes.Done()
		if err != nil {
			s.failed(op, key, err)
		}
	})
}

// writeBatch writes replies over their claims (SET XX) and releases
// claims (DEL) in one pipeline, within the budget of one command: nobody
// waits on a write to bound it (batch.Batcher.Go).
func (s *sharedReplies) writeBatch(ctx context.Context, ws []sharedWrite) ([]struct{}, []error, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	pipe := s.client.Pipeline()
	cmds := make([]redis.Cmder, len(ws))
	for i, w := range ws {
		if w.reply == nil {
			cmds[i] = pipe.Del(ctx, w.key)
		} else {
			cmds[i] = pipe.SetXX(ctx, w.key, w.reply, s.ttl)
		}
	}
	_, _ = pipe.Exec(ctx) // each command's error is read below
	errs := make([]error, len(ws))
	for i, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			errs[i] = err
		}
	}
	return make([]struct{}, len(ws)), errs, nil
}

func (s *sharedReplies) failed(op, key string, err error) {
	s.errors[op].Inc()
	if op == opClaim || op == opLookup {
		s.localOnly.Inc()
	}
	s.resume.Store(time.Now().UnixNano() + s.pause)
	s.log.drop(op, "key", key, "err", err, "pause", time.Duration(s.pause).String())
}

// wait returns once the writes begun have ended, each within its budget.
func (s *sharedReplies) wait() { s.writes.Wait() }
