package app

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kradius.dev/services/config"
	"kradius.dev/services/edge"
	"kradius.dev/services/nas/profiles"
)

// clientsWatchInterval is how often the clients file is checked. The
// operator writes the client table into a Secret that edge pods mount; the
// kubelet refreshes such a volume within about a minute, so polling every
// few seconds adds little, and survives the kubelet's symlink swaps that
// file-change notifications can miss.
const clientsWatchInterval = 2 * time.Second

// clientTable builds the client table from edge.clients and, when set,
// edge.clients_file, each client served by its profile in built.
func clientTable(c config.EdgeConfig, built profiles.Built) (*edge.ClientTable, error) {
	clients, err := edgeClients(c.Clients, c.Secret, built)
	if err != nil {
		return nil, err
	}
	if c.ClientsFile != "" {
		fileClients, secrets, err := config.LoadClientsFile(c.ClientsFile)
		if err != nil {
			return nil, err
		}
		more, err := edgeClients(fileClients, func(n string) []byte { return secrets[n] }, built)
		if err != nil {
			return nil, err
		}
		clients = append(clients, more...)
	}
	return edge.NewClientTable(clients)
}

func edgeClients(list []config.ClientConfig, secret func(string) []byte, built profiles.Built) ([]*edge.Client, error) {
	out := make([]*edge.Client, 0, len(list))
	for _, cl := range list {
		policy := edge.PolicyAuto
		if plugin, ok := profiles.Lookup(cl.Profile); ok && plugin.MessageAuthenticator != "" {
			policy = edge.Policy(plugin.MessageAuthenticator)
		}
		if cl.MessageAuthenticator != "" {
			policy = edge.Policy(cl.MessageAuthenticator)
		}
		h, err := built.Handler(cl.Profile, cl.ProfileOptions())
		if err != nil {
			return nil, fmt.Errorf("client %q: %w", cl.Name, err)
		}
		out = append(out, &edge.Client{
			Name: cl.Name, Profile: cl.Profile, Prefixes: cl.Prefixes(), Secret: secret(cl.Name), Policy: policy, Handler: h,
			RateLimit:        edge.RateLimit{Rate: cl.RateLimit.RequestsPerSecond, Burst: cl.RateLimit.BurstOrDefault()},
			RadSecIdentities: cl.RadSec.Identities,
		})
	}
	return out, nil
}

// reloadCounter is kradius_edge_client_reloads_total, registered by every
// edge, a file or not, so that its zeros say "no reload" on a dashboard.
func reloadCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kradius_edge_client_reloads_total", Help: "Reloads of edge.clients_file, by result (ok, error); zeros without a clients file.",
	}, []string{"result"})
	reg.MustRegister(reloads)
	reloads.WithLabelValues("ok")
	reloads.WithLabelValues("error")
	return reloads
}

// watchClients reloads the client table when the clients file changes,
// as w sees it. A file that does not load leaves the running table as it
// is: a typo in a RadiusClient must not drop every NAS.
func watchClients(ctx context.Context, w *fileWatch, c config.EdgeConfig, srv *edge.Server, built profiles.Built, reloads *prometheus.CounterVec, log *slog.Logger) {
	w.run(ctx, func() {
		table, err := clientTable(c, built)
		if err != nil {
			reloads.WithLabelValues("error").Inc()
			log.Error("client table not reloaded; keeping the running one", "file", c.ClientsFile, "err", err)
			return
		}
		srv.SetClients(table)
		reloads.WithLabelValues("ok").Inc()
		log.Info("client table reloaded", "file", c.ClientsFile)
	})
}

// fileWatch notices when the contents of files change. Made before they
// are first read, it sees a change written while they load, or before the
// goroutine that runs it is scheduled, as a change: one taken from that
// goroutine would miss it until the next.
type fileWatch struct {
	files []string
	last  string
}

func watchFiles(files ...string) *fileWatch {
	w := &fileWatch{files: files}
	w.last = w.hash()
	return w
}

func (w *fileWatch) hash() string {
	var all strings.Builder
	for _, f := range w.files {
		all.WriteString(fileHash(f) + "\n")
	}
	return all.String()
}

// run calls changed whenever the contents of the files differ from when
// it last looked, every clientsWatchInterval, until ctx ends.
func (w *fileWatch) run(ctx context.Context, changed func()) {
	t := time.NewTicker(clientsWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if h := w.hash(); h != w.last {
			w.last = h
			changed()
		}
	}
}

func fileHash(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}
