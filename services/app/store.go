package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/config"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore"
	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore"
	"kradius.dev/services/nas/faxback/fbstore/migrate"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records"
	recembedded "kradius.dev/services/store/records/embedded"
	redisrecords "kradius.dev/services/store/records/redis"
)

// redisStore is the serving store on Redis, with the client and key prefix
// the cdr consumer's done-marks share.
type redisStore struct {
	*fbstore.Store
	client redis.UniversalClient
	prefix string
}

// schemaKinds are the profiles' kinds that the records service carries.
var schemaKinds = recordsvc.Kinds(profiles.All)

// storeKinds are every kind the records backend keeps: FaxBack's, which
// fbstore declares, and the kinds with a Schema.
func storeKinds() []records.Kind {
	return append(slices.Clone(fbstore.Kinds), recordsvc.StoreKinds(schemaKinds)...)
}

// openStore opens the configured serving store: the FaxBack profile's
// records on the profile-neutral records backend, which the other
// profiles' kinds share. A data set in the layout before records by kind
// is migrated first, once.
// observe instruments the Redis client, when there is one.
func openStore(ctx context.Context, c config.StoreConfig, observe func(redis.UniversalClient) error, log *slog.Logger) (fbdata.Store, records.Store, error) {
	opts := fbdata.Options{LongNames: c.LongNames}
	if c.Backend == "embedded" {
		st, err := openEmbedded(ctx, c.Embedded.Path, opts, log)
		if err != nil {
			return nil, nil, err
		}
		return st, st.Records(), nil
	}
	st, err := openRedis(ctx, c, opts, log)
	if err != nil {
		return nil, nil, err
	}
	if err := observe(st.client); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("instrumenting the redis client: %w", err)
	}
	return st, st.Records(), nil
}

func openRedis(ctx context.Context, c config.StoreConfig, opts fbdata.Options, log *slog.Logger) (*redisStore, error) {
	old, err := openRedisClient(ctx, c, opts)
	if err != nil {
		return nil, err
	}
	client, prefix := old.Client(), old.KeyPrefix()
	rs, err := redisrecords.New(client, prefix, storeKinds())
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("opening redis store: %w", err)
	}
	st := &redisStore{Store: fbstore.New(rs, opts), client: client, prefix: prefix}
	counts, migrated, err := migrate.Redis(ctx, client, prefix, opts, st.Store)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("migrating the redis data set %s to records by kind: %w", prefix, err)
	}
	if migrated {
		log.Info("redis data set migrated to records by kind; the old keys stay until deleted (services/nas/faxback/fbstore/migrate)", "prefix", prefix, "accounts", counts.Accounts, "dids", counts.DIDs, "called_numbers", counts.CalledNumbers)
	}
	return st, nil
}

func openEmbedded(ctx context.Context, path string, opts fbdata.Options, log *slog.Logger) (*fbstore.Store, error) {
	open := func(p string) (*fbstore.Store, error) {
		rs, err := recembedded.Open(p, storeKinds())
		if err != nil {
			return nil, err
		}
		// bbolt locks the file to this process, its only writer.
		return fbstore.New(rs, opts).CacheReads(), nil
	}
	counts, migrated, err := migrate.Embedded(ctx, path, opts, func(p string) (migrate.Target, error) { return open(p) })
	if err != nil {
		return nil, fmt.Errorf("migrating %s to records by kind: %w", path, err)
	}
	if migrated {
		log.Info("embedded store migrated to records by kind", "path", path, "backup", migrate.BackupPath(path), "accounts", counts.Accounts, "dids", counts.DIDs, "called_numbers", counts.CalledNumbers)
	}
	st, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("opening embedded store: %w", err)
	}
	return st, nil
}

// openRedisClient connects to the configured Redis through the store of
// the layout before records by kind, which the migration reads, and whose
// client the records backend shares.
func openRedisClient(ctx context.Context, c config.StoreConfig, opts fbdata.Options) (*redisstore.Store, error) {
	cfg, err := redisStoreConfig(c)
	if err != nil {
		return nil, err
	}
	st, err := redisstore.Open(ctx, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("opening redis store: %w", err)
	}
	return st, nil
}

// redisStoreConfig is how to reach the Redis store.redis names.
func redisStoreConfig(c config.StoreConfig) (redisstore.Config, error) {
	r := c.Redis
	cfg := redisstore.Config{Addrs: r.Addresses, Username: r.Username, DB: r.DB, MasterName: r.MasterName, KeyPrefix: r.KeyPrefix}
	if r.PasswordFile != "" {
		b, err := os.ReadFile(r.PasswordFile)
		if err != nil {
			return redisstore.Config{}, fmt.Errorf("store.redis.password_file: %w", err)
		}
		cfg.Password = strings.TrimRight(string(b), "\r\n")
	}
	switch {
	case r.TLS.Enabled():
		t, err := r.TLS.ClientTLS()
		if err != nil {
			return redisstore.Config{}, fmt.Errorf("store.redis.tls: %w", err)
		}
		cfg.TLS = t
	case r.TLSEnabled:
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}
