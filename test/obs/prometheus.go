package obs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Prometheus is a running Prometheus server.
type Prometheus struct {
	// URL is the server's base URL, http://127.0.0.1:<port>.
	URL string
	// Dir holds prometheus.yml, the TSDB (data/) and prometheus.log.
	Dir string

	targets int
	proc    *process
}

// scrapeProtocols is what Prometheus offers a target, in order: OpenMetrics
// first, as only OpenMetrics carries exemplars. It is Prometheus's default,
// spelled out so that a later default (protobuf first, say) cannot drop the
// exemplars the tests look for.
var scrapeProtocols = []string{"OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"}

// StartPrometheus starts the prometheus in dir (from Assets) with exemplar
// storage on, scraping every second one job per key of targets (job name to
// host:port targets, path /metrics), and returns once it is ready. It is
// stopped when the test ends.
func StartPrometheus(t testing.TB, dir string, targets map[string][]string) *Prometheus {
	t.Helper()
	tmp := t.TempDir()
	cfg, n := prometheusConfig(targets)
	path := filepath.Join(tmp, "prometheus.yml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatalf("obs: %v", err)
	}
	addr := hostPort(freePorts(t, 1)[0])
	p := &Prometheus{URL: "http://" + addr, Dir: tmp, targets: n}
	p.proc = start(t, "prometheus", filepath.Join(tmp, "prometheus.log"),
		filepath.Join(dir, "prometheus"),
		"--config.file="+path,
		"--storage.tsdb.path="+filepath.Join(tmp, "data"),
		"--web.listen-address="+addr,
		"--enable-feature=exemplar-storage",
		// Targets are scraped from the first reload after discovery, 5s
		// after the start by default; tests should not wait on that.
		"--scrape.discovery-reload-interval=100ms",
		"--log.level=debug",
	)
	p.proc.waitFor(t, startLimit, "prometheus ready", func() error {
		return getOK(context.Background(), p.URL+"/-/ready")
	})
	return p
}

// prometheusConfig returns prometheus.yml for targets, and how many targets
// it has. It is JSON, which is YAML, so that encoding/json does the quoting.
func prometheusConfig(targets map[string][]string) ([]byte, int) {
	type job struct {
		JobName       string           `json:"job_name"`
		MetricsPath   string           `json:"metrics_path"`
		StaticConfigs []map[string]any `json:"static_configs"`
	}
	jobs := []job{}
	n := 0
	for _, name := range slices.Sorted(maps.Keys(targets)) {
		jobs = append(jobs, job{
			JobName:       name,
			MetricsPath:   "/metrics",
			StaticConfigs: []map[string]any{{"targets": targets[name]}},
		})
		n += len(targets[name])
	}
	cfg := map[string]any{
		"global": map[string]any{
			"scrape_interval":     "1s",
			"scrape_timeout":      "1s",
			"evaluation_interval": "1s",
			"scrape_protocols":    scrapeProtocols,
		},
		"scrape_configs": jobs,
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return append(b, '\n'), n
}

// QueryResult is the data of an /api/v1/query answer.
type QueryResult struct {
	// Type is vector, matrix, scalar or string.
	Type string
	// Series has one element per series of a vector or matrix, and one
	// with no labels for a scalar. A string result has none.
	Series []Series
}

// Series is one series of a query result.
type Series struct {
	Labels  map[string]string
	Samples []Sample
}

// Sample is one float sample. Native histogram samples are not parsed.
type Sample struct {
	Time  time.Time
	Value float64
}

// Query evaluates the instant query expr at the current time.
func (p *Prometheus) Query(ctx context.Context, expr string) (QueryResult, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return QueryResult{}, err
	}
	r := QueryResult{Type: data.ResultType}
	switch data.ResultType {
	case "vector", "matrix":
		var series []struct {
			Metric map[string]string `json:"metric"`
			Value  *promSample       `json:"value"`
			Values []promSample      `json:"values"`
		}
		if err := json.Unmarshal(data.Result, &series); err != nil {
			return r, fmt.Errorf("prometheus query %q: %w", expr, err)
		}
		for _, s := range series {
			out := Series{Labels: s.Metric}
			if s.Value != nil {
				out.Samples = append(out.Samples, Sample(*s.Value))
			}
			for _, v := range s.Values {
				out.Samples = append(out.Samples, Sample(v))
			}
			r.Series = append(r.Series, out)
		}
	case "scalar":
		var s promSample
		if err := json.Unmarshal(data.Result, &s); err != nil {
			return r, fmt.Errorf("prometheus query %q: %w", expr, err)
		}
		r.Series = []Series{{Samples: []Sample{Sample(s)}}}
	}
	return r, nil
}

// WaitForQuery polls the instant query expr until ok holds for its result
// (with ok nil: until it has a series), failing t if it does not within
// limit, and returns that result.
func (p *Prometheus) WaitForQuery(t testing.TB, limit time.Duration, expr string, ok func(QueryResult) bool) QueryResult {
	t.Helper()
	if ok == nil {
		ok = func(r QueryResult) bool { return len(r.Series) > 0 }
	}
	var r QueryResult
	p.proc.waitFor(t, limit, "prometheus query "+expr, func() error {
		var err error
		if r, err = p.Query(context.Background(), expr); err != nil {
			return err
		}
		if !ok(r) {
			return fmt.Errorf("result not as wanted yet: %+v", r)
		}
		return nil
	})
	return r
}

// Target is one active scrape target.
type Target struct {
	Job       string
	ScrapeURL string
	// Health is up, down or unknown (not scraped yet).
	Health    string
	LastError string
	Labels    map[string]string
}

// Targets returns the active targets from /api/v1/targets.
func (p *Prometheus) Targets(ctx context.Context) ([]Target, error) {
	var data struct {
		ActiveTargets []struct {
			ScrapePool string            `json:"scrapePool"`
			ScrapeURL  string            `json:"scrapeUrl"`
			Health     string            `json:"health"`
			LastError  string            `json:"lastError"`
			Labels     map[string]string `json:"labels"`
		} `json:"activeTargets"`
	}
	if err := p.get(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		return nil, err
	}
	var targets []Target
	for _, a := range data.ActiveTargets {
		targets = append(targets, Target{Job: a.ScrapePool, ScrapeURL: a.ScrapeURL, Health: a.Health, LastError: a.LastError, Labels: a.Labels})
	}
	return targets, nil
}

// WaitForTargetsUp waits until every configured target has been scraped
// successfully, failing t with the ones that are not up if that does not
// happen within limit.
func (p *Prometheus) WaitForTargetsUp(t testing.TB, limit time.Duration) {
	t.Helper()
	p.proc.waitFor(t, limit, "prometheus targets up", func() error {
		targets, err := p.Targets(context.Background())
		if err != nil {
			return err
		}
		// Discovery runs after readiness: at first some are missing.
		if len(targets) != p.targets {
			return fmt.Errorf("%d active targets of %d configured", len(targets), p.targets)
		}
		var down []string
		for _, tg := range targets {
			if tg.Health != "up" {
				down = append(down, fmt.Sprintf("%s %s: %s %s", tg.Job, tg.ScrapeURL, tg.Health, tg.LastError))
			}
		}
		if len(down) > 0 {
			return fmt.Errorf("not up: %s", strings.Join(down, "; "))
		}
		return nil
	})
}

// ExemplarSeries is a series' exemplars from /api/v1/query_exemplars.
type ExemplarSeries struct {
	Labels    map[string]string
	Exemplars []Exemplar
}

// Exemplar is one exemplar: its labels (trace_id, span_id, ...), the
// observed value and when it was observed.
type Exemplar struct {
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// QueryExemplars returns the exemplars of the series that the selectors in
// expr select, stored between start and end.
func (p *Prometheus) QueryExemplars(ctx context.Context, expr string, start, end time.Time) ([]ExemplarSeries, error) {
	var data []struct {
		SeriesLabels map[string]string `json:"seriesLabels"`
		Exemplars    []struct {
			Labels    map[string]string `json:"labels"`
			Value     string            `json:"value"`
			Timestamp float64           `json:"timestamp"`
		} `json:"exemplars"`
	}
	q := url.Values{"query": {expr}, "start": {promTime(start)}, "end": {promTime(end)}}
	if err := p.get(ctx, "/api/v1/query_exemplars", q, &data); err != nil {
		return nil, err
	}
	var out []ExemplarSeries
	for _, s := range data {
		es := ExemplarSeries{Labels: s.SeriesLabels}
		for _, e := range s.Exemplars {
			v, err := strconv.ParseFloat(e.Value, 64)
			if err != nil {
				return nil, fmt.Errorf("prometheus exemplar value %q: %w", e.Value, err)
			}
			es.Exemplars = append(es.Exemplars, Exemplar{Labels: e.Labels, Value: v, Time: floatTime(e.Timestamp)})
		}
		out = append(out, es)
	}
	return out, nil
}

// Exemplars returns the distinct trace_id labels of the exemplars that
// QueryExemplars finds, in the order found.
func (p *Prometheus) Exemplars(ctx context.Context, expr string, start, end time.Time) ([]string, error) {
	series, err := p.QueryExemplars(ctx, expr, start, end)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range series {
		for _, e := range s.Exemplars {
			if id := e.Labels["trace_id"]; id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// Series returns the label sets of the series that the selector match
// selects, over all the data the server has.
func (p *Prometheus) Series(ctx context.Context, match string) ([]map[string]string, error) {
	var data []map[string]string
	if err := p.get(ctx, "/api/v1/series", url.Values{"match[]": {match}}, &data); err != nil {
		return nil, err
	}
	return data, nil
}

// get calls the API at path and decodes the data of a success into data.
func (p *Prometheus) get(ctx context.Context, path string, q url.Values, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("prometheus %s: %w", path, err)
	}
	// Errors have a JSON body too, with a 4xx or 5xx status.
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("prometheus %s: %s: %.200q", path, resp.Status, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("prometheus %s: %s: %s: %s", path, resp.Status, env.ErrorType, env.Error)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return fmt.Errorf("prometheus %s: %w", path, err)
	}
	return nil
}

// promSample is a sample as the API writes it: [<unix seconds>, "<value>"].
type promSample Sample

func (s *promSample) UnmarshalJSON(b []byte) error {
	var pair [2]json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	var ts float64
	var v string
	if err := json.Unmarshal(pair[0], &ts); err != nil {
		return err
	}
	if err := json.Unmarshal(pair[1], &v); err != nil {
		return err
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return err
	}
	*s = promSample{Time: floatTime(ts), Value: f}
	return nil
}

func floatTime(sec float64) time.Time {
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e3))*1e6)
}

func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', 3, 64)
}

// getOK is nil when url answers 200.
func getOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
