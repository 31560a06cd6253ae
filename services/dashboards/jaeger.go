package dashboards

import (
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// JaegerQuery is a query of Grafana's Jaeger datasource, which the SDK
// does not ship (it has Tempo's): the fields of the plugin's JaegerQuery
// the boards use.
type JaegerQuery struct {
	RefID      string                `json:"refId"`
	Datasource *common.DataSourceRef `json:"datasource,omitempty"`
	// QueryType "search" lists the traces matching the fields below.
	QueryType string `json:"queryType"`
	Service   string `json:"service,omitempty"`
	Operation string `json:"operation,omitempty"`
	// MinDuration is a Jaeger duration ("500ms"): only slower traces.
	MinDuration string `json:"minDuration,omitempty"`
	Limit       int    `json:"limit,omitempty"`
}

func (JaegerQuery) ImplementsDataqueryVariant() {}

func (JaegerQuery) DataqueryType() string { return "jaeger" }

func (JaegerQuery) Validate() error { return nil }

func (q JaegerQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(JaegerQuery)
	return ok && reflect.DeepEqual(q, o)
}

// jaegerSearch is a builder of a search of service's traces on the Jaeger
// datasource variable.
type jaegerSearch struct{ q JaegerQuery }

var _ cog.Builder[variants.Dataquery] = jaegerSearch{}

func newJaegerSearch(refID, service string) jaegerSearch {
	ds := jaegerDS
	return jaegerSearch{JaegerQuery{RefID: refID, Datasource: &ds, QueryType: "search", Service: service, Limit: 20}}
}

func (s jaegerSearch) MinDuration(d string) jaegerSearch {
	s.q.MinDuration = d
	return s
}

func (s jaegerSearch) Build() (variants.Dataquery, error) { return s.q, nil }
