package edge

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"layeh.com/radius"

	"kradius.dev/services/nas"
)

// Drop reasons, the values of kradius_edge_drops_total's reason label. A drop
// means no reply was sent; the NAS retries or fails over.
const (
	ReasonUnknownClient     = "unknown_client"
	ReasonMalformed         = nas.ReasonMalformed
	ReasonBadAuthenticator  = nas.ReasonBadAuthenticator
	ReasonMissingMessageAut = "missing_message_authenticator"
	ReasonUnsupportedCode   = "unsupported_code"
	ReasonOverload          = "overload"
	ReasonRateLimited       = "rate_limited"
	ReasonInFlight          = "retransmit_in_flight"
	ReasonUnsupportedCmd    = nas.ReasonUnsupported
	ReasonBackend           = nas.ReasonBackend
	ReasonNoAccountingLog   = "accounting_unavailable"
	ReasonLogUnavailable    = "accounting_log_error"
	ReasonNoSessionID       = nas.ReasonNoSessionID
	ReasonInternal          = "internal_error"
	// ReasonNotServing is a Status-Server unanswered because its port
	// cannot serve: a backend or the accounting log is down.
	ReasonNotServing = "not_serving"
	// ReasonQueueTimeout is a request that waited for a worker longer than
	// Config.MaxQueueWait: shed before any work is spent on it (shed.go).
	ReasonQueueTimeout = "queue_timeout"
	// ReasonPasswordOverload is a password check the verifier shed.
	ReasonPasswordOverload = nas.ReasonPasswordOverload
)

var dropReasons = []string{
	ReasonUnknownClient, ReasonMalformed, ReasonBadAuthenticator, ReasonMissingMessageAut,
	ReasonUnsupportedCode, ReasonOverload, ReasonInFlight, ReasonUnsupportedCmd,
	ReasonBackend, ReasonNoAccountingLog, ReasonLogUnavailable, ReasonNoSessionID, ReasonInternal,
	ReasonNotServing, ReasonRateLimited, ReasonQueueTimeout, ReasonPasswordOverload,
}

type metrics struct {
	received    *prometheus.CounterVec
	replies     *prometheus.CounterVec
	drops       *prometheus.CounterVec
	retransmits *prometheus.CounterVec
	// sharedErrors and localOnly are the shared reply cache's failures
	// (sharedreplies.go).
	sharedErrors *prometheus.CounterVec
	localOnly    prometheus.Counter
	// requests counts decided and dropped requests of known clients by
	// profile, the profile's request kind and result.
	requests *prometheus.CounterVec
	// requestSeries holds requests' series once used (requestLabels →
	// prometheus.Counter): the vector's own lookup hashes and checks four
	// labels on every request, as the FaxBack counters once did
	// (docs/performance.md, "FaxBack request counters").
	requestSeries sync.Map
	duration      *prometheus.HistogramVec
	// appends counts accounting-log appends by result; appendDuration is
	// how long a NAS waited on durability.
	appends        *prometheus.CounterVec
	appendDuration prometheus.Histogram
	// appendsOK and appendsFailed are appends' series, resolved once.
	appendsOK, appendsFailed prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, queueLen func() float64) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_received_total", Help: "Datagrams received, by listener.",
		}, []string{"listener"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_replies_total", Help: "Replies decided and sent, by listener and RADIUS code.",
		}, []string{"listener", "code"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_drops_total", Help: "Requests dropped without a reply, by listener and reason.",
		}, []string{"listener", "reason"}),
		retransmits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_retransmits_total", Help: "Retransmits answered from the reply cache, by listener and cache (local, or shared: a reply another edge sent).",
		}, []string{"listener", "cache"}),
		sharedErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_shared_reply_cache_errors_total", Help: "Shared reply cache calls to Redis that failed or outran their budget, by op (claim, lookup, store, release).",
		}, []string{"op"}),
		localOnly: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kradius_edge_shared_reply_cache_local_only_total", Help: "Requests decided with the local reply cache only, because Redis failed on them or had failed within the pause before.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_requests_total",
			Help: "Requests of known clients, by listener, NAS profile, the profile's request kind (a FaxBack command, a SIP method, a Dialogic start type; status-server for an RFC 5997 probe; none when the profile did not see it) and result (accept, reject, challenge, accounted, serving, dropped).",
		}, []string{"listener", "profile", "kind", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kradius_edge_request_duration_seconds",
			Help:    "Time from receiving a request to sending its reply; sampled requests carry their trace_id as the exemplar.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"listener"}),
		appends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_edge_accounting_appends_total", Help: "Accounting records appended to the log, by result (ok, error).",
		}, []string{"result"}),
		appendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kradius_edge_accounting_append_seconds",
			Help:    "Time for an accounting record to become durable (Kafka acks=all or fsync).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
	}
	reg.MustRegister(m.received, m.requests, m.replies, m.drops, m.retransmits, m.sharedErrors, m.localOnly, m.duration, m.appends, m.appendDuration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kradius_edge_queue_length", Help: "Requests waiting for a worker.",
		}, queueLen))
	m.appendsOK = m.appends.WithLabelValues("ok")
	m.appendsFailed = m.appends.WithLabelValues("error")
	for _, l := range []string{listenerAuth, listenerAcct} {
		m.received.WithLabelValues(l)
		m.retransmits.WithLabelValues(l, cacheLocal)
		m.retransmits.WithLabelValues(l, cacheShared)
		for _, r := range dropReasons {
			m.drops.WithLabelValues(l, r)
		}
	}
	return m
}

// The values of kradius_edge_retransmits_total's cache label.
const (
	cacheLocal  = "local"
	cacheShared = "shared"
)

type requestLabels struct{ listener, profile, kind, result string }

// request counts one request of a known client.
func (m *metrics) request(listener, profile, kind, result string) {
	if kind == "" {
		kind = kindNone
	}
	key := requestLabels{listener, profile, kind, result}
	c, ok := m.requestSeries.Load(key)
	if !ok {
		c, _ = m.requestSeries.LoadOrStore(key, m.requests.WithLabelValues(listener, profile, kind, result))
	}
	c.(prometheus.Counter).Inc()
}

// listenerMetrics are one listener's series, resolved once so that the
// per-packet path does no label lookups.
type listenerMetrics struct {
	received, retransmits prometheus.Counter
	sharedRetransmits     prometheus.Counter
	duration              prometheus.Observer
	replies               map[radius.Code]prometheus.Counter
}

func (m *metrics) forListener(name string) listenerMetrics {
	lm := listenerMetrics{
		received:          m.received.WithLabelValues(name),
		retransmits:       m.retransmits.WithLabelValues(name, cacheLocal),
		sharedRetransmits: m.retransmits.WithLabelValues(name, cacheShared),
		duration:          m.duration.WithLabelValues(name),
		replies:           map[radius.Code]prometheus.Counter{},
	}
	for _, c := range []radius.Code{radius.CodeAccessAccept, radius.CodeAccessReject, radius.CodeAccessChallenge, radius.CodeAccountingResponse} {
		lm.replies[c] = m.replies.WithLabelValues(name, c.String())
	}
	return lm
}
