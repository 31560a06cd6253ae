// Package redismetrics measures a go-redis client for Prometheus: each
// command's latency and errors, and the connection pool. The tracing side
// is go-redis's own redisotel.
package redismetrics

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// pipelineCommand labels a pipeline or MULTI/EXEC: one round trip, which
// is what its latency measures.
const pipelineCommand = "pipeline"

type hook struct {
	commands *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// series holds each command's counters and histogram once used: the
	// vectors' lookups hash their labels on every call.
	series sync.Map // string → *commandSeries
}

type commandSeries struct {
	ok, failed prometheus.Counter
	duration   prometheus.Observer
}

// Instrument adds the metrics to client and registers them with reg:
// kradius_redis_commands_total{command,result},
// kradius_redis_command_duration_seconds{command}, and the pool's
// kradius_redis_pool_connections{state} and
// kradius_redis_pool_acquires_total{result}.
func Instrument(client redis.UniversalClient, reg prometheus.Registerer) {
	h := &hook{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_redis_commands_total",
			Help: "Redis commands sent, by command (pipeline for a pipeline or transaction) and result: ok, or error (a reply error, a timeout or a lost connection; a nil reply is ok).",
		}, []string{"command", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kradius_redis_command_duration_seconds",
			Help:    "Time from sending a Redis command (or pipeline) to its reply, by command.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"command"}),
	}
	reg.MustRegister(h.commands, h.duration, &poolCollector{client: client})
	client.AddHook(h)
}

func (h *hook) seriesOf(command string) *commandSeries {
	if s, ok := h.series.Load(command); ok {
		return s.(*commandSeries)
	}
	s, _ := h.series.LoadOrStore(command, &commandSeries{
		ok:       h.commands.WithLabelValues(command, "ok"),
		failed:   h.commands.WithLabelValues(command, "error"),
		duration: h.duration.WithLabelValues(command),
	})
	return s.(*commandSeries)
}

func (h *hook) record(command string, start time.Time, err error) {
	s := h.seriesOf(command)
	s.duration.Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, redis.Nil) {
		s.failed.Inc()
		return
	}
	s.ok.Inc()
}

func (h *hook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h *hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if handshake(cmd) {
			return next(ctx, cmd)
		}
		start := time.Now()
		err := next(ctx, cmd)
		h.record(cmd.Name(), start, err)
		return err
	}
}

func (h *hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return !handshake(c) }) {
			return next(ctx, cmds)
		}
		start := time.Now()
		err := next(ctx, cmds)
		h.record(pipelineCommand, start, err)
		return err
	}
}

// handshakeSubcommands are the CLIENT subcommands go-redis sends on a new
// connection through the hooks. A server that does not know one (CLIENT
// SETINFO before Redis 7.2, MAINT_NOTIFICATIONS) answers an error go-redis
// ignores: counted, it would read as a failing backend.
var handshakeSubcommands = map[string]bool{"setinfo": true, "maint_notifications": true, "setname": true, "tracking": true}

// handshake says whether cmd is go-redis's connection setup, not kradius's.
func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello":
		return true
	case "client":
		args := cmd.Args()
		if len(args) < 2 {
			return false
		}
		sub, _ := args[1].(string)
		return handshakeSubcommands[strings.ToLower(sub)]
	}
	return false
}

var (
	connectionsDesc = prometheus.NewDesc("kradius_redis_pool_connections",
		"Connections in the Redis client's pool, by state: total, idle.", []string{"state"}, nil)
	acquiresDesc = prometheus.NewDesc("kradius_redis_pool_acquires_total",
		"Connections taken from the Redis client's pool, by result: hit (an idle one), miss (a new one dialled), timeout (none within the pool timeout: the command failed).", []string{"result"}, nil)
)

// poolCollector reads the pool's statistics at scrape time.
type poolCollector struct{ client redis.UniversalClient }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connectionsDesc
	ch <- acquiresDesc
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.client.PoolStats()
	// Pipelines and transactions have a pool of their own: the client's
	// connections are both.
	if p := s.PipelineStats; p != nil {
		s.TotalConns += p.TotalConns
		s.IdleConns += p.IdleConns
		s.Hits += p.Hits
		s.Misses += p.Misses
		s.Timeouts += p.Timeouts
	}
	ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(s.TotalConns), "total")
	ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(s.IdleConns), "idle")
	ch <- prometheus.MustNewConstMetric(acquiresDesc, prometheus.CounterValue, float64(s.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(acquiresDesc, prometheus.CounterValue, float64(s.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(acquiresDesc, prometheus.CounterValue, float64(s.Timeouts), "timeout")
}
