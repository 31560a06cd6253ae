package cdr

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"kradius.dev/services/acctlog"
)

// lagHelp is kradius_cdr_lag_records's, whichever log reports it.
const lagHelp = "Accounting records not yet consumed, by partition of the accounting log (0 for the journal): billing effects still to come. Grows while the edge is busy (under a load factor) and falls when it is quiet."

// Lag is kradius_cdr_lag_records of a Kafka consumer: the partitions it
// owns, as kafkalog.TxnConsumer reports them.
type Lag struct{ vec *prometheus.GaugeVec }

// NewLag registers the gauge with reg.
func NewLag(reg prometheus.Registerer) *Lag {
	l := &Lag{vec: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kradius_cdr_lag_records", Help: lagHelp}, []string{"partition"})}
	reg.MustRegister(l.vec)
	return l
}

// Set reports a partition's lag.
func (l *Lag) Set(partition int32, records int64) {
	l.vec.WithLabelValues(strconv.Itoa(int(partition))).Set(float64(records))
}

// Forget drops the partitions another member owns now.
func (l *Lag) Forget(partitions []int32) {
	for _, p := range partitions {
		l.vec.DeleteLabelValues(strconv.Itoa(int(p)))
	}
}

// JournalLag is kradius_cdr_lag_records of the journal, one partition,
// read at scrape time.
func JournalLag(lag func() int64) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kradius_cdr_lag_records", Help: lagHelp, ConstLabels: prometheus.Labels{"partition": "0"},
	}, func() float64 { return float64(lag()) })
}

// SetTracer gives each batch a span, linked to the spans of the requests
// that appended its records (a batch has many parents); nil, the default,
// traces nothing.
func (p *Processor) SetTracer(t trace.Tracer, system string) {
	p.tracer, p.system = t, system
}

// batchSpan starts the span of applying batch; the Redis calls under ctx
// become its children. end takes the batch's outcome.
func (p *Processor) batchSpan(ctx context.Context, batch []acctlog.Message) (context.Context, func(err error)) {
	p.batchSize.Observe(float64(len(batch)))
	if p.tracer == nil || len(batch) == 0 {
		return ctx, func(error) {}
	}
	links := make([]trace.Link, 0, len(batch))
	for _, m := range batch {
		if m.Trace.IsValid() {
			links = append(links, trace.Link{SpanContext: m.Trace})
		}
	}
	first, last := batch[0], batch[len(batch)-1]
	ctx, span := p.tracer.Start(ctx, "cdr batch", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithLinks(links...),
		trace.WithAttributes(
			attribute.String("messaging.system", p.system),
			attribute.String("messaging.operation.type", "process"),
			attribute.Int("messaging.batch.message_count", len(batch)),
			attribute.Int("messaging.destination.partition.id", first.Partition),
			attribute.Int64("kradius.first_offset", first.Offset),
			attribute.Int64("kradius.last_offset", last.Offset),
		))
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
