package obs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Jaeger is a running Jaeger v2 (an OpenTelemetry Collector with Jaeger's
// storage and query extensions) that keeps traces in memory.
type Jaeger struct {
	// OTLPGRPC and OTLPHTTP are the OTLP receiver's URLs,
	// http://127.0.0.1:<port>, as otlptracegrpc.WithEndpointURL and
	// otlptracehttp.WithEndpointURL take them (with WithInsecure) and as
	// kradius's tracing.endpoint takes them.
	OTLPGRPC string
	OTLPHTTP string
	// QueryURL is the query service's base URL, http://127.0.0.1:<port>:
	// the JSON API under /api/. The UI there is a placeholder page, as the
	// module has no UI assets.
	QueryURL string
	// MetricsURL is Jaeger's own Prometheus metrics endpoint.
	MetricsURL string
	// Dir holds jaeger.yaml and jaeger.log.
	Dir string

	proc *process
}

// StartJaeger starts the jaeger in dir (from Assets) and returns once it
// is ready. It is stopped when the test ends.
func StartJaeger(t testing.TB, dir string) *Jaeger {
	t.Helper()
	tmp := t.TempDir()
	ports := freePorts(t, 6)
	otlpGRPC, otlpHTTP, queryHTTP, queryGRPC, health, metrics := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	cfg := map[string]any{
		"service": map[string]any{
			"extensions": []string{"jaeger_storage", "jaeger_query", "healthcheckv2"},
			"pipelines": map[string]any{
				"traces": map[string]any{
					"receivers":  []string{"otlp"},
					"processors": []string{"batch"},
					"exporters":  []string{"jaeger_storage_exporter"},
				},
			},
			"telemetry": map[string]any{
				"resource": map[string]any{"service.name": "jaeger"},
				"logs":     map[string]any{"level": "info"},
				// Left out, this would listen on the fixed port 8888.
				"metrics": map[string]any{
					"level": "basic",
					"readers": []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{
						"prometheus": map[string]any{"host": "127.0.0.1", "port": metrics},
					}}}},
				},
			},
		},
		"extensions": map[string]any{
			"jaeger_storage": map[string]any{
				"backends": map[string]any{
					"memstore": map[string]any{"memory": map[string]any{"max_traces": 100000}},
				},
			},
			"jaeger_query": map[string]any{
				"storage": map[string]any{"traces": "memstore"},
				// On, it would export Jaeger's own spans over OTLP to
				// wherever the environment's defaults point.
				"enable_tracing": false,
				"http":           map[string]any{"endpoint": hostPort(queryHTTP)},
				"grpc":           map[string]any{"endpoint": hostPort(queryGRPC)},
			},
			"healthcheckv2": map[string]any{
				"use_v2": true,
				"http":   map[string]any{"endpoint": hostPort(health)},
			},
		},
		"receivers": map[string]any{
			"otlp": map[string]any{
				"protocols": map[string]any{
					"grpc": map[string]any{"endpoint": hostPort(otlpGRPC)},
					"http": map[string]any{"endpoint": hostPort(otlpHTTP)},
				},
			},
		},
		// Batching delays what tests wait for; a short timeout keeps it.
		"processors": map[string]any{"batch": map[string]any{"timeout": "100ms"}},
		"exporters": map[string]any{
			"jaeger_storage_exporter": map[string]any{"trace_storage": "memstore"},
		},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatalf("obs: %v", err)
	}
	path := filepath.Join(tmp, "jaeger.yaml")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatalf("obs: %v", err)
	}
	j := &Jaeger{
		OTLPGRPC:   "http://" + hostPort(otlpGRPC),
		OTLPHTTP:   "http://" + hostPort(otlpHTTP),
		QueryURL:   "http://" + hostPort(queryHTTP),
		MetricsURL: "http://" + hostPort(metrics) + "/metrics",
		Dir:        tmp,
	}
	j.proc = start(t, "jaeger", filepath.Join(tmp, "jaeger.log"), filepath.Join(dir, "jaeger"), "--config="+path)
	// The health check says OK once every component has started: the
	// receivers, which start last, included.
	healthURL := "http://" + hostPort(health) + "/status"
	j.proc.waitFor(t, startLimit, "jaeger ready", func() error {
		if err := getOK(context.Background(), healthURL); err != nil {
			return err
		}
		return getOK(context.Background(), j.QueryURL+"/api/services")
	})
	return j
}

// Trace is a trace as Jaeger's JSON API (/api/traces) gives it.
type Trace struct {
	TraceID string
	Spans   []Span
}

// Span is a span of a Trace. Jaeger keeps OTLP's model in its own terms:
// the parent is a CHILD_OF reference, each link a FOLLOWS_FROM one;
// attributes, the span kind (span.kind) and the status (otel.status_code,
// error) are tags; resource attributes are process tags.
type Span struct {
	TraceID       string
	SpanID        string
	OperationName string
	ServiceName   string
	References    []Reference
	StartTime     time.Time
	Duration      time.Duration
	// Tags and ProcessTags hold each value as a string: a string as it is,
	// any other type as its JSON (42, true).
	Tags        map[string]string
	ProcessTags map[string]string
	Logs        []Log
}

// Reference is a span's reference to another span.
type Reference struct {
	// RefType is CHILD_OF or FOLLOWS_FROM.
	RefType string
	TraceID string
	SpanID  string
}

// Log is a span event: its fields include the event's name as "event".
type Log struct {
	Time   time.Time
	Fields map[string]string
}

// ParentSpanID returns the span ID of the span's CHILD_OF reference, or ""
// for a root span.
func (s Span) ParentSpanID() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Links returns the span's FOLLOWS_FROM references, which is what Jaeger
// makes of OTLP span links.
func (s Span) Links() []Reference {
	var links []Reference
	for _, r := range s.References {
		if r.RefType == "FOLLOWS_FROM" {
			links = append(links, r)
		}
	}
	return links
}

// Span returns the trace's span named op, and false if it has none.
func (tr Trace) Span(op string) (Span, bool) {
	for _, s := range tr.Spans {
		if s.OperationName == op {
			return s, true
		}
	}
	return Span{}, false
}

// Services returns the services that Jaeger has spans of.
func (j *Jaeger) Services(ctx context.Context) ([]string, error) {
	var services []string
	err := j.get(ctx, "/api/services", nil, &services)
	return services, err
}

// Traces returns up to limit traces of service, of the last two days
// (the API's default lookback).
func (j *Jaeger) Traces(ctx context.Context, service string, limit int) ([]Trace, error) {
	var traces []jaegerTrace
	q := url.Values{"service": {service}, "limit": {strconv.Itoa(limit)}}
	if err := j.get(ctx, "/api/traces", q, &traces); err != nil {
		return nil, err
	}
	out := make([]Trace, 0, len(traces))
	for _, tr := range traces {
		out = append(out, tr.trace())
	}
	return out, nil
}

// Trace returns the trace with the hex ID id.
func (j *Jaeger) Trace(ctx context.Context, id string) (Trace, error) {
	var traces []jaegerTrace
	if err := j.get(ctx, "/api/traces/"+url.PathEscape(id), nil, &traces); err != nil {
		return Trace{}, err
	}
	if len(traces) != 1 {
		return Trace{}, fmt.Errorf("jaeger: %d traces with ID %s", len(traces), id)
	}
	return traces[0].trace(), nil
}

// WaitForTraces polls up to limit traces of service until ok holds for
// them (with ok nil: until there is one), failing t if it does not within
// timeout, and returns them.
func (j *Jaeger) WaitForTraces(t testing.TB, timeout time.Duration, service string, limit int, ok func([]Trace) bool) []Trace {
	t.Helper()
	if ok == nil {
		ok = func(tr []Trace) bool { return len(tr) > 0 }
	}
	var traces []Trace
	j.proc.waitFor(t, timeout, "jaeger traces of "+service, func() error {
		var err error
		if traces, err = j.Traces(context.Background(), service, limit); err != nil {
			return err
		}
		if !ok(traces) {
			return fmt.Errorf("%d traces, not as wanted yet", len(traces))
		}
		return nil
	})
	return traces
}

// get calls the API at path and decodes the data of its answer into data.
func (j *Jaeger) get(ctx context.Context, path string, q url.Values, data any) error {
	u := j.QueryURL + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
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
		return fmt.Errorf("jaeger %s: %w", path, err)
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("jaeger %s: %s: %.200q", path, resp.Status, body)
	}
	if len(env.Errors) > 0 || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jaeger %s: %s: %+v", path, resp.Status, env.Errors)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return fmt.Errorf("jaeger %s: %w", path, err)
	}
	return nil
}

// jaegerTrace is the API's JSON of a trace (model/json in Jaeger's tree).
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		TraceID       string `json:"traceID"`
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			RefType string `json:"refType"`
			TraceID string `json:"traceID"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		StartTime int64      `json:"startTime"` // µs since the epoch
		Duration  int64      `json:"duration"`  // µs
		Tags      []jaegerKV `json:"tags"`
		Logs      []struct {
			Timestamp int64      `json:"timestamp"`
			Fields    []jaegerKV `json:"fields"`
		} `json:"logs"`
		ProcessID string `json:"processID"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string     `json:"serviceName"`
		Tags        []jaegerKV `json:"tags"`
	} `json:"processes"`
}

type jaegerKV struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

func (tr jaegerTrace) trace() Trace {
	out := Trace{TraceID: tr.TraceID}
	for _, s := range tr.Spans {
		proc := tr.Processes[s.ProcessID]
		span := Span{
			TraceID:       s.TraceID,
			SpanID:        s.SpanID,
			OperationName: s.OperationName,
			ServiceName:   proc.ServiceName,
			StartTime:     time.UnixMicro(s.StartTime),
			Duration:      time.Duration(s.Duration) * time.Microsecond,
			Tags:          kvMap(s.Tags),
			ProcessTags:   kvMap(proc.Tags),
		}
		for _, r := range s.References {
			span.References = append(span.References, Reference(r))
		}
		for _, l := range s.Logs {
			span.Logs = append(span.Logs, Log{Time: time.UnixMicro(l.Timestamp), Fields: kvMap(l.Fields)})
		}
		out.Spans = append(out.Spans, span)
	}
	return out
}

func kvMap(kvs []jaegerKV) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		var s string
		if json.Unmarshal(kv.Value, &s) == nil {
			m[kv.Key] = s
		} else {
			m[kv.Key] = string(kv.Value)
		}
	}
	return m
}
