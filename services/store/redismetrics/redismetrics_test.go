package redismetrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbstore/legacy/redisstore/redistest"
	"kradius.dev/services/store/redismetrics"
)

const (
	commandsTotal   = "kradius_redis_commands_total"
	commandDuration = "kradius_redis_command_duration_seconds"
	poolConns       = "kradius_redis_pool_connections"
	poolAcquires    = "kradius_redis_pool_acquires_total"
)

// instrumented is a client of a fresh redis-server, measured on a registry
// of its own.
func instrumented(t *testing.T) (*redis.Client, *prometheus.Registry) {
	t.Helper()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	reg := prometheus.NewRegistry()
	redismetrics.Instrument(client, reg)
	return client, reg
}

// value finds the series of family name that has labels (among others),
// and says whether there is one.
func value(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (*dto.Metric, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			return m, true
		}
	}
	return nil, false
}

// counts reads every series of the command metrics: commands_total by
// "command/result", and the duration histogram's count by "command".
func counts(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case commandsTotal:
				out[labels["command"]+"/"+labels["result"]] = m.GetCounter().GetValue()
			case commandDuration:
				out[labels["command"]] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestCommands(t *testing.T) {
	client, reg := instrumented(t)
	ctx := context.Background()
	// A connection's handshake goes through the hooks too (see
	// TestHandshakeIsNoError): open one connection in each pool first and
	// count from there, so this test sees only its own commands.
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Ping(ctx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := counts(t, reg)

	if err := client.Set(ctx, "k", "not a number", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := client.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET missing = %v, want redis.Nil", err)
	}
	if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "p", "1", 0)
		p.Get(ctx, "p")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "p")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A reply error: the value is no integer.
	if err := client.Do(ctx, "INCR", "k").Err(); err == nil || errors.Is(err, redis.Nil) {
		t.Fatalf("INCR of a string = %v, want a reply error", err)
	}
	// A pipeline one of whose commands fails is a failed round trip.
	if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "k")
		return nil
	}); err == nil {
		t.Fatal("pipelined INCR of a string succeeded")
	}

	after := counts(t, reg)
	for key, want := range map[string]float64{
		// The commands inside pipelines count as their pipeline, not
		// again one by one: set and get are 1 each.
		"set/ok":     1,
		"set/error":  0,
		"get/ok":     1, // a nil reply is an answer
		"get/error":  0,
		"incr/ok":    0,
		"incr/error": 1,
		// A pipeline and a MULTI/EXEC, then the failed pipeline.
		"pipeline/ok":    2,
		"pipeline/error": 1,
		// Latency: every round trip, failed or not.
		"set":      1,
		"get":      1,
		"incr":     1,
		"pipeline": 3,
	} {
		if got := after[key] - before[key]; got != want {
			t.Errorf("%s: %v more, want %v", key, got, want)
		}
	}
	// Both results of a command exist from its first use, so that its error
	// rate reads 0 rather than nothing.
	for _, key := range []string{"set/ok", "set/error", "incr/ok", "incr/error"} {
		if _, ok := after[key]; !ok {
			t.Errorf("%s{%s} is missing", commandsTotal, key)
		}
	}
}

// TestHandshakeIsNoError: go-redis runs a new connection's handshake
// (HELLO, CLIENT MAINT_NOTIFICATIONS, a pipeline of CLIENT SETINFO) through
// the client's hooks, and tolerates the servers that refuse its newer
// subcommands. Those refusals are not failed commands of kradius: counted,
// they alarm KradiusBackendErrors on command="client" (100% errors) every
// time a connection is dialled.
func TestHandshakeIsNoError(t *testing.T) {
	client, reg := instrumented(t)
	ctx := context.Background()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Ping(ctx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for key, v := range counts(t, reg) {
		if strings.HasSuffix(key, "/error") && v != 0 {
			t.Errorf("%s{%s} = %v after two successful round trips, want 0", commandsTotal, key, v)
		}
	}
	if got := counts(t, reg)["ping/ok"]; got != 1 {
		t.Errorf("%s{ping/ok} = %v, want 1", commandsTotal, got)
	}
}

// poolValue is the pool gauge or counter name{label=v}.
func poolValue(t *testing.T, reg prometheus.Gatherer, name, label, v string) float64 {
	t.Helper()
	m, ok := value(t, reg, name, map[string]string{label: v})
	if !ok {
		t.Fatalf("%s{%s=%q} is missing", name, label, v)
	}
	if name == poolAcquires {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func TestPool(t *testing.T) {
	client, reg := instrumented(t)
	ctx := context.Background()
	for range 3 {
		if err := client.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := testutil.GatherAndCount(reg, poolConns, poolAcquires); err != nil || n != 5 {
		t.Errorf("pool series = %d, %v; want 5 (total, idle; hit, miss, timeout)", n, err)
	}
	// Sequential commands share one connection: dialled once, then reused.
	if got := poolValue(t, reg, poolConns, "state", "total"); got != 1 {
		t.Errorf("%s{state=total} = %v, want 1", poolConns, got)
	}
	if got := poolValue(t, reg, poolConns, "state", "idle"); got != 1 {
		t.Errorf("%s{state=idle} = %v, want 1 (no command in flight)", poolConns, got)
	}
	if got := poolValue(t, reg, poolAcquires, "result", "miss"); got != 1 {
		t.Errorf("%s{result=miss} = %v, want 1", poolAcquires, got)
	}
	if got := poolValue(t, reg, poolAcquires, "result", "hit"); got < 2 {
		t.Errorf("%s{result=hit} = %v, want at least 2", poolAcquires, got)
	}
	if got := poolValue(t, reg, poolAcquires, "result", "timeout"); got != 0 {
		t.Errorf("%s{result=timeout} = %v, want 0", poolAcquires, got)
	}
}

// TestPoolCountsPipelineConnections: go-redis gives pipelines (and
// MULTI/EXEC) a pool of their own, and PoolStats reports it apart, in
// PipelineStats. The pool metrics must count its connections too: the
// ledger and the stores mostly pipeline, and a pool metric blind to those
// connections reads 0 while they are open.
func TestPoolCountsPipelineConnections(t *testing.T) {
	client, reg := instrumented(t)
	ctx := context.Background()
	for range 2 {
		if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Ping(ctx)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if s := client.PoolStats(); s.PipelineStats == nil || s.PipelineStats.TotalConns != 1 {
		t.Fatalf("go-redis pool stats %+v: want the pipeline's connection in PipelineStats", s)
	}
	for _, tt := range []struct {
		name, label, value string
		want               float64
	}{
		{poolConns, "state", "total", 1},
		{poolConns, "state", "idle", 1},
		{poolAcquires, "result", "miss", 1},
		{poolAcquires, "result", "hit", 1},
	} {
		got := poolValue(t, reg, tt.name, tt.label, tt.value)
		if got != tt.want {
			t.Errorf("%s{%s=%q} = %v, want %v", tt.name, tt.label, tt.value, got, tt.want)
		}
	}
}
