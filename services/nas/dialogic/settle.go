package dialogic

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/types/known/timestamppb"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/carrier"
)

// Unknown names a carrier a record does not identify: recorded, counted
// and logged, never dropped.
const Unknown = "unknown"

// sessions is the profile's part of the consumer: each Stop's settlement
// record (nas.Settler), from the carriers' table it keeps.
type sessions struct {
	live    *carrier.Live
	log     *slog.Logger
	unknown *prometheus.CounterVec
}

var (
	_ nas.Settler = (*sessions)(nil)
	_ nas.Runner  = (*sessions)(nil)
)

func newSessions(d nas.SessionDeps) nas.Sessions {
	s := &sessions{log: d.Log, unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kradius_dialogic_settlement_unknown_total",
		Help: "Settlement records that name a carrier as unknown, by side of the carrier (originating, terminating): the record's trunk or address matches no carrier.",
	}, []string{"carrier"})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	metrics := d.Metrics
	if metrics == nil {
		metrics = prometheus.NewRegistry()
	}
	if err := metrics.Register(s.unknown); err != nil {
		s.log.Error("dialogic: settlement metrics not registered", "err", err)
	}
	s.unknown.WithLabelValues("originating")
	s.unknown.WithLabelValues("terminating")
	if d.Records != nil {
		s.live, _ = carrier.NewLive(d.Records, s.log, metrics, "kradius_dialogic_cdr")
	}
	return s
}

// Run implements nas.Runner: it keeps the carriers' table.
func (s *sessions) Run(ctx context.Context) error {
	if s.live == nil {
		<-ctx.Done()
		return nil
	}
	return s.live.Run(ctx)
}

// errNoTable is a settlement that waits for the carriers' table.
var errNoTable = errors.New("the carriers' table is not live: the settlement waits")

// Settle implements nas.Settler (seed 003, "Wholesale TANDEM"):
//   - originating side (Call Direction "O"): the originating carrier is the
//     IMG's inbound trunk's, or the Originate Address's; the terminating
//     carrier owns the Remote Address (the on-net gateway: the Primary
//     Carrier);
//   - terminating side ("I"): the originating carrier owns the Originate
//     Address (the originating IMG: the Primary Carrier); the terminating
//     carrier is the IMG's outbound trunk's, or the Remote Address's;
//   - hairpin ("I" on an IMG whose call came in from a partner, not from
//     the Primary Carrier's network): one record naming both partners.
//
// A call belongs to the period of its Start Time (the derived UTC
// instant), else of the Stop's receipt.
func (s *sessions) Settle(rec *accountingv1.Record) (*settlementv1.Record, error) {
	if s.live == nil {
		return nil, errNoTable
	}
	table, live := s.live.Table()
	if !live {
		return nil, errNoTable
	}
	f := fieldsOf(rec)
	byTrunkOr := func(trunk string, addr netip.Addr) (*carrierv1.Carrier, bool) {
		if trunk != "" {
			return table.ByTrunk(f.img, trunk)
		}
		return table.ByAddress(addr)
	}
	r := &settlementv1.Record{
		SessionId: rec.GetSessionId(), Img: addrText(f.img), Seconds: f.seconds,
		Calling: f.calling, Called: f.called, TerminateCause: f.cause, NasClient: rec.GetNasClient(),
		Start: timestamppb.New(f.start),
	}
	var orig, term *carrierv1.Carrier
	var okOrig, okTerm bool
	switch f.direction {
	case "O":
		r.Side = settlementv1.Side_SIDE_ORIGINATING
		orig, okOrig = byTrunkOr(f.trunkIn, f.originate)
		term, okTerm = table.ByAddress(f.remote)
	case "I":
		orig, okOrig = byTrunkOr(f.trunkIn, f.originate)
		term, okTerm = byTrunkOr(f.trunkOut, f.remote)
		r.Side = settlementv1.Side_SIDE_TERMINATING
		if okOrig && !orig.GetPrimary() {
			// The call came in from a partner on this IMG, and leaves by
			// it: a hairpin.
			r.Side = settlementv1.Side_SIDE_HAIRPIN
		}
	default:
		orig, okOrig = byTrunkOr(f.trunkIn, f.originate)
		term, okTerm = byTrunkOr(f.trunkOut, f.remote)
	}
	r.OriginatingCarrier, r.TerminatingCarrier = Unknown, Unknown
	if okOrig {
		r.OriginatingCarrier = orig.GetName()
	}
	if okTerm {
		r.TerminatingCarrier = term.GetName()
	}
	if !okOrig || !okTerm {
		if !okOrig {
			s.unknown.WithLabelValues("originating").Inc()
		}
		if !okTerm {
			s.unknown.WithLabelValues("terminating").Inc()
		}
		s.log.Warn("settlement: a carrier not identified, recorded as unknown", "session", rec.GetSessionId(), "img", r.Img,
			"direction", f.direction, "trunk_in", f.trunkIn, "trunk_out", f.trunkOut, "originate", addrText(f.originate), "remote", addrText(f.remote),
			"originating", r.OriginatingCarrier, "terminating", r.TerminatingCarrier)
	}
	return r, nil
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// fields are what a Stop says of a call, for its settlement.
type fields struct {
	img, originate, remote     netip.Addr
	trunkIn, trunkOut          string
	direction, calling, called string
	seconds, cause             uint32
	start                      time.Time
}

func fieldsOf(rec *accountingv1.Record) fields {
	f := fields{start: rec.GetReceived().AsTime()}
	for _, a := range rec.GetAttributes() {
		if a.GetVendor() != 0 {
			continue
		}
		switch a.GetName() {
		case "NAS-IP-Address":
			f.img, _ = netip.ParseAddr(a.GetAddress())
		case "Calling-Station-Id":
			f.calling = accounting.Text(a)
		case "Called-Station-Id":
			f.called = accounting.Text(a)
		case "Acct-Session-Time":
			f.seconds = uint32(a.GetInteger())
		case "Acct-Terminate-Cause":
			f.cause = uint32(a.GetInteger())
		}
	}
	for _, a := range rec.GetDerived() {
		switch a.GetName() {
		case DerivedTrunkIn:
			f.trunkIn = a.GetText()
		case DerivedTrunkOut:
			f.trunkOut = a.GetText()
		case DerivedOriginateAddress:
			f.originate, _ = netip.ParseAddr(a.GetAddress())
		case DerivedRemoteAddress:
			f.remote, _ = netip.ParseAddr(a.GetAddress())
		case DerivedCallDirection:
			f.direction = a.GetText()
		case DerivedStartTime:
			if t := a.GetTime(); t != nil {
				f.start = t.AsTime()
			}
		}
	}
	f.img, f.originate, f.remote = f.img.Unmap(), f.originate.Unmap(), f.remote.Unmap()
	return f
}

// CDR implements nas.Sessions: the consumer puts the settlement record in
// the CDR (nas.Settler), and there is nothing else to add.
func (*sessions) CDR(*accountingv1.Record, *accountingv1.CDR) {}

// Effects implements nas.Sessions: the settlement's effects are the
// consumer's (nas.Settler).
func (*sessions) Effects(*accountingv1.Record) []nas.Effect { return nil }

// EffectKinds implements nas.Sessions.
func (*sessions) EffectKinds() []string { return nil }
