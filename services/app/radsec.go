package app

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/config"
	"kradius.dev/services/edge"
	"kradius.dev/services/rpc"
)

// radsecSettings builds the edge's RadSec settings from edge.radsec, nothing when
// it is off. The certificates are read again when their files change, as
// cert-manager renews a Secret in place, so that a renewal needs no
// restart: the connections open keep the certificates they were made
// with, the next handshakes take the new ones.
func radsecSettings(ctx context.Context, c config.RadSecConfig, reg prometheus.Registerer, log *slog.Logger) (edge.RadSec, error) {
	if !c.Enabled() {
		return edge.RadSec{}, nil
	}
	files := watchFiles(c.TLS.CertFile, c.TLS.KeyFile, c.TLS.ClientCAFile)
	first, err := c.TLS.ServerTLS()
	if err != nil {
		return edge.RadSec{}, err
	}
	var current atomic.Pointer[tls.Config]
	current.Store(first)
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kradius_edge_radsec_certificate_reloads_total", Help: "Reloads of edge.radsec's certificate files after they changed, by result (ok, error).",
	}, []string{"result"})
	reg.MustRegister(reloads)
	reloads.WithLabelValues("ok")
	reloads.WithLabelValues("error")
	go watchRadSecFiles(ctx, files, c.TLS, &current, reloads, log)
	return edge.RadSec{
		Addr: c.Listen,
		// The outer config carries what the edge checks (a CA, verified
		// client certificates); each handshake takes the newest files'.
		TLS: &tls.Config{
			ClientAuth: first.ClientAuth, ClientCAs: first.ClientCAs, MinVersion: first.MinVersion,
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return current.Load(), nil },
		},
		HandshakeTimeout: time.Duration(c.HandshakeTimeout),
		MaxConnections:   c.MaxConnections,
	}, nil
}

// watchRadSecFiles reloads the RadSec certificates when a file changes, as
// w sees it. Files that do not load leave the running certificates in
// place: a half-written renewal must not refuse every NAS.
func watchRadSecFiles(ctx context.Context, w *fileWatch, c rpc.TLSConfig, current *atomic.Pointer[tls.Config], reloads *prometheus.CounterVec, log *slog.Logger) {
	w.run(ctx, func() {
		cfg, err := c.ServerTLS()
		if err != nil {
			reloads.WithLabelValues("error").Inc()
			log.Error("RadSec certificates not reloaded; keeping the running ones", "err", err)
			return
		}
		current.Store(cfg)
		reloads.WithLabelValues("ok").Inc()
		log.Info("RadSec certificates reloaded", "cert_file", c.CertFile, "client_ca_file", c.ClientCAFile)
	})
}
