//lint:file-ignore SA1019 the v1 dashboard model is what Grafana's file provisioning and import take; v2 needs Grafana 12's new-layouts feature.

// Package dashboards is kradius's Grafana dashboards as code, built with the
// Grafana Foundation SDK (Apache-2.0; Grafana itself is AGPL and is never
// imported). gen writes them as JSON to deploy/dashboards, where Grafana's
// provisioning or the chart picks them up; the test keeps those files, the
// metric names and the datasource variables honest.
package dashboards

//go:generate go run ./gen -out ../../deploy/dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Board is one dashboard and the file gen writes it to.
type Board struct {
	UID       string
	File      string // base name in deploy/dashboards
	Dashboard dashboard.Dashboard
}

// All builds every board, in a fixed order.
func All() ([]Board, error) {
	builders := []struct {
		uid   string
		build func() *dashboard.DashboardBuilder
	}{
		{"kradius-overview", overview},
		{"kradius-backends", backends},
		{"kradius-accounting", accounting},
		{"kradius-traces", traces},
	}
	boards := make([]Board, 0, len(builders))
	for _, b := range builders {
		d, err := b.build().Uid(b.uid).Build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", b.uid, err)
		}
		numberPanels(&d)
		// The SDK puts links in the controls menu, the only placement its
		// schema knows; without one Grafana shows them on the board.
		for i := range d.Links {
			d.Links[i].Placement = nil
		}
		boards = append(boards, Board{UID: b.uid, File: b.uid + ".json", Dashboard: d})
	}
	return boards, nil
}

// numberPanels gives every panel and row an id: the SDK leaves them unset,
// and Grafana would otherwise invent them on import, so that links to a
// panel (viewPanel=N) would change from one import to the next.
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	for _, p := range d.Panels {
		id++
		switch {
		case p.Panel != nil:
			p.Panel.Id = ptr(id)
		case p.RowPanel != nil:
			p.RowPanel.Id = id
			for i := range p.RowPanel.Panels {
				id++
				p.RowPanel.Panels[i].Id = ptr(id)
			}
		}
	}
}

// Marshal is a board's file content: indented JSON, with <, > and & left
// as they are (PromQL is full of them), and a final newline.
func Marshal(b Board) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b.Dashboard); err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", b.UID, err)
	}
	return buf.Bytes(), nil
}

// Query is one Prometheus target of a panel.
type Query struct {
	Panel string // the panel's title
	RefID string
	Expr  string // as on the board, template variables and all: see Expand
	// Exemplar is whether Grafana also asks for the exemplars (trace ids).
	Exemplar bool
}

// Queries lists the Prometheus targets of every panel of b, rows' panels
// included, in board order. The Jaeger targets are not PromQL and are left
// out; so are the template variables' label_values queries.
func Queries(b Board) []Query {
	var qs []Query
	for _, p := range Panels(b) {
		for _, t := range p.Targets {
			var q prometheus.Dataquery
			switch t := t.(type) {
			case prometheus.Dataquery:
				q = t
			case *prometheus.Dataquery:
				q = *t
			default:
				continue
			}
			qs = append(qs, Query{
				Panel: deref(p.Title), RefID: deref(q.RefId), Expr: q.Expr,
				Exemplar: q.Exemplar != nil && *q.Exemplar,
			})
		}
	}
	return qs
}

// Panels are b's panels, the panels of its rows included, rows themselves
// not.
func Panels(b Board) []dashboard.Panel {
	var ps []dashboard.Panel
	for _, p := range b.Dashboard.Panels {
		switch {
		case p.Panel != nil:
			ps = append(ps, *p.Panel)
		case p.RowPanel != nil:
			ps = append(ps, p.RowPanel.Panels...)
		}
	}
	return ps
}

// builtins are the values Expand gives Grafana's own variables: one minute
// for the intervals suits a scrape interval up to 15s ($__rate_interval must
// cover four scrapes), and an hour is the boards' default time range.
var builtins = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "1m",
	"__interval_ms":   "60000",
	"__range":         "1h",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

var variableRef = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z]+)?\}|([A-Za-z_][A-Za-z0-9_]*))`)

// Expand replaces the template variables in a board's expr by values valid
// for an instant query, so that a test can send every expression to a real
// Prometheus. The rules, for $name, ${name} and ${name:format} alike:
//
//   - $__rate_interval, $__interval → 1m; $__interval_ms → 60000;
//   - $__range → 1h; $__range_s → 3600; $__range_ms → 3600000;
//   - the multi-value variables (instance, profile) → .* — the boards use
//     them only in regex matchers (=~), as Grafana's "All" is .* here, and
//     the test holds them to that;
//   - anything else is left as it is, so that a test sees it was missed.
func Expand(expr string) string {
	return variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2]
		if v, ok := builtins[name]; ok {
			return v
		}
		if multiValue[name] {
			return ".*"
		}
		return ref
	})
}

// Datasource variables: every panel queries one of them, never a datasource
// by uid, so that the boards import into any Grafana.
const (
	PrometheusVar = "datasource"
	JaegerVar     = "traces"
)

var (
	promDS   = common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + PrometheusVar + "}")}
	jaegerDS = common.DataSourceRef{Type: ptr("jaeger"), Uid: ptr("${" + JaegerVar + "}")}
)

// multiValue are the query variables that may stand for several values, or
// all: only ever matched with =~.
var multiValue = map[string]bool{"instance": true, "profile": true}

// newBoard is a board with the variables and links every board shares.
func newBoard(title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Description(description).
		Tags([]string{"kradius"}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-1h", "now").
		Refresh("30s").
		Timezone(common.TimeZoneBrowser).
		// Variables carry over, so that a pod chosen on one board stays
		// chosen on the next.
		Link(dashboard.NewDashboardLinkBuilder("kradius").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"kradius"}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder(PrometheusVar).
			Label("Prometheus").
			Type("prometheus")).
		WithVariable(dashboard.NewDatasourceVariableBuilder(JaegerVar).
			Label("Traces").
			Type("jaeger")).
		WithVariable(multiVariable("instance", "Pod", "label_values(kradius_build_info, instance)")).
		WithVariable(multiVariable("profile", "NAS profile", "label_values(kradius_edge_requests_total, profile)"))
}

// multiVariable is a query variable of several values, all by default.
// Its "all" is .* rather than Grafana's list of every value: the list can
// outgrow a URL with many pods, and goes stale as pods come and go.
func multiVariable(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(promDS).
		Query(dashboard.StringOrMap{String: ptr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortNaturalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// target is a Prometheus range query.
func target(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(promDS).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// quantiles are the p50 and p99 of a histogram's buckets in sel, by the
// labels by (none for "") besides le. With exemplars, when the histogram
// carries them: a point above the line opens its trace.
func quantiles(histogram, sel, by string, exemplars bool) []*prometheus.DataqueryBuilder {
	group, legend := "le", ""
	if by != "" {
		group = "le, " + by
		for _, l := range strings.Split(by, ",") {
			legend += " {{" + strings.TrimSpace(l) + "}}"
		}
	}
	var ts []*prometheus.DataqueryBuilder
	for _, q := range []struct{ phi, name string }{{"0.5", "p50"}, {"0.99", "p99"}} {
		expr := fmt.Sprintf(`histogram_quantile(%s, sum by (%s) (rate(%s_bucket{%s}[$__rate_interval])))`, q.phi, group, histogram, sel)
		ts = append(ts, target(expr, q.name+legend).Exemplar(exemplars))
	}
	return ts
}

// series is a time series panel of targets, their refIds A, B, … in order.
func series(title, unit, description string, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(promDS).
		Unit(unit).
		Min(0).
		Span(12).
		Height(8).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
	for i, t := range targets {
		p.WithTarget(t.RefId(refID(i)))
	}
	return p
}

func refID(i int) string { return string(rune('A' + i)) }

// row starts a section: the panels after it, up to the next row, are its.
func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr[T any](v T) *T { return &v }
