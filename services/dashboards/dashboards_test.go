package dashboards

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

type metricKind int

const (
	counter metricKind = iota
	gauge
	histogram
)

// exported are the metrics kradius exports, the only ones a board may
// query: a renamed metric must fail here, not leave an empty panel.
var exported = map[string]metricKind{
	"kradius_build_info":                           gauge,
	"kradius_edge_received_total":                  counter,
	"kradius_edge_replies_total":                   counter,
	"kradius_edge_drops_total":                     counter,
	"kradius_edge_retransmits_total":               counter,
	"kradius_edge_request_duration_seconds":        histogram,
	"kradius_edge_requests_total":                  counter,
	"kradius_edge_queue_length":                    gauge,
	"kradius_edge_accounting_appends_total":        counter,
	"kradius_edge_accounting_append_seconds":       histogram,
	"kradius_edge_client_reloads_total":            counter,
	"kradius_edge_cache_lookups_total":             counter,
	"kradius_edge_cache_live":                      gauge,
	"kradius_edge_cache_watch_ends_total":          counter,
	"kradius_edge_records_cache_lookups_total":     counter,
	"kradius_grpc_client_requests_total":           counter,
	"kradius_grpc_client_duration_seconds":         histogram,
	"kradius_grpc_server_requests_total":           counter,
	"kradius_grpc_server_duration_seconds":         histogram,
	"kradius_redis_commands_total":                 counter,
	"kradius_redis_command_duration_seconds":       histogram,
	"kradius_redis_pool_connections":               gauge,
	"kradius_redis_pool_acquires_total":            counter,
	"kradius_cdr_records_total":                    counter,
	"kradius_cdr_effects_total":                    counter,
	"kradius_cdr_transactions_total":               counter,
	"kradius_cdr_lag_records":                      gauge,
	"kradius_cdr_batch_records":                    histogram,
	"kradius_journal_commit_seconds":               histogram,
	"kradius_journal_commit_records":               histogram,
	"kradius_journal_forced_deleted_records_total": counter,
	"kradius_faxback_requests_total":               counter,
	"kradius_firebrick_requests_total":             counter,
	"kradius_dialogic_requests_total":              counter,
	"kradius_dialogic_starts_total":                counter,
	"kradius_dialogic_settlement_unknown_total":    counter,
	"kradius_generic_requests_total":               counter,
}

var metricName = regexp.MustCompile(`kradius_[a-z0-9_]+`)

// checkMetric says what is wrong with name as a series to query: unknown,
// a histogram without its suffix, or a suffix on a metric that is none.
func checkMetric(name string) string {
	if kind, ok := exported[name]; ok {
		if kind == histogram {
			return "is a histogram: query its _bucket, _sum or _count"
		}
		return ""
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if kind, known := exported[base]; known && kind == histogram {
				return ""
			}
		}
	}
	return "is not a metric kradius exports"
}

func boards(t *testing.T) []Board {
	t.Helper()
	bs, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) == 0 {
		t.Fatal("no boards")
	}
	return bs
}

func TestMetricNames(t *testing.T) {
	for _, b := range boards(t) {
		qs := Queries(b)
		if len(qs) == 0 {
			t.Errorf("%s: no Prometheus queries", b.UID)
		}
		for _, q := range qs {
			names := metricName.FindAllString(q.Expr, -1)
			if len(names) == 0 {
				t.Errorf("%s %q %s: no kradius metric in %s", b.UID, q.Panel, q.RefID, q.Expr)
			}
			for _, n := range names {
				if problem := checkMetric(n); problem != "" {
					t.Errorf("%s %q %s: %s %s", b.UID, q.Panel, q.RefID, n, problem)
				}
			}
		}
		for _, v := range b.Dashboard.Templating.List {
			if v.Query == nil || v.Query.String == nil || v.Type != "query" {
				continue
			}
			for _, n := range metricName.FindAllString(*v.Query.String, -1) {
				if problem := checkMetric(n); problem != "" {
					t.Errorf("%s variable %s: %s %s", b.UID, v.Name, n, problem)
				}
			}
		}
	}
}

func TestCheckMetric(t *testing.T) {
	for name, ok := range map[string]bool{
		"kradius_edge_drops_total":                     true,
		"kradius_edge_request_duration_seconds_bucket": true,
		"kradius_cdr_batch_records_count":              true,
		"kradius_edge_request_duration_seconds":        false, // a histogram, bare
		"kradius_edge_drops_total_bucket":              false, // a counter
		"kradius_edge_dropped_total":                   false,
	} {
		if got := checkMetric(name) == ""; got != ok {
			t.Errorf("checkMetric(%s) passes: %v, want %v", name, got, ok)
		}
	}
}

// A variable of several values goes into a regex matcher: with = a choice
// of two pods, or All (.*), matches nothing.
var multiValueRef = regexp.MustCompile(`\$\{?(instance|profile)\b`)

func TestMultiValueVariablesInRegexMatchers(t *testing.T) {
	for _, b := range boards(t) {
		for _, q := range Queries(b) {
			for _, at := range multiValueRef.FindAllStringIndex(q.Expr, -1) {
				if !strings.HasSuffix(q.Expr[:at[0]], `=~"`) {
					t.Errorf("%s %q %s: %s outside a =~ matcher: %s", b.UID, q.Panel, q.RefID, q.Expr[at[0]:at[1]], q.Expr)
				}
			}
		}
	}
}

func TestExpand(t *testing.T) {
	for in, want := range map[string]string{
		`rate(x{instance=~"$instance"}[$__rate_interval])`:           `rate(x{instance=~".*"}[1m])`,
		`rate(x{profile=~"${profile:regex}"}[${__interval}])`:        `rate(x{profile=~".*"}[1m])`,
		`increase(x[$__range]) / $__range_s`:                         `increase(x[1h]) / 3600`,
		`x > $__interval_ms and x < $__range_ms`:                     `x > 60000 and x < 3600000`,
		`x{instance=~"${instance}", other="$unknown"}`:               `x{instance=~".*", other="$unknown"}`,
		`histogram_quantile(0.99, sum by (le) (rate(y_bucket[5m])))`: `histogram_quantile(0.99, sum by (le) (rate(y_bucket[5m])))`,
	} {
		if got := Expand(in); got != want {
			t.Errorf("Expand(%s) = %s, want %s", in, got, want)
		}
	}
	for _, b := range boards(t) {
		for _, q := range Queries(b) {
			if got := Expand(q.Expr); strings.Contains(got, "$") {
				t.Errorf("%s %q %s: a variable Expand does not know: %s", b.UID, q.Panel, q.RefID, got)
			}
		}
	}
}

func TestUIDsAndFiles(t *testing.T) {
	uids, files := map[string]bool{}, map[string]bool{}
	for _, b := range boards(t) {
		if b.UID == "" || uids[b.UID] {
			t.Errorf("UID %q empty or repeated", b.UID)
		}
		if b.Dashboard.Uid == nil || *b.Dashboard.Uid != b.UID {
			t.Errorf("%s: the dashboard's uid is %v", b.UID, b.Dashboard.Uid)
		}
		// Grafana caps a uid at 40 characters.
		if len(b.UID) > 40 {
			t.Errorf("%s: uid longer than 40 characters", b.UID)
		}
		if files[b.File] || filepath.Base(b.File) != b.File || filepath.Ext(b.File) != ".json" {
			t.Errorf("%s: file %q repeated, or no base name of a .json", b.UID, b.File)
		}
		uids[b.UID], files[b.File] = true, true
	}
	for _, uid := range []string{"kradius-overview", "kradius-backends", "kradius-accounting", "kradius-traces"} {
		if !uids[uid] {
			t.Errorf("no board %s", uid)
		}
	}
}

func TestPanelsUseDatasourceVariables(t *testing.T) {
	for _, b := range boards(t) {
		ids := map[uint32]bool{}
		for _, p := range Panels(b) {
			title := deref(p.Title)
			if p.Id == nil || ids[*p.Id] {
				t.Errorf("%s %q: id missing or repeated", b.UID, title)
			} else {
				ids[*p.Id] = true
			}
			if !isVariable(p.Datasource) {
				t.Errorf("%s %q: datasource %v is no datasource variable", b.UID, title, dsString(p.Datasource))
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s %q: no targets", b.UID, title)
			}
			for _, target := range p.Targets {
				var ds *common.DataSourceRef
				switch q := target.(type) {
				case prometheus.Dataquery:
					ds = q.Datasource
				case JaegerQuery:
					ds = q.Datasource
				default:
					t.Errorf("%s %q: a target of type %T", b.UID, title, target)
					continue
				}
				if dsString(ds) != dsString(p.Datasource) {
					t.Errorf("%s %q: target datasource %s, panel's %s", b.UID, title, dsString(ds), dsString(p.Datasource))
				}
			}
		}
	}
}

func isVariable(ds *common.DataSourceRef) bool {
	return dsString(ds) == dsString(&promDS) || dsString(ds) == dsString(&jaegerDS)
}

func dsString(ds *common.DataSourceRef) string {
	if ds == nil || ds.Uid == nil || ds.Type == nil {
		return "unset"
	}
	return *ds.Type + ":" + *ds.Uid
}

func TestVariables(t *testing.T) {
	for _, b := range boards(t) {
		var names []string
		for _, v := range b.Dashboard.Templating.List {
			names = append(names, v.Name)
			if multiValue[v.Name] && (v.Multi == nil || !*v.Multi || v.AllValue == nil || *v.AllValue != ".*") {
				t.Errorf("%s: variable %s is not multi-value with .* for all", b.UID, v.Name)
			}
		}
		for _, want := range []string{PrometheusVar, JaegerVar, "instance", "profile"} {
			if !slices.Contains(names, want) {
				t.Errorf("%s: no variable %s", b.UID, want)
			}
		}
	}
}

// Latency is where a slow request's trace is wanted.
func TestLatencyPanelsAskForExemplars(t *testing.T) {
	for _, b := range boards(t) {
		for _, q := range Queries(b) {
			if strings.Contains(q.Expr, "_seconds_bucket") && !q.Exemplar {
				t.Errorf("%s %q %s: a latency query without exemplars", b.UID, q.Panel, q.RefID)
			}
		}
	}
}

func TestTracesBoard(t *testing.T) {
	var traces *Board
	for _, b := range boards(t) {
		if b.UID == "kradius-traces" {
			traces = &b
		}
	}
	if traces == nil {
		t.Fatal("no traces board")
	}
	var jaeger, heatmap bool
	for _, p := range Panels(*traces) {
		for _, target := range p.Targets {
			switch q := target.(type) {
			case JaegerQuery:
				jaeger = jaeger || (q.Service == edgeService && q.QueryType == "search")
			case prometheus.Dataquery:
				heatmap = heatmap || (p.Type == "heatmap" && q.Exemplar != nil && *q.Exemplar &&
					strings.Contains(q.Expr, "kradius_edge_request_duration_seconds_bucket"))
			}
		}
	}
	if !jaeger {
		t.Errorf("no Jaeger search of %s", edgeService)
	}
	if !heatmap {
		t.Error("no heatmap of the edge's request latency with exemplars")
	}
}

// The JSON in deploy/dashboards is what the boards build: edit the Go,
// then go generate.
func TestGeneratedFilesUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy", "dashboards")
	want := map[string]bool{}
	for _, b := range boards(t) {
		want[b.File] = true
		built, err := Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(built, again) {
			t.Errorf("%s: Marshal is not deterministic", b.UID)
		}
		if !bytes.HasSuffix(built, []byte("}\n")) {
			t.Errorf("%s: no final newline", b.UID)
		}
		disk, err := os.ReadFile(filepath.Join(dir, b.File))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./dashboards/ in services)", b.UID, err)
			continue
		}
		if !bytes.Equal(disk, built) {
			t.Errorf("%s is stale: run go generate ./dashboards/ in services", filepath.Join(dir, b.File))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" && !want[e.Name()] {
			t.Errorf("%s is no board's: run go generate ./dashboards/ in services", e.Name())
		}
	}
}
