package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
)

// pingTimeout bounds Open's check that Redis answers, so that a wrong
// address fails the start-up instead of hanging it.
const pingTimeout = 5 * time.Second

// Config says where the Redis data set is.
type Config struct {
	// Addrs are host:port pairs. One address is a single Redis server (or,
	// if that server says it is a cluster node, the seed of a Redis
	// Cluster); several are seeds of a Redis Cluster; with MasterName they
	// are the Sentinels.
	Addrs []string
	// Username and Password authenticate to the Redis servers (ACL user, or
	// only Password for requirepass). Sentinels are asked without them.
	Username, Password string
	// DB is the database of a single server or Sentinel-managed master; a
	// Redis Cluster has only database 0.
	DB int
	// MasterName is the Sentinel master name; set, Addrs are Sentinels.
	MasterName string
	// TLS, when not nil, is used for every connection.
	TLS *tls.Config
	// KeyPrefix names the data set; see Prefix. "" is DefaultPrefix.
	KeyPrefix string
}

// where names the servers for messages.
func (c Config) where() string {
	addrs := strings.Join(c.Addrs, ", ")
	if c.MasterName != "" {
		return fmt.Sprintf("Sentinel master %q via %s", c.MasterName, addrs)
	}
	return addrs
}

// Open connects to the Redis that cfg describes and checks it answers
// within 5 s (less if ctx says so), with an error naming the addresses if it
// does not. Calls honour their context's deadline on the wire, so a slow
// Redis costs a RADIUS request its own deadline and no more.
func Open(ctx context.Context, cfg Config, o fbdata.Options) (*Store, error) {
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("open redis store: no addresses")
	}
	opts := &redis.UniversalOptions{
		Addrs:                 cfg.Addrs,
		Username:              cfg.Username,
		Password:              cfg.Password,
		DB:                    cfg.DB,
		MasterName:            cfg.MasterName,
		TLSConfig:             cfg.TLS,
		ContextTimeoutEnabled: true,
	}
	cluster := cfg.MasterName == "" && len(cfg.Addrs) > 1
	if cluster && cfg.DB != 0 {
		return nil, fmt.Errorf("open redis store at %s: db %d: a Redis Cluster has only database 0", cfg.where(), cfg.DB)
	}
	client, err := connect(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("open redis store at %s: %w", cfg.where(), err)
	}
	if !cluster && cfg.MasterName == "" {
		// A single address may be one node of a cluster, which would
		// answer MOVED for the slots it does not serve.
		if isClusterNode(ctx, client) {
			if cfg.DB != 0 {
				return nil, errors.Join(
					fmt.Errorf("open redis store at %s: db %d: the server is a Redis Cluster node, and a cluster has only database 0", cfg.where(), cfg.DB),
					client.Close())
			}
			if err := client.Close(); err != nil {
				return nil, fmt.Errorf("open redis store at %s: %w", cfg.where(), err)
			}
			opts.IsClusterMode = true
			if client, err = connect(ctx, opts); err != nil {
				return nil, fmt.Errorf("open redis store at %s (as a cluster): %w", cfg.where(), err)
			}
		}
	}
	return New(client, o, cfg.KeyPrefix), nil
}

// connect makes the client and PINGs through it; a Cluster client checks
// every node it learns of.
func connect(ctx context.Context, opts *redis.UniversalOptions) (redis.UniversalClient, error) {
	client := redis.NewUniversalClient(opts)
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var err error
	if c, ok := client.(*redis.ClusterClient); ok {
		err = c.ForEachShard(ctx, func(ctx context.Context, node *redis.Client) error {
			return node.Ping(ctx).Err()
		})
	} else {
		err = client.Ping(ctx).Err()
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("ping: %w", err), client.Close())
	}
	return client, nil
}

// isClusterNode asks the server whether it runs in cluster mode. A server
// that will not say (an ACL user without INFO, say) is taken as standalone:
// a cluster would then answer MOVED, an error that names the cause.
func isClusterNode(ctx context.Context, client redis.UniversalClient) bool {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	info, err := client.Info(ctx, "cluster").Result()
	return err == nil && strings.Contains(info, "cluster_enabled:1")
}
