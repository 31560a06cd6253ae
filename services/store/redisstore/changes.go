package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/store"
)

// Account-change notices. Every write that changes account records publishes,
// inside its MULTI, a notice on the data set's changes channel: a JSON array
// of the folded names, or noticeAll when it changed too many to list. Pub/Sub
// delivers to whoever is subscribed at the time and keeps nothing, so a
// watch is only as good as its one subscription: WatchAccounts ends as soon
// as it could have missed a notice, and the reader starts over.
const (
	noticeAll = "*"
	// maxNamed is the most names one notice lists; an import of many
	// accounts says "all" instead of sending a megabyte to every watcher.
	maxNamed = 1000
	// watchPing is how long a quiet subscription waits before it pings
	// Redis, and then how long the pong may take: a connection that died
	// without a word is noticed within twice this.
	watchPing = 3 * time.Second
)

var _ store.AccountWatcher = (*Store)(nil)

// accountNotice is the notice of a write staging keys: the folded names of
// the account records among them, or "" if there are none.
func (k keys) accountNotice(staged []string) string {
	prefix := k.account("")
	var names []string
	for _, key := range staged {
		if name, ok := strings.CutPrefix(key, prefix); ok {
			names = append(names, name)
		}
	}
	switch {
	case len(names) == 0:
		return ""
	case len(names) > maxNamed:
		return noticeAll
	}
	b, err := json.Marshal(names)
	if err != nil {
		// Strings always marshal; should one not, over-telling is safe.
		return noticeAll
	}
	return string(b)
}

// parseNotice reads a notice; one it cannot read counts as "all", which is
// never wrong, only costly.
func parseNotice(payload string) store.AccountChange {
	var names []string
	if payload == noticeAll || json.Unmarshal([]byte(payload), &names) != nil {
		return store.AccountChange{All: true}
	}
	return store.AccountChange{Names: names}
}

// WatchAccounts implements store.AccountWatcher with one subscription to the
// data set's changes channel.
func (s *Store) WatchAccounts(ctx context.Context, fn func(store.AccountChange)) error {
	ps := s.client.Subscribe(ctx, s.keys.changes())
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
					return fmt.Errorf("account changes on %s: ping: %w", s.keys.changes(), err)
				}
				pinged = true
				continue
			}
			return fmt.Errorf("account changes on %s: %w", s.keys.changes(), err)
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			if subscribed {
				// go-redis resubscribed on a new connection: whatever was
				// published in between is gone.
				return fmt.Errorf("account changes on %s: subscription was lost and renewed; changes may have been missed", s.keys.changes())
			}
			subscribed = true
			fn(store.AccountChange{All: true})
		case *redis.Message:
			if subscribed {
				fn(parseNotice(m.Payload))
			}
		}
	}
}
