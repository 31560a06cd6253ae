package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/config"
	"kradius.dev/services/edge"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/store/redismetrics"
)

// sharedReplies connects the edge to the Redis its replies are shared in,
// when edge.reply_cache.shared is redis: store.redis, reached as the
// accounts and dids services reach it, so that one section of the config
// (and the operator's rendering of it) serves them all. The returned close
// is never nil.
//
// A Redis that does not answer at start costs the edge its shared cache
// until it does, not its start: an edge pod restarted during a Redis outage
// must still answer its NAS.
func sharedReplies(ctx context.Context, b *base, cfg config.Config, log *slog.Logger) (edge.SharedReplies, func()) {
	rc := cfg.Edge.ReplyCache
	if !rc.SharedInRedis() {
		return edge.SharedReplies{}, func() {}
	}
	shared := edge.SharedReplies{Timeout: time.Duration(rc.RedisTimeout)}
	if st, ok := b.st.(*redisStore); ok {
		// -target=all on Redis: the store's client serves, and its
		// metrics are already registered.
		shared.Client, shared.Prefix = st.client, st.prefix
		return shared, func() {}
	}
	st, err := openRedisClient(ctx, cfg.Store, fbdata.Options{})
	if err == nil {
		shared.Client, shared.Prefix = st.Client(), st.KeyPrefix()
	} else {
		log.Warn("edge.reply_cache.shared: Redis did not answer at start; replies are shared once it does", "err", err)
		if shared.Client, err = lazyRedisClient(cfg.Store); err != nil {
			log.Error("edge.reply_cache.shared: the edge answers with its local reply cache only", "err", err)
			return edge.SharedReplies{}, func() {}
		}
		shared.Prefix = redisstore.Prefix(cfg.Store.Redis.KeyPrefix)
	}
	redismetrics.Instrument(shared.Client, b.reg)
	log.Info("edge replies shared in Redis", "addresses", cfg.Store.Redis.Addresses, "prefix", shared.Prefix, "timeout", shared.Timeout.String())
	client := shared.Client
	return shared, func() { _ = client.Close() }
}

// lazyRedisClient is a client for the Redis c names that connects on first
// use. Unlike redisstore.Open it cannot ask a single address whether it is
// a Cluster node: it takes one address for a single server.
func lazyRedisClient(c config.StoreConfig) (redis.UniversalClient, error) {
	rc, err := redisStoreConfig(c)
	if err != nil {
		return nil, err
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: rc.Addrs, Username: rc.Username, Password: rc.Password, DB: rc.DB,
		MasterName: rc.MasterName, TLSConfig: rc.TLS, ContextTimeoutEnabled: true,
	}), nil
}
