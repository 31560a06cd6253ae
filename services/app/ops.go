package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"kradius.dev/services/config"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/store/records"
	"kradius.dev/services/tracing"
	"kradius.dev/services/version"
)

// httpServer is one of the process's HTTP listeners.
type httpServer struct {
	srv *http.Server
	ln  net.Listener
}

func newHTTPServer(addr string, h http.Handler) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &httpServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, ln: ln}, nil
}

func (s *httpServer) serve(log *slog.Logger, msg string) {
	log.Info(msg, "addr", s.ln.Addr().String())
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error(msg, "err", err)
	}
}

func (s *httpServer) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// opsServer serves /metrics, /healthz (the process is alive) and /readyz
// (the component is serving).
type opsServer struct {
	*httpServer
	ready atomic.Bool
}

func newOpsServer(addr string, reg *prometheus.Registry) (*opsServer, error) {
	o := &opsServer{}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: true}))
	// Profiles, for `go tool pprof http://HOST:9812/debug/pprof/profile`:
	// the ops endpoint is for operators, never for NAS traffic.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !o.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	s, err := newHTTPServer(addr, mux)
	if err != nil {
		return nil, fmt.Errorf("http listener: %w", err)
	}
	o.httpServer = s
	return o, nil
}

func (o *opsServer) serve(log *slog.Logger) { o.httpServer.serve(log, "ops endpoint listening") }

func (o *opsServer) shutdown() {
	o.ready.Store(false)
	o.httpServer.shutdown()
}

// base is what every target starts with: its metrics registry, its
// tracing, the ops endpoint, and (when it has one) its store. close undoes
// it.
type base struct {
	reg    *prometheus.Registry
	tracer *tracing.Provider
	ops    *opsServer
	st     fbdata.Store
	// rs is the records backend under st, for the records service.
	rs  records.Store
	log *slog.Logger
}

func startBase(ctx context.Context, cfg config.Config, log *slog.Logger, withStore bool) (*base, error) {
	b := &base{reg: newRegistry()}
	b.reg.MustRegister(version.Collector(cfg.Target))
	var err error
	if b.tracer, err = tracing.Start(ctx, cfg.Tracing, "kradius-"+cfg.Target, version.Get().Version, log); err != nil {
		return nil, err
	}
	if b.ops, err = startOps(cfg.HTTP.Listen, b.reg, log); err != nil {
		b.closeTracer(log)
		return nil, err
	}
	b.log = log
	if withStore {
		if b.st, b.rs, err = openStore(ctx, cfg.Store, b.observeRedis, log); err != nil {
			b.ops.shutdown()
			b.closeTracer(log)
			return nil, err
		}
	}
	return b, nil
}

func (b *base) close() {
	if b.st != nil {
		_ = b.st.Close()
	}
	b.ops.shutdown()
	b.closeTracer(b.log)
}

// closeTracer exports the spans still buffered, within a bound: a
// collector that is down must not hold up a pod's exit.
func (b *base) closeTracer(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.tracer.Shutdown(ctx); err != nil {
		log.Warn("tracing: exporting the last spans", "err", err)
	}
}
