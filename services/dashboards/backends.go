//lint:file-ignore SA1019 the v1 dashboard model is what Grafana's file provisioning and import take; v2 needs Grafana 12's new-layouts feature.

package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// backendFailureCodes are the gRPC codes KradiusBackendErrors counts: not
// NotFound or Unauthenticated, which carry an unknown account or a wrong
// password (an Access-Reject), kradius's answers rather than its failures,
// nor ResourceExhausted, password checks shed under overload, which the
// edge counts as password_overload drops.
const backendFailureCodes = `code!~"OK|NotFound|Unauthenticated|ResourceExhausted"`

// backends is what the edge and the accounting consumer wait on: the gRPC
// services, Redis, the caches in front of them, and batching.
func backends() *dashboard.DashboardBuilder {
	return newBoard("kradius / Backends",
		"gRPC and Redis latency and errors, the Redis pool, cache hit ratios and batch sizes.").
		WithRow(row("gRPC client")).
		WithPanel(series("gRPC client latency by method", "s",
			"Unary calls as the caller sees them, network included. Exemplars open the call's trace.",
			quantiles("kradius_grpc_client_duration_seconds", `instance=~"$instance"`, "method", true)...)).
		WithPanel(series("gRPC client non-OK/s by method and code", "reqps",
			"NotFound and Unauthenticated are answers (unknown account, wrong password), ResourceExhausted is load shed; other codes are failures.",
			target(`sum by (method, code) (rate(kradius_grpc_client_requests_total{instance=~"$instance", code!="OK"}[$__rate_interval]))`,
				"{{method}} {{code}}"))).
		WithPanel(series("gRPC client failure ratio by method", "percentunit",
			"Calls failed with a code other than OK, NotFound, Unauthenticated and ResourceExhausted, over all calls: what KradiusBackendErrors alerts on (1%).",
			target(`sum by (method) (rate(kradius_grpc_client_requests_total{instance=~"$instance", `+backendFailureCodes+`}[$__rate_interval]))
  / sum by (method) (rate(kradius_grpc_client_requests_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{method}}"))).
		WithPanel(series("gRPC client calls/s by method", "reqps",
			"Calls of every code.",
			target(`sum by (method) (rate(kradius_grpc_client_requests_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{method}}"))).
		WithRow(row("gRPC server")).
		WithPanel(series("gRPC server latency by method", "s",
			"Unary calls as the server handles them: the gap to the client's is the network and queueing.",
			quantiles("kradius_grpc_server_duration_seconds", `instance=~"$instance"`, "method", true)...)).
		WithPanel(series("gRPC server non-OK/s by method and code", "reqps",
			"Calls answered, and streams ended, with a code other than OK.",
			target(`sum by (method, code) (rate(kradius_grpc_server_requests_total{instance=~"$instance", code!="OK"}[$__rate_interval]))`,
				"{{method}} {{code}}"))).
		WithRow(row("Redis")).
		WithPanel(series("Redis command latency by command", "s",
			"From sending a command (or a pipeline) to its reply.",
			quantiles("kradius_redis_command_duration_seconds", `instance=~"$instance"`, "command", true)...)).
		WithPanel(series("Redis errors/s by command", "reqps",
			"Reply errors, timeouts and lost connections; a nil reply is no error.",
			target(`sum by (command) (rate(kradius_redis_commands_total{instance=~"$instance", result="error"}[$__rate_interval]))`,
				"{{command}}"))).
		WithPanel(series("Redis pool connections by state", "short",
			"Connections in the clients' pools, summed over the pods.",
			target(`sum by (state) (kradius_redis_pool_connections{instance=~"$instance"})`, "{{state}}"))).
		WithPanel(series("Redis pool acquires/s by result", "reqps",
			"hit: an idle connection; miss: a new one dialled; timeout: none in time, and the command failed.",
			target(`sum by (result) (rate(kradius_redis_pool_acquires_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{result}}"))).
		WithRow(row("Caches")).
		WithPanel(series("Edge cache hit ratio by kind", "percentunit",
			"Lookups answered from the edge's cache of the store, over all lookups.",
			target(`sum by (kind) (rate(kradius_edge_cache_lookups_total{instance=~"$instance", result="hit"}[$__rate_interval]))
  / sum by (kind) (rate(kradius_edge_cache_lookups_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{kind}}")).Max(1)).
		WithPanel(series("Records cache hit ratio by kind", "percentunit",
			"Lookups answered from the edge's records cache, over all lookups.",
			target(`sum by (kind) (rate(kradius_edge_records_cache_lookups_total{instance=~"$instance", result="hit"}[$__rate_interval]))
  / sum by (kind) (rate(kradius_edge_records_cache_lookups_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{kind}}")).Max(1)).
		WithPanel(series("Edge cache live per pod", "short",
			"1 while the pod's change watch is live and its cache serves; 0 sends every lookup to the backend.",
			target(`min by (instance) (kradius_edge_cache_live{instance=~"$instance"})`, "{{instance}}")).Max(1)).
		WithPanel(series("Edge cache watch ends/s per pod", "short",
			"Change watches that ended and had to be started again.",
			target(`sum by (instance) (rate(kradius_edge_cache_watch_ends_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{instance}}"))).
		WithRow(row("Batching")).
		WithPanel(series("CDR consumer batch size", "short",
			"Records per batch the cdr consumer applies at once: near 1 means it keeps up record by record, large means it is catching up.",
			append(quantiles("kradius_cdr_batch_records", `instance=~"$instance"`, "", false),
				target(`sum(rate(kradius_cdr_batch_records_sum{instance=~"$instance"}[$__rate_interval]))
  / sum(rate(kradius_cdr_batch_records_count{instance=~"$instance"}[$__rate_interval]))`, "mean"))...))
}
