package dialogic

import (
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/carrier"
)

//go:embed dictionary.dialogic
var dictionary []byte

// Plugin is the dialogic profile as services/nas/profiles lists it.
var Plugin = nas.Plugin{
	Name:     "dialogic",
	Summary:  "Dialogic IMG 1010 (tandem): optional carrier authentication by trunk or address, per-leg accounting, and inter-carrier settlement",
	Options:  decodeOptions,
	New:      newProfile,
	Sessions: newSessions,
	Kinds:    []nas.Kind{carrier.Kind},
}

// Results of kradius_dialogic_requests_total.
const (
	resultAccept     = "accept"
	resultUnknown    = "unknown_carrier"
	resultNotAllowed = "not_allowed"
	resultDropped    = "dropped"
)

type profile struct {
	dict     *accounting.Dictionary
	host     string
	live     *carrier.Live
	requests *prometheus.CounterVec
	starts   *prometheus.CounterVec
}

func newProfile(d nas.Deps) (nas.Profile, error) {
	dict, err := accounting.NewDictionary(dictionary)
	if err != nil {
		return nil, err
	}
	p := &profile{dict: dict, host: d.Host,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_dialogic_requests_total",
			Help: "Access-Requests of Dialogic clients (carrier authentication) by result: accept, unknown_carrier, not_allowed (a called number outside the carrier's allowed prefixes), dropped.",
		}, []string{"result"}),
		starts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_dialogic_starts_total",
			Help: "Accounting Starts of Dialogic clients by type: call (start type 2) or authorization (any other, or none: an authorization or re-authorization, seed 003).",
		}, []string{"type"}),
	}
	for _, r := range []string{resultAccept, resultUnknown, resultNotAllowed, resultDropped} {
		p.requests.WithLabelValues(r)
	}
	for _, t := range []string{startCall, startAuthorization} {
		p.starts.WithLabelValues(t)
	}
	if err := errors.Join(d.Metrics.Register(p.requests), d.Metrics.Register(p.starts)); err != nil {
		return nil, err
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p.live, err = carrier.NewLive(d.Records, log, d.Metrics, "kradius_dialogic"); err != nil {
		return nil, err
	}
	return p, nil
}

// Run implements nas.Runner: it keeps the carriers' table.
func (p *profile) Run(ctx context.Context) error { return p.live.Run(ctx) }

// Client implements nas.Profile.
func (p *profile) Client(options any) (nas.Handler, error) {
	o, ok := options.(Options)
	if !ok {
		decoded, err := decodeOptions(nil)
		if err != nil {
			return nil, err
		}
		o = decoded.(Options)
	}
	return &client{p: p, o: o}, nil
}

type client struct {
	p *profile
	o Options
}

// ServeAccess implements nas.Handler: the seed's optional carrier
// authentication. The IMG is its NAS-IP-Address (the packet may come
// through a proxy or NAT); the originating carrier is the one of the IMG's
// inbound trunk, or else of the Originate Address; a known carrier is
// accepted if it may reach the called number. The IMG refuses calls while
// its RADIUS server is unreachable (spec B.3), so an answer that cannot be
// known (the carriers' table not live) is no answer, for the IMG to fail
// over, never a Reject.
func (c *client) ServeAccess(_ context.Context, req *nas.Request) (*radius.Packet, error) {
	p := req.Packet
	req.Kind = "carrier"
	img, ok := imgOf(p)
	if !ok {
		c.p.requests.WithLabelValues(resultDropped).Inc()
		return nil, &nas.Drop{Reason: nas.ReasonMalformed, Err: errors.New("NAS-IP-Address missing: it names the IMG")}
	}
	table, live := c.p.live.Table()
	if !live {
		c.p.requests.WithLabelValues(resultDropped).Inc()
		return nil, errors.New("the carriers' table is not live: no answer, the IMG fails over")
	}
	v := vsasOf(p)
	from, found := c.originating(table, img, v)
	switch {
	case !found:
		c.p.requests.WithLabelValues(resultUnknown).Inc()
		return p.Response(radius.CodeAccessReject), nil
	case !carrier.Reaches(from, rfc2865.CalledStationID_GetString(p)):
		c.p.requests.WithLabelValues(resultNotAllowed).Inc()
		return p.Response(radius.CodeAccessReject), nil
	}
	c.p.requests.WithLabelValues(resultAccept).Inc()
	return p.Response(radius.CodeAccessAccept), nil
}

// originating is the carrier a call came from: the IMG's inbound trunk's
// when the request names one (TDM), else the Originate Address's (VoIP).
func (c *client) originating(t *carrier.Table, img netip.Addr, v vsas) (*carrierv1.Carrier, bool) {
	if trunk := v.text(c.o.TrunkIn); trunk != "" {
		return t.ByTrunk(img, trunk)
	}
	addr, ok := c.o.Address(v[c.o.OriginateAddress])
	if !ok {
		return nil, false
	}
	return t.ByAddress(addr)
}

func imgOf(p *radius.Packet) (netip.Addr, bool) {
	ip, err := rfc2865.NASIPAddress_Lookup(p)
	if err != nil {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}

// Start types, the label of kradius_dialogic_starts_total.
const (
	startCall          = "call"
	startAuthorization = "authorization"
	// startTypeCall is the Accounting start type of a call start (seed).
	startTypeCall = 2
)

// startKinds are the request kinds (nas.AccountingRequest.Kind) of the
// Starts; other records keep their Acct-Status-Type's.
var startKinds = map[string]string{startCall: "start-call", startAuthorization: "start-authorization"}

// Names of the fields derived by role (accountingv1.Record.derived), for
// the consumer, which has no client table.
const (
	DerivedTrunkIn          = "Trunk-Id-In"
	DerivedTrunkOut         = "Trunk-Id-Out"
	DerivedOriginateAddress = "Originate-Address"
	DerivedRemoteAddress    = "Remote-Address"
	DerivedCallDirection    = "Call-Direction"
	DerivedStartType        = "Start-Type"
	DerivedStartTime        = "Start-Time"
)

// ServeAccounting implements nas.AccountingHandler: every attribute by
// name, and the roles this client's options place (trunks, addresses,
// direction, start type and time, converted from the IMG's zone) as the
// record's derived fields. A Start without start type 2 is an
// authorization or re-authorization (seed), counted as such and recorded
// with its type.
func (c *client) ServeAccounting(_ context.Context, req *nas.AccountingRequest, dst []byte) (accounting.Record, error) {
	rec, err := nas.Record(dst, req, Plugin.Name, c.p.host, c.p.dict)
	if err != nil {
		return rec, err
	}
	v := vsasOfRaw(req.Raw)
	var derived []*accountingv1.Attribute
	text := func(name string, n int) {
		if s := v.text(n); s != "" {
			derived = append(derived, &accountingv1.Attribute{Name: name, Value: &accountingv1.Attribute_Text{Text: strings.ToValidUTF8(s, "\uFFFD")}})
		}
	}
	address := func(name string, n int) {
		if a, ok := c.o.Address(v[n]); ok {
			derived = append(derived, &accountingv1.Attribute{Name: name, Value: &accountingv1.Attribute_Address{Address: a.String()}})
		}
	}
	text(DerivedTrunkIn, c.o.TrunkIn)
	text(DerivedTrunkOut, c.o.TrunkOut)
	address(DerivedOriginateAddress, c.o.OriginateAddress)
	address(DerivedRemoteAddress, c.o.RemoteAddress)
	text(DerivedCallDirection, c.o.CallDirection)
	startType, hasType := v.integer(c.o.StartType)
	if hasType {
		derived = append(derived, &accountingv1.Attribute{Name: DerivedStartType, Value: &accountingv1.Attribute_Integer{Integer: uint64(startType)}})
	}
	if s, ok := v.integer(c.o.StartTime); ok {
		derived = append(derived, &accountingv1.Attribute{Name: DerivedStartTime, Value: &accountingv1.Attribute_Time{Time: timestampOf(c.o.StartTimeOf(s))}})
	}
	if isStart(req.Raw) {
		kind := startAuthorization
		if hasType && startType == startTypeCall {
			kind = startCall
		}
		c.p.starts.WithLabelValues(kind).Inc()
		req.Kind = startKinds[kind]
	}
	if rec.Wire, err = accounting.AppendDerived(rec.Wire, derived); err != nil {
		return accounting.Record{}, &nas.Drop{Reason: nas.ReasonMalformed, Err: err}
	}
	return rec, nil
}

func timestampOf(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// isStart says whether a raw Accounting-Request is a Start.
func isStart(pkt []byte) bool {
	for t, v := range nas.RawAttributes(pkt) {
		if t == rfc2866.AcctStatusType_Type && len(v) == 4 {
			return rfc2866.AcctStatusType(binary.BigEndian.Uint32(v)) == rfc2866.AcctStatusType_Value_Start
		}
	}
	return false
}
