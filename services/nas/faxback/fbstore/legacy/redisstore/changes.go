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

	"kradius.dev/services/nas/faxback/fbdata"
)

// Change notices. Every write that changes account or DID records publishes,
// inside its MULTI, a notice on the data set's changes channel: a JSON
// object listing the folded account names and the DID numbers
// ({"a":[...],"d":[...]}), or noticeAll when it changed too many to list. Pub/Sub
// delivers to whoever is subscribed at the time and keeps nothing, so a
// watch is only as good as its one subscription: WatchChanges ends as soon
// as it could have missed a notice, and the reader starts over.
const (
	noticeAll = "*"
	// maxNamed is the most names and numbers one notice lists; an import
	// says "all" instead of sending a megabyte to every watcher.
	maxNamed = 1000
	// watchPing is how long a quiet subscription waits before it pings
	// Redis, and then how long the pong may take: a connection that died
	// without a word is noticed within twice this.
	watchPing = 3 * time.Second
)

var _ fbdata.ChangeWatcher = (*Store)(nil)

// notice is the JSON of a change notice.
type notice struct {
	Accounts []string `json:"a,omitempty"`
	DIDs     []string `json:"d,omitempty"`
}

// changeNotice is the notice of a write staging keys: the folded names of
// the account records and the numbers of the DID records among them, or ""
// if there are none.
func (k keys) changeNotice(staged []string) string {
	acct, did := k.account(""), k.did("")
	var n notice
	for _, key := range staged {
		if name, ok := strings.CutPrefix(key, acct); ok {
			n.Accounts = append(n.Accounts, name)
		} else if number, ok := strings.CutPrefix(key, did); ok {
			n.DIDs = append(n.DIDs, number)
		}
	}
	switch {
	case len(n.Accounts)+len(n.DIDs) == 0:
		return ""
	case len(n.Accounts)+len(n.DIDs) > maxNamed:
		return noticeAll
	}
	b, err := json.Marshal(n)
	if err != nil {
		// Strings always marshal; should one not, over-telling is safe.
		return noticeAll
	}
	return string(b)
}

// parseNotice reads a notice; one it cannot read counts as "all", which is
// never wrong, only costly.
func parseNotice(payload string) fbdata.Change {
	var n notice
	if payload == noticeAll || json.Unmarshal([]byte(payload), &n) != nil {
		return fbdata.Change{All: true}
	}
	return fbdata.Change{Accounts: n.Accounts, DIDs: n.DIDs}
}

// WatchChanges implements fbdata.ChangeWatcher with one subscription to the
// data set's changes channel.
func (s *Store) WatchChanges(ctx context.Context, fn func(fbdata.Change)) error {
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
					return fmt.Errorf("changes on %s: ping: %w", s.keys.changes(), err)
				}
				pinged = true
				continue
			}
			return fmt.Errorf("changes on %s: %w", s.keys.changes(), err)
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
				return fmt.Errorf("changes on %s: subscription was lost and renewed; changes may have been missed", s.keys.changes())
			}
			subscribed = true
			fn(fbdata.Change{All: true})
		case *redis.Message:
			if subscribed {
				fn(parseNotice(m.Payload))
			}
		}
	}
}
