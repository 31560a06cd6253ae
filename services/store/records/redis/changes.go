package redisrecords

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/store/records"
)

// Change notices: every committed transaction publishes, inside its MULTI,
// the records it wrote or deleted on the data set's changes channel, as a
// JSON array of [kind, key] pairs, or noticeAll. Pub/Sub delivers to whoever
// is subscribed at the time and keeps nothing, so a watch is only as good as
// its one subscription: WatchChanges ends as soon as it could have missed a
// notice, and the reader starts over.
const (
	noticeAll = "*"
	// maxNamed is the most records one notice lists; an import says "all"
	// instead of sending a megabyte to every watcher.
	maxNamed = 1000
	// watchPing is how long a quiet subscription waits before it pings
	// Redis, and then how long the pong may take: a connection that died
	// without a word is noticed within twice this.
	watchPing = 3 * time.Second
)

// notice is the payload of a transaction that changed refs. A key that is
// not UTF-8 would not survive JSON, so such a transaction says "all", which
// is never wrong, only costly.
func notice(refs []records.Ref) string {
	if len(refs) > maxNamed {
		return noticeAll
	}
	pairs := make([][2]string, len(refs))
	for i, r := range refs {
		if !utf8.ValidString(r.Key) {
			return noticeAll
		}
		pairs[i] = [2]string{r.Kind, r.Key}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return noticeAll
	}
	return string(b)
}

// parseNotice reads a notice; one it cannot read counts as "all".
func parseNotice(payload string) records.Change {
	var pairs [][2]string
	if payload == noticeAll || json.Unmarshal([]byte(payload), &pairs) != nil {
		return records.Change{All: true}
	}
	refs := make([]records.Ref, len(pairs))
	for i, p := range pairs {
		refs[i] = records.Ref{Kind: p[0], Key: p[1]}
	}
	return records.Change{Refs: refs}
}

// WatchChanges holds one subscription to the changes channel. Its first
// notice, once Redis confirms the subscription, is All: whatever the caller
// read before may have changed unheard. It ends, with an error, on anything
// that may have lost a notice: a connection error, go-redis subscribing
// again on a new connection (which it does silently), or a ping unanswered
// within watchPing of a quiet spell.
func (s *Store) WatchChanges(ctx context.Context, fn func(records.Change)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	channel := s.keys.changes()
	ps := s.client.Subscribe(ctx, channel)
	defer ps.Close()
	// A blocked read does not heed ctx; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	subscribed, pinged := false, false
	for {
		msg, err := ps.ReceiveTimeout(ctx, watchPing)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				if err := ps.Ping(ctx); err != nil {
					return fmt.Errorf("changes on %s: ping: %w", channel, err)
				}
				pinged = true
				continue
			}
			return fmt.Errorf("changes on %s: %w", channel, err)
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if subscribed {
				return fmt.Errorf("changes on %s: subscription was lost and renewed; changes may have been missed", channel)
			}
			subscribed = true
			fn(records.Change{All: true})
		case *redis.Message:
			if subscribed {
				fn(parseNotice(m.Payload))
			}
		}
	}
}
