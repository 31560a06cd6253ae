package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"

	"kradius.dev/services/config"
	"kradius.dev/services/store"
	"kradius.dev/services/store/embedded"
	"kradius.dev/services/store/redisstore"
)

// openStore opens the configured serving store.
func openStore(ctx context.Context, c config.StoreConfig) (store.Store, error) {
	opts := store.Options{LongNames: c.LongNames}
	if c.Backend == "embedded" {
		st, err := embedded.Open(c.Embedded.Path, opts)
		if err != nil {
			return nil, fmt.Errorf("opening embedded store: %w", err)
		}
		return st, nil
	}
	r := c.Redis
	cfg := redisstore.Config{Addrs: r.Addresses, Username: r.Username, DB: r.DB, MasterName: r.MasterName, KeyPrefix: r.KeyPrefix}
	if r.PasswordFile != "" {
		b, err := os.ReadFile(r.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("store.redis.password_file: %w", err)
		}
		cfg.Password = strings.TrimRight(string(b), "\r\n")
	}
	switch {
	case r.TLS.Enabled():
		t, err := r.TLS.ClientTLS()
		if err != nil {
			return nil, fmt.Errorf("store.redis.tls: %w", err)
		}
		cfg.TLS = t
	case r.TLSEnabled:
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	st, err := redisstore.Open(ctx, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("opening redis store: %w", err)
	}
	return st, nil
}
