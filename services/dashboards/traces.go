//lint:file-ignore SA1019 the v1 dashboard model is what Grafana's file provisioning and import take; v2 needs Grafana 12's new-layouts feature.

package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// edgeService is the service name the edge's spans carry.
const edgeService = "kradius-edge"

// traces goes from latency to the requests behind it: the exemplars on the
// latency panels are sampled requests' trace ids, which the Prometheus
// datasource links to the Jaeger one (README.md, "Exemplars"), and the
// tables list the edge's traces straight from Jaeger.
func traces() *dashboard.DashboardBuilder {
	return newBoard("kradius / Traces",
		"Edge request latency with exemplars that open the request's trace in Jaeger, and the edge's recent and slow traces.").
		WithRow(row("Latency")).
		WithPanel(heatmap.NewPanelBuilder().
			Title("Edge request latency").
			Description("Requests per latency bucket. The dots are exemplars, sampled requests: click one to open its trace.").
			Datasource(promDS).
			Span(24).
			Height(10).
			Calculate(false).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
			Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
			WithTarget(target(`sum by (le) (rate(kradius_edge_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval]))`, "{{le}}").
				Format(prometheus.PromQueryFormatHeatmap).
				Exemplar(true).
				RefId("A"))).
		WithPanel(series("Edge request duration p50/p99", "s",
			"The quantiles of the heatmap, by listener, with the same exemplars.",
			quantiles("kradius_edge_request_duration_seconds", `instance=~"$instance"`, "listener", true)...).
			Span(24)).
		WithRow(row("Traces")).
		WithPanel(traceTable("Recent "+edgeService+" traces",
			"The edge's latest traces in Jaeger; a trace id opens the trace.",
			newJaegerSearch("A", edgeService))).
		WithPanel(traceTable("Slow "+edgeService+" traces (≥ 500ms)",
			"The edge's traces at or above KradiusRequestLatencyHigh's p99 threshold.",
			newJaegerSearch("A", edgeService).MinDuration("500ms")))
}

// traceTable is a table of a Jaeger search's traces.
func traceTable(title, description string, search jaegerSearch) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(jaegerDS).
		Span(12).
		Height(10).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		WithTarget(search)
}
