package settlement

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
)

// Redis keeps the totals in Redis, beside the data set: its keys carry the
// data set's prefix, a hash tag ("{kradius}"), so that on Redis Cluster
// they share its slot and one script may touch them all.
//
//	<prefix>:settle:<hour>          hash: the hour's totals, <hour> the unix
//	                                 seconds of its start; fields
//	                                 <orig>\x1f<term>\x1fcalls and
//	                                 <orig>\x1f<term>\x1fseconds
//	<prefix>:settle:hours           sorted set: the hours that have totals,
//	                                 each scored by itself
//	<prefix>:settle:seen:<session>  the guard of a counted session, expiring
//	                                 after the guard TTL
type Redis struct {
	client redis.UniversalClient
	prefix string // "<prefix>:settle:"
	hours  string // "<prefix>:settle:hours"
	seen   string // "<prefix>:settle:seen:"
	ttl    time.Duration
}

// NewRedis keeps totals with client under prefix, the data set's key prefix
// ("{kradius}"); guardTTL is how long a counted session is remembered
// (accounting.dedupe_ttl), at least a millisecond.
func NewRedis(client redis.UniversalClient, prefix string, guardTTL time.Duration) *Redis {
	return &Redis{
		client: client, prefix: prefix + ":settle:", hours: prefix + ":settle:hours", seen: prefix + ":settle:seen:",
		ttl: max(guardTTL, time.Millisecond),
	}
}

// addScript counts records, each only if its guard was not set: SET NX and
// the increments run in one script, so that no copy of a record, in this
// batch or another, concurrent or not, is counted twice.
//
// KEYS[1] is the sorted set of hours; then per record its guard and its
// hour's hash. ARGV[1] is the guard TTL in milliseconds; then per record
// the hour, the two fields and the seconds. It returns the records counted.
var addScript = redis.NewScript(`
local counted = 0
for i = 0, (#KEYS - 1) / 2 - 1 do
  local a = 2 + 4 * i
  if redis.call('SET', KEYS[2 + 2 * i], '1', 'NX', 'PX', ARGV[1]) then
    local hour = KEYS[3 + 2 * i]
    redis.call('HINCRBY', hour, ARGV[a + 1], 1)
    redis.call('HINCRBY', hour, ARGV[a + 2], ARGV[a + 3])
    redis.call('ZADD', KEYS[1], ARGV[a], ARGV[a])
    counted = counted + 1
  end
end
return counted
`)

// redisChunk bounds the records of one script run: Redis runs nothing else
// meanwhile.
const redisChunk = 256

// Add implements nas.Settlement: each record is counted unless its session
// was within the guard TTL. A batch holding an invalid record counts none
// (ErrInvalid). The batch runs as scripts of up to redisChunk records, each
// atomic: an error partway leaves the chunks before counted, and the same
// batch again counts only the rest.
func (s *Redis) Add(ctx context.Context, recs []*settlementv1.Record) error {
	_, err := s.add(ctx, recs)
	return err
}

// add is Add, returning the records counted.
func (s *Redis) add(ctx context.Context, recs []*settlementv1.Record) (int, error) {
	es, err := entries(recs)
	if err != nil {
		return 0, err
	}
	ttl := strconv.FormatInt(s.ttl.Milliseconds(), 10)
	counted := 0
	for len(es) > 0 {
		chunk := es[:min(len(es), redisChunk)]
		es = es[len(chunk):]
		keys := make([]string, 0, 1+2*len(chunk))
		args := make([]any, 0, 1+4*len(chunk))
		keys = append(keys, s.hours)
		args = append(args, ttl)
		for _, e := range chunk {
			hour := strconv.FormatInt(e.hour, 10)
			pair := e.orig + sep + e.term + sep
			keys = append(keys, s.seen+e.session, s.prefix+hour)
			args = append(args, hour, pair+"calls", pair+"seconds", e.seconds)
		}
		n, err := addScript.Run(ctx, s.client, keys, args...).Int()
		if err != nil {
			return counted, fmt.Errorf("settlement: counting in redis: %w", err)
		}
		counted += n
	}
	return counted, nil
}

// Report returns the totals of the periods p that start in [from, to),
// reading the hours in range from the sorted set and then their hashes in
// one pipeline.
func (s *Redis) Report(ctx context.Context, from, to time.Time, p Period) ([]Row, error) {
	lo, hi, err := hourRange(from, to, p)
	if err != nil {
		return nil, err
	}
	t := newTotals(p)
	if lo >= hi {
		return t.sorted(), nil
	}
	hours, err := s.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.hours, ByScore: true, Start: strconv.FormatInt(lo, 10), Stop: "(" + strconv.FormatInt(hi, 10),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("settlement: reading the hours from redis: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(hours))
	if len(hours) > 0 {
		if _, err := s.client.Pipelined(ctx, func(pl redis.Pipeliner) error {
			for i, h := range hours {
				cmds[i] = pl.HGetAll(ctx, s.prefix+h)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("settlement: reading the totals from redis: %w", err)
		}
	}
	for i, h := range hours {
		hour, err := strconv.ParseInt(h, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("settlement: %s holds %q, not an hour", s.hours, h)
		}
		for field, v := range cmds[i].Val() {
			orig, rest, _ := strings.Cut(field, sep)
			term, counter, ok := strings.Cut(rest, sep)
			n, err := strconv.ParseUint(v, 10, 64)
			if !ok || err != nil || (counter != "calls" && counter != "seconds") {
				return nil, fmt.Errorf("settlement: %s%s: field %q = %q is not a total", s.prefix, h, field, v)
			}
			if counter == "calls" {
				t.add(hour, orig, term, n, 0)
			} else {
				t.add(hour, orig, term, 0, n)
			}
		}
	}
	return t.sorted(), nil
}
