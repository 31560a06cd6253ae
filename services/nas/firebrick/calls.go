package firebrick

import (
	"cmp"

	"google.golang.org/protobuf/types/known/timestamppb"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/nas"
)

// sessions is the profile's part of the consumer: a FireBrick accounts
// per call leg (spec A.4), and its CDR is the call's, built once every leg
// has stopped, from the legs' Starts, Interim-Updates and Stops grouped by
// Acct-Multi-Session-Id (the SIP Call-ID).
type sessions struct{}

var _ nas.Calls = sessions{}

func newSessions(nas.SessionDeps) nas.Sessions { return sessions{} }

// CallOf implements nas.Calls: Acct-Multi-Session-Id. A leg without one
// is a call of its own.
func (sessions) CallOf(rec *accountingv1.Record) string {
	for _, a := range rec.GetAttributes() {
		if a.GetVendor() == 0 && a.GetName() == "Acct-Multi-Session-Id" {
			return accounting.Text(a)
		}
	}
	return ""
}

// CallCDR implements nas.Calls. The spec does not say which attributes
// the Interim-Update and the Stop carry (NOT FOUND), so every field is
// taken from whichever of a leg's records has it, the Start's first; every
// attribute is also in each record, kept by the log.
func (sessions) CallCDR(call string, legs []*accountingv1.Record, c *accountingv1.CDR) {
	b := &firebrickv1.CDR{CallId: call}
	byID := map[string]*firebrickv1.CallLeg{}
	for _, rec := range legs {
		l := byID[rec.GetSessionId()]
		if l == nil {
			l = &firebrickv1.CallLeg{SessionId: rec.GetSessionId()}
			byID[rec.GetSessionId()] = l
			b.Legs = append(b.Legs, l)
		}
		addRecord(l, rec)
	}
	for _, l := range b.GetLegs() {
		b.RingSeconds = max(b.RingSeconds, l.GetRingSeconds())
		b.ConnectedSeconds = max(b.ConnectedSeconds, l.GetConnectedSeconds())
		b.Cli = cmp.Or(b.Cli, l.GetCli())
		b.Dialled = cmp.Or(b.Dialled, l.GetDialled())
		b.Cui = cmp.Or(b.Cui, l.GetCui())
		if s := l.GetStart(); s != nil && (b.Start == nil || s.AsTime().Before(b.Start.AsTime())) {
			b.Start = s
		}
	}
	c.CallingStationId = cmp.Or(b.Cli, c.CallingStationId)
	c.CalledStationId = cmp.Or(b.Dialled, c.CalledStationId)
	c.SessionTime = b.ConnectedSeconds
	c.Block = &accountingv1.CDR_Firebrick{Firebrick: b}
}

// addRecord fills a leg from one of its records: the Interim-Update (the
// 200) gives the ring time, the Stop the connected time.
func addRecord(l *firebrickv1.CallLeg, rec *accountingv1.Record) {
	var seconds uint32
	for _, a := range rec.GetAttributes() {
		if a.GetVendor() != 0 {
			continue
		}
		switch a.GetName() {
		case "User-Name":
			l.Local = cmp.Or(l.Local, accounting.Text(a))
		case "Callback-Id":
			l.Remote = cmp.Or(l.Remote, accounting.Text(a))
		case "Called-Station-Id":
			l.Dialled = cmp.Or(l.Dialled, accounting.Text(a))
		case "Calling-Station-Id":
			l.Cli = cmp.Or(l.Cli, accounting.Text(a))
		case "Chargeable-User-Identity":
			l.Cui = cmp.Or(l.Cui, accounting.Text(a))
		case "Event-Timestamp":
			// The call's start, in every record (spec A.4).
			if l.Start == nil && a.GetTime() != nil {
				l.Start = timestamppb.New(a.GetTime().AsTime())
			}
		case "Acct-Session-Time":
			seconds = uint32(a.GetInteger())
		case "Acct-Terminate-Cause":
			// A raw SIP code (301, 302) after a redirect: an integer.
			l.TerminateCause = uint32(a.GetInteger())
		}
	}
	switch rec.GetStatusType() {
	case accountingv1.StatusType_STATUS_TYPE_INTERIM_UPDATE:
		l.Connected, l.RingSeconds = true, seconds
	case accountingv1.StatusType_STATUS_TYPE_STOP:
		l.Stopped, l.ConnectedSeconds = true, seconds
	}
}

// CDR implements nas.Sessions for a leg that is a call of its own (no
// Acct-Multi-Session-Id): a call of one leg.
func (s sessions) CDR(rec *accountingv1.Record, c *accountingv1.CDR) {
	s.CallCDR(cmp.Or(s.CallOf(rec), rec.GetSessionId()), []*accountingv1.Record{rec}, c)
}

// Effects implements nas.Sessions: a FireBrick call changes nothing else.
func (sessions) Effects(*accountingv1.Record) []nas.Effect { return nil }

// EffectKinds implements nas.Sessions.
func (sessions) EffectKinds() []string { return nil }
