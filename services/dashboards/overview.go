//lint:file-ignore SA1019 the v1 dashboard model is what Grafana's file provisioning and import take; v2 needs Grafana 12's new-layouts feature.

package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// overview is what a NAS sees of kradius: requests, their latency and the
// ones dropped (a drop is a NAS retrying, then failing over), fleet-wide
// and per edge pod.
func overview() *dashboard.DashboardBuilder {
	return newBoard("kradius / Overview",
		"RADIUS traffic of the edge pods: requests by NAS profile, latency, drops, queueing and retransmits.").
		WithRow(row("Traffic")).
		WithPanel(series("Requests/s by profile and result", "reqps",
			"Requests of known clients, by NAS profile and result (accept, reject, challenge, accounted, dropped).",
			target(`sum by (profile, result) (rate(kradius_edge_requests_total{instance=~"$instance", profile=~"$profile"}[$__rate_interval]))`,
				"{{profile}} {{result}}"))).
		WithPanel(series("Requests/s by request kind", "reqps",
			"The profile's request kind: a FaxBack command, a SIP method, a Dialogic start type; none when the profile did not see it.",
			target(`sum by (profile, kind) (rate(kradius_edge_requests_total{instance=~"$instance", profile=~"$profile"}[$__rate_interval]))`,
				"{{profile}} {{kind}}"))).
		WithPanel(series("Request duration p50/p99", "s",
			"From receiving a request to sending its reply. Exemplars (sampled requests) open their trace.",
			quantiles("kradius_edge_request_duration_seconds", `instance=~"$instance"`, "listener", true)...)).
		WithPanel(series("Drops/s by reason", "reqps",
			"Requests answered with nothing: the NAS retries, then fails over. accounting_unavailable and accounting_log_error mean accounting records are held on the NAS.",
			target(`sum by (listener, reason) (rate(kradius_edge_drops_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{listener}} {{reason}}"))).
		WithPanel(series("Replies/s by code", "reqps",
			"Replies sent, by listener and RADIUS code.",
			target(`sum by (listener, code) (rate(kradius_edge_replies_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{listener}} {{code}}"))).
		WithPanel(series("Retransmits/s", "reqps",
			"Retransmits answered from the reply cache: the NAS gave up waiting before the reply reached it.",
			target(`sum by (listener) (rate(kradius_edge_retransmits_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{listener}}"))).
		WithRow(row("Per edge pod")).
		WithPanel(series("Received/s per pod", "reqps",
			"Datagrams received. A pod at zero while the others are not is what KradiusEdgeNoTraffic alerts on.",
			target(`sum by (instance) (rate(kradius_edge_received_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{instance}}"))).
		WithPanel(series("Request duration p99 per pod", "s",
			"One slow pod hides in the fleet's p99; exemplars open the slow requests' traces.",
			target(`histogram_quantile(0.99, sum by (le, instance) (rate(kradius_edge_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`,
				"{{instance}}").Exemplar(true))).
		WithPanel(series("Queue length per pod", "short",
			"Requests waiting for a worker. A queue that stays up means the pod is short of workers or its backends are slow.",
			target(`max by (instance) (kradius_edge_queue_length{instance=~"$instance"})`, "{{instance}}"))).
		WithPanel(series("Retransmits/s per pod", "reqps",
			"Retransmits answered from the reply cache, per pod.",
			target(`sum by (instance) (rate(kradius_edge_retransmits_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{instance}}"))).
		WithPanel(series("Drops/s per pod", "reqps",
			"Drops of every reason, per pod.",
			target(`sum by (instance) (rate(kradius_edge_drops_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{instance}}"))).
		WithPanel(series("Client reloads by result", "short",
			"Reloads of edge.clients_file; an error keeps the previous clients.",
			target(`sum by (result) (increase(kradius_edge_client_reloads_total{instance=~"$instance"}[$__rate_interval]))`,
				"{{result}}"))).
		WithRow(row("Fleet")).
		WithPanel(versions())
}

// versions is a table of the builds running, to see a rollout through.
func versions() *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title("Versions running").
		Description("Pods per build.").
		Datasource(promDS).
		Span(24).
		Height(6).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		WithTarget(target(`count by (version, revision, goversion, target) (kradius_build_info{instance=~"$instance"})`, "").
			Format(prometheus.PromQueryFormatTable).
			Instant().
			RefId("A"))
}
