package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/accounts/accountsrpc"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/config"
	"kradius.dev/services/dids/didsrpc"
	"kradius.dev/services/edgecache"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/recordcache"
	"kradius.dev/services/recordsvc/recordsrpc"
	"kradius.dev/services/rpc"
)

// cachedRecords puts the records cache in front of rs for the profiles,
// unless backends.cache.max_entries is 0 (then cache is nil).
func cachedRecords(rs nas.Records, cc config.CacheConfig, reg prometheus.Registerer, log *slog.Logger) (nas.Records, *recordcache.Cache) {
	if cc.MaxEntries <= 0 {
		return rs, nil
	}
	var cached []string
	for _, k := range schemaKinds {
		if k.EdgeCache {
			cached = append(cached, k.Name)
		}
	}
	c := recordcache.New(rs, cached, cc.MaxEntries, reg, log)
	return c, c
}

// runEdge is -target=edge: stateless UDP pods asking the accounts and dids
// services over gRPC. A backend that is down or slow costs a request its
// backends.timeout and then its reply, never a false Access-Reject.
func runEdge(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	b, err := startBase(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer b.close()
	reg, ops := b.reg, b.ops
	retry := rpc.RetryOnce(time.Duration(cfg.Backends.Timeout), map[string]time.Duration{
		accountsv1.AccountService_Authenticate_FullMethodName:      time.Duration(cfg.Backends.AuthenticateTimeout),
		accountsv1.AccountService_AuthenticateBatch_FullMethodName: time.Duration(cfg.Backends.AuthenticateTimeout),
		recordsv1.RecordService_VerifyRecord_FullMethodName:        time.Duration(cfg.Backends.AuthenticateTimeout),
	})
	dialOpts := b.grpcDialOptions(rpc.NewMetrics("client", reg), retry)
	accountsConn, err := rpc.Dial(cfg.Backends.Accounts, cfg.Backends.TLS, dialOpts...)
	if err != nil {
		return err
	}
	defer accountsConn.Close()
	didsConn, err := rpc.Dial(cfg.Backends.DIDs, cfg.Backends.TLS, dialOpts...)
	if err != nil {
		return err
	}
	defer didsConn.Close()
	// Connected now rather than on the first request, which would pay for
	// it, and kept so.
	backends := grpcHealth(ctx, accountsConn, didsConn)

	var acctLog acctlog.Appender
	if cfg.Accounting.Log == "kafka" {
		a, err := kafkaAppender(ctx, cfg.Accounting.Kafka, cfg.Accounting.Kafka.Topics.Accounting)
		if err != nil {
			return err
		}
		defer a.Close()
		acctLog = a
	} else {
		log.Warn("accounting.log is none: Accounting-Requests are dropped (accounting_unavailable), never acknowledged")
	}
	accountsClient := accountsrpc.NewClient(accountsConn)
	var accts nas.Accounts = accountsClient
	var didsBackend nas.DIDs = didsrpc.NewClient(didsConn)
	if cc := cfg.Backends.Cache; cc.MaxEntries > 0 {
		cache := edgecache.New(edgecache.Options{MaxEntries: cc.MaxEntries, TTL: time.Duration(cc.TTL)}, reg)
		go cache.Run(ctx, accountsClient.WatchChanges, log)
		accts, didsBackend = cache.Accounts(accts), cache.DIDs(didsBackend)
	}
	recs, recordCache := cachedRecords(recordsrpc.NewClient(accountsConn, didsConn, schemaKinds), cfg.Backends.Cache, reg, log)
	built, err := profiles.Build(profileDeps(accts, didsBackend, recs, reg, log))
	if err != nil {
		return err
	}
	// Decisions wait on the accounts and dids services, and many in flight
	// make their batches.
	shared, closeShared := sharedReplies(ctx, b, cfg, log)
	defer closeShared()
	srv, err := newEdge(ctx, b, cfg.Edge, 64, backends, acctLog, shared, built, log)
	if err != nil {
		return err
	}
	log.Info("edge backends", "accounts", cfg.Backends.Accounts, "dids", cfg.Backends.DIDs, "timeout", time.Duration(cfg.Backends.Timeout).String(), "authenticate_timeout", time.Duration(cfg.Backends.AuthenticateTimeout).String(), "tls", cfg.Backends.TLS.Enabled())
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return built.Run(ctx) })
	if recordCache != nil {
		g.Go(func() error { return recordCache.Run(ctx) })
	}
	g.Go(func() error {
		ops.ready.Store(true)
		return srv.Serve(ctx)
	})
	return g.Wait()
}
