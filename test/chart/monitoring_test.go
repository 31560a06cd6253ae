package chart

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// sourceRules are the groups of deploy/alerts/kradius.rules.yaml.
func sourceRules(t *testing.T) []any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "alerts", "kradius.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc["groups"].([]any)
}

func findObject(t *testing.T, objs []object, kind, name string) object {
	t.Helper()
	for _, o := range objs {
		if str(o, "kind") == kind && (name == "" || str(o, "metadata", "name") == name) {
			return o
		}
	}
	t.Fatalf("no %s %q rendered", kind, name)
	return nil
}

// TestPrometheusRuleIsTheRulesFile: without prometheusRule.alerts the
// PrometheusRule's groups are the rules file's, unchanged.
func TestPrometheusRuleIsTheRulesFile(t *testing.T) {
	t.Parallel()
	objs := renderScenario(t, scenario{"direct-sentinel-tls-sasl", ciValues("direct-sentinel-tls-sasl")})
	got := list(findObject(t, objs, "PrometheusRule", ""), "spec", "groups")
	if want := sourceRules(t); !reflect.DeepEqual(normalize(t, got), normalize(t, want)) {
		t.Errorf("the PrometheusRule's groups are not deploy/alerts/kradius.rules.yaml's:\ngot  %v\nwant %v", got, want)
	}
}

// TestPrometheusRuleAlerts: prometheusRule.alerts changes what it names
// and nothing else; Name/backend picks one of the two KradiusBackendErrors.
func TestPrometheusRuleAlerts(t *testing.T) {
	t.Parallel()
	objs := renderScenario(t, scenario{"operator-with-cluster", ciValues("operator-with-cluster")})
	rules := map[string]any{}
	for _, g := range list(findObject(t, objs, "PrometheusRule", ""), "spec", "groups") {
		for _, r := range list(g, "rules") {
			key := str(r, "alert")
			if b := str(r, "labels", "backend"); b != "" {
				key += "/" + b
			}
			rules[key] = r
		}
	}
	if _, ok := rules["KradiusEdgeNoTraffic"]; ok {
		t.Error("KradiusEdgeNoTraffic is rendered, though disabled")
	}
	for _, c := range []struct{ alert, path, want string }{
		{"KradiusDropsHigh", "for", "10m"},
		{"KradiusDropsHigh", "expr", "sum by (job, reason) (rate(kradius_edge_drops_total[5m])) > 5"},
		{"KradiusBackendErrors/redis", "labels.severity", "critical"},
		{"KradiusBackendErrors/grpc", "labels.severity", "warning"},
		{"KradiusAccountingLogUnavailable", "labels.severity", "critical"},
		{"KradiusConsumerLagGrowing", "labels.team", "voice"},
		{"KradiusConsumerLagGrowing", "annotations.runbook_url", "https://github.com/kradius/kradius/blob/main/docs/operations.md#kradiusconsumerlaggrowing"},
	} {
		r, ok := rules[c.alert]
		if !ok {
			t.Errorf("%s is not rendered", c.alert)
			continue
		}
		if got := str(r, strings.Split(c.path, ".")...); got != c.want {
			t.Errorf("%s %s is %q, want %q", c.alert, c.path, got, c.want)
		}
	}
}

// TestDashboards: one ConfigMap per board, labelled for Grafana's sidecar,
// holding the board's JSON as deploy/dashboards has it.
func TestDashboards(t *testing.T) {
	t.Parallel()
	boards := files(t, "deploy/dashboards", "*.json")
	objs := renderScenario(t, scenario{"operator-with-cluster", ciValues("operator-with-cluster")})
	seen := 0
	for _, o := range objs {
		if str(o, "kind") != "ConfigMap" || str(o, "metadata", "labels", "grafana_dashboard") == "" {
			continue
		}
		seen++
		if got := str(o, "metadata", "labels", "grafana_dashboard"); got != "1" {
			t.Errorf("%s: grafana_dashboard is %q, want \"1\"", o.id(), got)
		}
		data, _ := get(o, "data").(map[string]any)
		for name, v := range data {
			want, ok := boards[name]
			if !ok {
				t.Errorf("%s holds %s, no board of deploy/dashboards", o.id(), name)
				continue
			}
			var g, w any
			if err := json.Unmarshal([]byte(v.(string)), &g); err != nil {
				t.Errorf("%s: %s is not JSON: %v", o.id(), name, err)
				continue
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: %s is not deploy/dashboards/%s", o.id(), name, name)
			}
		}
	}
	if seen != len(boards) {
		t.Errorf("%d dashboard ConfigMaps, want one per board of deploy/dashboards (%d)", seen, len(boards))
	}
}

// normalize round-trips through JSON, so that the YAML decoders' number
// and map types compare equal.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
