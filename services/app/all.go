package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"kradius.dev/services/accounts"
	"kradius.dev/services/config"
	"kradius.dev/services/edge"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback"
	"kradius.dev/services/password"
	"kradius.dev/services/provision"
	"kradius.dev/services/store"
	"kradius.dev/services/store/embedded"
)

// runAll is every component in one process on the embedded store: the
// default of `make run`.
func runAll(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	reg := newRegistry()
	ops, err := newOpsServer(cfg.HTTP.Listen, reg)
	if err != nil {
		return err
	}
	go ops.serve(log)
	defer ops.shutdown()

	st, err := embedded.Open(cfg.Store.Embedded.Path)
	if err != nil {
		return fmt.Errorf("opening embedded store: %w", err)
	}
	defer st.Close()
	if err := bootstrap(ctx, st, cfg.Store.Bootstrap, passwordParams(cfg.Password), log); err != nil {
		return err
	}

	verifier := password.NewVerifier(cfg.Password.CacheSize, time.Duration(cfg.Password.CacheTTL))
	profiles := map[string]nas.Handler{
		"faxback": faxback.New(accounts.New(st, verifier), reg),
	}
	srv, err := newEdge(cfg.Edge, profiles, reg, log)
	if err != nil {
		return err
	}
	ops.ready.Store(true)
	return srv.Serve(ctx)
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// bootstrap applies the configured provisioning files, each atomically.
func bootstrap(ctx context.Context, st store.Store, files []string, p password.Params, log *slog.Logger) error {
	for _, f := range files {
		batch, err := provision.LoadFile(f, p)
		if err != nil {
			return fmt.Errorf("bootstrap %s: %w", f, err)
		}
		if err := st.Apply(ctx, batch); err != nil {
			return fmt.Errorf("bootstrap %s: %w", f, err)
		}
		log.Info("bootstrap applied", "file", f, "accounts", len(batch.Accounts), "dids", len(batch.DIDs))
	}
	return nil
}

func passwordParams(c config.PasswordConfig) password.Params {
	return password.Params{Memory: c.MemoryKiB, Time: c.Time, Threads: c.Threads}
}

// newEdge builds and binds the edge from a validated config.
func newEdge(c config.EdgeConfig, profiles map[string]nas.Handler, reg prometheus.Registerer, log *slog.Logger) (*edge.Server, error) {
	clients := make([]*edge.Client, 0, len(c.Clients))
	for _, cl := range c.Clients {
		policy := edge.PolicyAuto
		if cl.MessageAuthenticator != "" {
			policy = edge.Policy(cl.MessageAuthenticator)
		}
		clients = append(clients, &edge.Client{
			Name: cl.Name, Prefixes: cl.Prefixes(), Secret: c.Secret(cl.Name), Profile: cl.Profile, Policy: policy,
		})
	}
	if len(clients) == 0 {
		log.Warn("edge.clients is empty: every request will be dropped as unknown_client")
	}
	table, err := edge.NewClientTable(clients)
	if err != nil {
		return nil, fmt.Errorf("edge.clients: %w", err)
	}
	srv, err := edge.New(edge.Config{
		AuthAddr:       c.AuthListen,
		AcctAddr:       c.AcctListen,
		Workers:        c.Workers,
		QueueSize:      c.QueueSize,
		RequestTimeout: time.Duration(c.RequestTimeout),
		ReplyTTL:       time.Duration(c.ReplyCache.TTL),
		ReplyCacheSize: c.ReplyCache.MaxEntries,
	}, table, profiles, reg, log)
	if err != nil {
		return nil, err
	}
	return srv, srv.Listen()
}
