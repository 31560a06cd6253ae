package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"kradius.dev/services/dashboards"
	"kradius.dev/services/eventually"
	"kradius.dev/test/obs"
)

// obsWait bounds each wait of the observability test on Prometheus and
// Jaeger: a scrape a second, and spans exported every two seconds, make
// every wait seconds long on any machine; this only bounds a hang.
const obsWait = 2 * time.Minute

// TestObservability runs kradius in both shapes with tracing on, under a
// short load, beside a real Prometheus and a real Jaeger: every dashboard
// query and alert rule must evaluate over kradius's own series, exemplars
// must name traces, and the traces must go from the edge through gRPC and
// Redis, and from the edge to the cdr consumer's batch.
func TestObservability(t *testing.T) {
	assets := obs.Assets(t)
	jaeger := obs.StartJaeger(t, assets)
	traced := func(protocol, endpoint string) []string {
		return []string{"-tracing.enabled", "-tracing.protocol", protocol, "-tracing.endpoint", endpoint, "-tracing.sampling-ratio", "1"}
	}
	// Distributed, on Kafka, exporting OTLP/gRPC; all, on the journal,
	// OTLP/HTTP.
	k := startKafkaCluster(t, traced("grpc", jaeger.OTLPGRPC)...)
	all := start(t, traced("http", jaeger.OTLPHTTP)...)
	prom := obs.StartPrometheus(t, assets, map[string][]string{
		"kradius-all":         {all.ops},
		"kradius-distributed": {k.edge.ops, k.accounts.ops, k.dids.ops, k.cdr.ops},
	})
	prom.WaitForTargetsUp(t, obsWait)

	// A short load of every kind, in both shapes.
	for _, edge := range []*server{all, k.edge} {
		for _, attrs := range []string{
			`User-Name = "account", User-Password = "password", ` + login,
			`User-Name = "account", User-Password = "wrong", ` + login,
			// An unknown account: the backends' NotFound, for the error
			// panels.
			`User-Name = "nobody", User-Password = "password", ` + login,
			`User-Name = "dialup", User-Password = "dial-in"` + fromGenericNAS,
			sipDigest("office1", "REGISTER", "s3cret") + fromFireBrick,
			sipDigest("office1", "INVITE", "s3cret") + `, Called-Station-Id = "201"` + fromFireBrick,
		} {
			radclient(t, edge.auth, "testing123", attrs)
		}
		for i := range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
			err := nasStop(ctx, edge.addr("acct"), fmt.Sprintf("obs-%s-%d", edge.ops, i), "5551230000", "Success")
			cancel()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// Settlement records, from a Dialogic IMG (the demo's, in all).
	stop := imgStop("obs-settle", "10.0.0.1", "O", `, Dialogic-trunk-grp-in = "7", Dialogic-voip-dst-sig-ip-in = "10.0.0.2"`)
	if out := dialogicRadclient(t, "acct", all.addr("acct"), stop); !strings.Contains(out, "Received Accounting-Response") {
		t.Fatalf("Dialogic Stop: %s", out)
	}
	all.waitMetric(`kradius_cdr_effects_total{effect="settlement",result="applied"}`, 1)

	t.Run("dashboards", func(t *testing.T) {
		boards, err := dashboards.All()
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range boards {
			for _, q := range dashboards.Queries(b) {
				expr := dashboards.Expand(q.Expr)
				checkSelectors(t, prom, b.UID+" / "+q.Panel, expr)
				prom.WaitForQuery(t, obsWait, expr, nil)
			}
		}
	})

	t.Run("alert rules", func(t *testing.T) {
		for _, r := range alertRules(t) {
			// A rule that does not fire returns nothing; its series must
			// exist, and the whole expression must evaluate.
			checkSelectors(t, prom, r.Alert, r.Expr)
			if _, err := prom.Query(context.Background(), r.Expr); err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
			}
		}
	})

	t.Run("exemplars", func(t *testing.T) {
		var ids []string
		eventually.Within(t, obsWait, "an exemplar on the edge's latency", func() bool {
			var err error
			ids, err = prom.Exemplars(context.Background(), `kradius_edge_request_duration_seconds_bucket`, time.Now().Add(-time.Hour), time.Now())
			return err == nil && len(ids) > 0
		})
		// An exemplar's trace is in Jaeger, once its spans are exported.
		eventually.Within(t, obsWait, "the exemplar's trace "+ids[0]+" in Jaeger", func() bool {
			tr, err := jaeger.Trace(context.Background(), ids[0])
			return err == nil && len(tr.Spans) > 0
		})
	})

	t.Run("edge to accounts to redis", func(t *testing.T) {
		jaeger.WaitForTraces(t, obsWait, "kradius-accounts", 200, func(trs []obs.Trace) bool {
			for _, tr := range trs {
				if spansTo(tr, "kradius-edge", "kradius-accounts") {
					return true
				}
			}
			return false
		})
	})

	for _, shape := range []struct{ edge, consumer string }{{"kradius-edge", "kradius-cdr"}, {"kradius-all", "kradius-all"}} {
		t.Run("consumer links "+shape.consumer, func(t *testing.T) {
			jaeger.WaitForTraces(t, obsWait, shape.consumer, 500, func(trs []obs.Trace) bool {
				for _, tr := range trs {
					for _, s := range tr.Spans {
						if s.OperationName != "cdr batch" || s.ServiceName != shape.consumer {
							continue
						}
						for _, l := range s.Links() {
							if linksTo(jaeger, l, shape.edge) {
								return true
							}
						}
					}
				}
				return false
			})
		})
	}
}

// spansTo says whether tr is a request's trace that went from edge's
// RADIUS span through a gRPC call to service and on to Redis there.
func spansTo(tr obs.Trace, edge, service string) bool {
	byID := map[string]obs.Span{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
	}
	for _, s := range tr.Spans {
		if s.ServiceName != service || s.Tags["db.system.name"] != "redis" && s.Tags["db.system"] != "redis" {
			continue
		}
		// Up from the Redis span: a server span in service, then the
		// edge's, up to its RADIUS span.
		seenServer := false
		for p, ok := byID[s.ParentSpanID()]; ok; p, ok = byID[p.ParentSpanID()] {
			if p.ServiceName == service && p.Tags["span.kind"] == "server" {
				seenServer = true
			}
			if seenServer && p.ServiceName == edge && strings.HasPrefix(p.OperationName, "radius ") {
				return true
			}
		}
	}
	return false
}

// linksTo says whether l names a RADIUS accounting span of service.
func linksTo(j *obs.Jaeger, l obs.Reference, service string) bool {
	tr, err := j.Trace(context.Background(), l.TraceID)
	if err != nil {
		return false
	}
	i := slices.IndexFunc(tr.Spans, func(s obs.Span) bool { return s.SpanID == l.SpanID })
	return i >= 0 && tr.Spans[i].ServiceName == service && tr.Spans[i].OperationName == "radius Accounting-Request"
}

var metricRef = regexp.MustCompile(`\b(kradius_[a-z0-9_]+)`)

// checkSelectors fails t for each kradius metric expr names that
// Prometheus has no series of: a board or rule naming a metric kradius
// does not export.
func checkSelectors(t *testing.T, prom *obs.Prometheus, what, expr string) {
	t.Helper()
	for _, m := range metricRef.FindAllStringSubmatch(expr, -1) {
		prom.WaitForQuery(t, obsWait, "group("+m[1]+")", nil)
	}
	if len(metricRef.FindAllString(expr, -1)) == 0 {
		t.Errorf("%s: %q names no kradius metric", what, expr)
	}
}

type alertRule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

func alertRules(t *testing.T) []alertRule {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/alerts/kradius.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var rules []alertRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatal("no alert rules")
	}
	return rules
}
