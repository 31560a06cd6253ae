package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/accounts"
	"kradius.dev/services/acctlog"
	"kradius.dev/services/admin"
	"kradius.dev/services/cdr"
	"kradius.dev/services/config"
	"kradius.dev/services/dids"
	"kradius.dev/services/edge"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/password"
	"kradius.dev/services/provision"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/recordsvc/recordsrpc"
	"kradius.dev/services/rpc"
)

// runAll is every component in one process, wired in-process through the
// same interfaces the distributed targets put on gRPC: the default of
// `make run`. Only the admin service listens, for `kradius import`.
func runAll(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	b, err := startBase(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer b.close()
	reg, ops, st := b.reg, b.ops, b.st
	verifier := newVerifier(cfg.Password)
	recs := recordsvc.New(b.rs, schemaKinds, verifier, passwordParams(cfg.Password))
	if err := bootstrap(ctx, st, recs, cfg.Store.Bootstrap, passwordParams(cfg.Password), fbdata.Options{LongNames: cfg.Store.LongNames}, log); err != nil {
		return err
	}
	// The profiles read routes through the records cache here too: it
	// keeps them decoded, and a route's longest-prefix lookup answered.
	profileRecs, recordCache := cachedRecords(recs, cfg.Backends.Cache, reg, log)
	built, err := profiles.Build(profileDeps(accounts.New(st, verifier, accounts.HashParams(passwordParams(cfg.Password))), dids.New(st), profileRecs, reg, log))
	if err != nil {
		return err
	}
	var acctLog acctlog.Appender
	var acct *embeddedAccounting
	var cdrReaders *cdr.JournalReaders
	g, ctx := errgroup.WithContext(ctx)
	switch cfg.Accounting.Log {
	case "journal":
		var err error
		if acct, err = openEmbeddedAccounting(cfg.Accounting, st, recs, reg, log); err != nil {
			return err
		}
		acct.processor.SetTracer(b.consumerTracer(), "journal")
		defer acct.close()
		// Billing's readers of the CDR journal, through the admin endpoint
		// (kradius cdr); closed before the journal.
		cdrReaders = cdr.NewJournalReaders(acct.cdrs)
		defer cdrReaders.Close()
		acctLog = acct.records
	case "kafka":
		a, err := kafkaAppender(ctx, cfg.Accounting.Kafka, cfg.Accounting.Kafka.Topics.Accounting)
		if err != nil {
			return err
		}
		defer a.Close()
		acctLog = a
	}
	// The embedded store answers at once: a few decisions per CPU keep the
	// run queue short, and logins' p99 with it (measured:
	// docs/performance.md, "Access workers"). At least 16, so that logins
	// waiting for argon2 (a password not in the verifier's cache) leave
	// workers for the ones it answers.
	shared, closeShared := sharedReplies(ctx, b, cfg, log)
	defer closeShared()
	srv, err := newEdge(ctx, b, cfg.Edge, max(16, 4*runtime.GOMAXPROCS(0)), storeHealth(st), acctLog, shared, built, log)
	if err != nil {
		return err
	}
	if acct != nil {
		g.Go(func() error { return acct.run(ctx, srv.Received) })
	}
	g.Go(func() error {
		return serveGRPC(ctx, b, cfg.Admin.Listen, rpc.TLSConfig{}, log, "admin endpoint", func(s *grpc.Server) {
			adm := admin.NewServer(st, recs, passwordParams(cfg.Password), log)
			if cdrReaders != nil {
				adm.WithCDRs(cdrReaders)
			}
			if acct != nil {
				adm.WithSettlement(acct.settlement) // kradius settlement report
			}
			adminv1.RegisterAdminServiceServer(s, adm)
			recordsv1.RegisterRecordServiceServer(s, recordsrpc.NewServer(recs))
		})
	})
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

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// startOps starts the /metrics, /healthz and /readyz endpoint.
func startOps(addr string, reg *prometheus.Registry, log *slog.Logger) (*opsServer, error) {
	ops, err := newOpsServer(addr, reg)
	if err != nil {
		return nil, err
	}
	go ops.serve(log)
	return ops, nil
}

// newVerifier bounds the checks waiting for argon2, so that a flood of
// uncached logins is shed rather than queued (services/password, gate.go).
// Two per CPU may wait: enough for the bursts a server far from its
// capacity sees while a run is slow (a busy host); with the runs, fewer
// than the access workers of -target=all (four per CPU), so that a flood
// leaves some of them to the requests that need no argon2.
func newVerifier(c config.PasswordConfig) *password.Verifier {
	return password.NewVerifier(c.CacheSize, time.Duration(c.CacheTTL),
		password.MaxRunning(c.MaxRunning), password.MaxWaiting(cmp.Or(c.MaxWaiting, 2*runtime.GOMAXPROCS(0))))
}

// profileDeps are what the profiles of a target that serves NAS requests
// get from it.
func profileDeps(a nas.Accounts, d nas.DIDs, r nas.Records, reg prometheus.Registerer, log *slog.Logger) nas.Deps {
	host, _ := os.Hostname()
	return nas.Deps{Accounts: a, DIDs: d, Records: r, Metrics: reg, Log: log, Host: host}
}

// bootstrap applies the configured provisioning files, each atomically.
func bootstrap(ctx context.Context, st fbdata.Store, recs *recordsvc.Service, files []string, p password.Params, o fbdata.Options, log *slog.Logger) error {
	for _, f := range files {
		data, err := provision.LoadFile(f, p, o, schemaKinds...)
		if err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if err := admin.Apply(ctx, st, recs, data.Batch, data.Records); err != nil {
			return fmt.Errorf("bootstrap %s: %w", f, err)
		}
		log.Info("bootstrap applied", "file", f, "accounts", len(data.Accounts), "dids", len(data.DIDs), "called_numbers", len(data.CalledNumbers), "records", len(data.Records))
	}
	return nil
}

func passwordParams(c config.PasswordConfig) password.Params {
	return password.Params{Memory: c.MemoryKiB, Time: c.Time, Threads: c.Threads}
}

// newEdge builds and binds the edge from a validated config; each client is
// served by its profile in built, configured with the client's options.
// With edge.clients_file, a goroutine started on ctx reloads the client
// table when the file changes.
//
// edge.workers 0 takes defaultWorkers: the target knows whether its access
// decisions wait on other services. backends is what they wait on, for the
// auth port's Status-Server. shared is the reply cache the edges share, if
// any (sharedReplies).
func newEdge(ctx context.Context, b *base, c config.EdgeConfig, defaultWorkers int, backends edge.Health, acctLog acctlog.Appender, shared edge.SharedReplies, built profiles.Built, log *slog.Logger) (*edge.Server, error) {
	reg := b.reg
	var clientsFile *fileWatch
	if c.ClientsFile != "" {
		clientsFile = watchFiles(c.ClientsFile)
	}
	table, err := clientTable(c, built)
	if err != nil {
		return nil, fmt.Errorf("edge client table: %w", err)
	}
	if len(c.Clients) == 0 && c.ClientsFile == "" {
		log.Warn("edge.clients is empty: every request will be dropped as unknown_client")
	}
	radsec, err := radsecSettings(ctx, c.RadSec, reg, log)
	if err != nil {
		return nil, fmt.Errorf("edge.radsec: %w", err)
	}
	srv := edge.New(edge.Config{
		AuthAddr:       c.AuthListen,
		AcctAddr:       c.AcctListen,
		Workers:        cmp.Or(c.Workers, defaultWorkers),
		AcctWorkers:    c.AcctWorkers,
		QueueSize:      c.QueueSize,
		RequestTimeout: time.Duration(c.RequestTimeout),
		MaxQueueWait:   time.Duration(c.MaxQueueWait),
		ReplyTTL:       time.Duration(c.ReplyCache.TTL),
		ReplyCacheSize: c.ReplyCache.MaxEntries,
		SharedReplies:  shared,
		RadSec:         radsec,
		Log:            acctLog,
		AuthHealth:     backends,
		AcctHealth:     logHealth(acctLog),
		Tracer:         b.edgeTracer(),
		SampleRatio:    b.tracer.SamplingRatio(),
	}, table, reg, log)
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	reloads := reloadCounter(reg)
	if clientsFile != nil {
		go watchClients(ctx, clientsFile, c, srv, built, reloads, log)
	}
	return srv, nil
}
