package firebrick

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc4372"

	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/store/records"
)

// KindRoutes is the store name of the routes kind.
const KindRoutes = "firebrick.routes"

// Routes is the routes kind, carried by the dids target with the other
// kinds of where calls go.
var Routes = nas.Kind{
	Name: "routes",
	Key:  "pattern",
	Schema: &nas.Schema{
		Service:   nas.ServiceDIDs,
		Message:   &firebrickv1.Route{},
		Fold:      func(k string) string { return k },
		Index:     indexRoute,
		EdgeCache: true,
	},
}

// maxNumber bounds a dialled number: its lookup tries every prefix, in
// one round trip of at most recordsvc.MaxFirstOf keys.
const maxNumber = 32

func validNumber(n string) bool {
	digits := strings.TrimPrefix(n, "+")
	return digits != "" && len(n) <= maxNumber && strings.Trim(digits, "0123456789") == ""
}

func indexRoute(m proto.Message) (records.Record, error) {
	r := m.(*firebrickv1.Route)
	p := r.GetPattern()
	if p != "*" && !validNumber(strings.TrimSuffix(p, "*")) {
		return records.Record{}, fmt.Errorf("pattern: %q is not a number, a number followed by *, or *", p)
	}
	if len(r.GetLegs()) > 0 && r.GetRejectMessage() != "" {
		return records.Record{}, fmt.Errorf("route %q: rejectMessage: only for a route without legs", p)
	}
	if len(r.GetRejectMessage()) > 253 {
		return records.Record{}, fmt.Errorf("route %q: rejectMessage: longer than one attribute (253 octets)", p)
	}
	for i, l := range r.GetLegs() {
		if err := checkLeg(l); err != nil {
			return records.Record{}, fmt.Errorf("route %q: legs[%d]: %w", p, i, err)
		}
	}
	return records.Record{Key: p}, nil
}

func checkLeg(l *firebrickv1.Leg) error {
	t := l.GetTarget()
	switch {
	case strings.HasPrefix(t, "tel:"):
		if !validNumber(strings.TrimPrefix(t, "tel:")) {
			return fmt.Errorf("target: %q: tel: needs a number", t)
		}
	case strings.HasPrefix(t, "sip:"):
		if len(t) == len("sip:") {
			return fmt.Errorf("target: %q: sip: needs a URI", t)
		}
	case strings.HasPrefix(t, userTarget):
		if len(t) == len(userTarget) || strings.ContainsAny(t, "@ \t") {
			return fmt.Errorf("target: %q: user: needs a SIP user name", t)
		}
	case strings.Contains(t, "@"):
		number, carrier, _ := strings.Cut(t, "@")
		if carrier == "" || number != "" && !validNumber(number) {
			return fmt.Errorf("target: %q is not @carrier or number@carrier", t)
		}
	default:
		return fmt.Errorf("target: %q is not tel:N, sip:URI, user:NAME, @carrier or N@carrier", t)
	}
	if c := l.GetCli(); c != "" && c != "Anonymous" && c != "Allowed" && !validNumber(c) && !strings.Contains(c, "@") {
		return fmt.Errorf("cli: %q is not a number, Anonymous, Allowed or user@host", c)
	}
	if d := l.GetDialled(); d != "" && !validNumber(d) {
		return fmt.Errorf("dialled: %q is not a number", d)
	}
	for i, e := range l.GetRecordingEmails() {
		if !strings.Contains(e, "@") {
			return fmt.Errorf("recordingEmails[%d]: %q is not an e-mail address", i, e)
		}
	}
	return nil
}

// routeKeys are the patterns that may route number, in order of
// preference: the number, its prefixes from the longest, the catch-all.
func routeKeys(number string) []string {
	keys := []string{number}
	for n := len(number); n > 0; n-- {
		keys = append(keys, number[:n]+"*")
	}
	return append(keys, "*")
}

// userTarget starts a leg to the contacts kradius keeps for a SIP user
// (registrations.go): one leg per live contact, rung together.
const userTarget = "user:"

// Results of a routing decision.
const (
	resultRouted       = "routed"
	resultNoRoute      = "no_route"
	resultUnregistered = "unregistered"
)

// router decides where INVITE and REFER calls go.
type router struct {
	o       Options
	records nas.Records
	now     func() time.Time
}

// route answers a call to the dialled number (Called-Station-Id, the user
// part of To:) with the legs of its route: an Accept whose attributes,
// in order, open each leg with SIP-AOR and then set that leg's CUI,
// dialled number, CLI, display name and recording addresses.
func (r *router) route(ctx context.Context, p *radius.Packet) (*radius.Packet, string, error) {
	dialled := rfc2865.CalledStationID_GetString(p)
	if !validNumber(dialled) {
		// A SIP URI user part that is not a number has no route here.
		return p.Response(radius.CodeAccessReject), resultNoRoute, nil
	}
	_, m, err := r.records.GetFirst(ctx, KindRoutes, routeKeys(dialled))
	switch {
	case errors.Is(err, records.ErrNotFound):
		return p.Response(radius.CodeAccessReject), resultNoRoute, nil
	case err != nil:
		return nil, "", fmt.Errorf("route %q: %w", dialled, err)
	}
	route := m.(*firebrickv1.Route)
	if len(route.GetLegs()) == 0 {
		reject := p.Response(radius.CodeAccessReject)
		if msg := route.GetRejectMessage(); msg != "" {
			if err := rfc2865.ReplyMessage_SetString(reject, msg); err != nil {
				return nil, "", err
			}
		}
		return reject, resultNoRoute, nil
	}
	legs, err := r.expand(ctx, route.GetLegs())
	if err != nil {
		return nil, "", fmt.Errorf("route %q: %w", route.GetPattern(), err)
	}
	if len(legs) == 0 {
		// Every leg goes to users that are not registered now.
		return p.Response(radius.CodeAccessReject), resultUnregistered, nil
	}
	accept := p.Response(radius.CodeAccessAccept)
	if err := addLegs(accept, legs, radius.Type(r.o.SIPAORAttribute)); err != nil {
		return nil, "", fmt.Errorf("route %q: %w", route.GetPattern(), err)
	}
	return accept, resultRouted, nil
}

// expand replaces each leg to a user:NAME by a leg to each of its live
// contacts, with the same overrides; a user without one gets no leg.
func (r *router) expand(ctx context.Context, legs []*firebrickv1.Leg) ([]*firebrickv1.Leg, error) {
	var out []*firebrickv1.Leg
	for _, l := range legs {
		user, ok := strings.CutPrefix(l.GetTarget(), userTarget)
		if !ok {
			out = append(out, l)
			continue
		}
		uris, err := contacts(ctx, r.records, user, r.now())
		if err != nil {
			return nil, err
		}
		for _, uri := range uris {
			c := proto.CloneOf(l)
			c.Target = uri
			out = append(out, c)
		}
	}
	return out, nil
}

// addLegs writes legs to an Accept in the order the FireBrick reads them.
func addLegs(accept *radius.Packet, legs []*firebrickv1.Leg, aor radius.Type) error {
	add := func(t radius.Type, v string) error {
		a, err := radius.NewString(v)
		if err != nil {
			return err
		}
		if len(a) > 253 {
			return fmt.Errorf("attribute %d: %d octets, more than one attribute holds", t, len(a))
		}
		accept.Add(t, a)
		return nil
	}
	for _, l := range legs {
		target := l.GetTarget()
		if d := l.GetDelaySeconds(); d > 0 {
			target = strconv.FormatUint(uint64(d), 10) + "+" + target
		}
		if err := add(aor, target); err != nil {
			return err
		}
		for _, a := range []struct {
			t radius.Type
			v string
		}{
			{rfc4372.ChargeableUserIdentity_Type, l.GetCui()},
			{rfc2865.CalledStationID_Type, l.GetDialled()},
			{rfc2865.CallingStationID_Type, l.GetCli()},
			{rfc2865.UserName_Type, l.GetDisplayName()},
		} {
			if a.v == "" {
				continue
			}
			if err := add(a.t, a.v); err != nil {
				return err
			}
		}
		for _, e := range l.GetRecordingEmails() {
			if err := add(rfc2865.FilterID_Type, e); err != nil {
				return err
			}
		}
	}
	return nil
}
