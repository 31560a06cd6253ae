package firebrick

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc4372"

	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/carrier"
	"kradius.dev/services/nas/firebrick/sipattr"
)

// Plugin is the firebrick profile as services/nas/profiles lists it.
var Plugin = nas.Plugin{
	Name:     "firebrick",
	Summary:  "FireBrick FB2700 (SIP): digest approval of REGISTER and other requests, call routing by RADIUS to ordered legs, per-leg accounting",
	Options:  decodeOptions,
	New:      newProfile,
	Sessions: newSessions,
	Kinds:    []nas.Kind{Users, Routes, Registrations, carrier.Kind},
	// The FireBrick signs every request (spec A.2).
	MessageAuthenticator: "require",
}

// Request kinds, the label of kradius_firebrick_requests_total: a bounded
// set, whatever methods a NAS sends.
var requestKinds = map[string]string{"REGISTER": "register", "INVITE": "invite", "REFER": "refer"}

const (
	kindOther    = "other"
	kindNone     = "none"
	kindRedirect = "redirect"
)

type profile struct {
	nas.Records
	dict     *accounting.Dictionary
	host     string
	now      func() time.Time
	requests *prometheus.CounterVec
}

func newProfile(d nas.Deps) (nas.Profile, error) {
	dict, err := accounting.NewDictionary() // RFC attributes by name, the Digest-* by number
	if err != nil {
		return nil, err
	}
	p := &profile{Records: d.Records, dict: dict, host: d.Host, now: time.Now,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_firebrick_requests_total",
			Help: "Access-Requests of FireBrick clients by SIP request kind (register, invite, refer, redirect: the new decision after a 3xx, other, none) and result (accept, reject, challenge, stale, forged_nonce, bad_digest, unknown_carrier, carrier_source, routed, no_route, unregistered, dropped).",
		}, []string{"kind", "result"}),
	}
	// Every series from the start, so that a dashboard sees the zeros.
	for _, kind := range []string{"register", "invite", "refer", kindRedirect, kindOther} {
		for _, result := range []string{resultAccept, resultReject, resultChallenge, resultStale, resultForged, resultBadDigest, resultCarrier, resultCarrierSource, resultRouted, resultNoRoute, resultUnregistered, "dropped"} {
			p.requests.WithLabelValues(kind, result)
		}
	}
	p.requests.WithLabelValues(kindNone, "dropped")
	if err := d.Metrics.Register(p.requests); err != nil {
		return nil, err
	}
	return p, nil
}

// Client implements nas.Profile.
func (p *profile) Client(options any) (nas.Handler, error) {
	o, ok := options.(Options)
	if !ok {
		// A client without a firebrick block: the defaults.
		decoded, err := decodeOptions(nil)
		if err != nil {
			return nil, err
		}
		o = decoded.(Options)
	}
	return &client{
		p:        p,
		approver: approver{o: o, records: p.Records, now: p.now},
		router:   router{o: o, records: p.Records, now: p.now},
	}, nil
}

type client struct {
	p        *profile
	approver approver
	router   router
}

// ServeAccess implements nas.Handler: INVITE and REFER are routed, any
// other SIP request approved by the user's digest.
func (c *client) ServeAccess(ctx context.Context, req *nas.Request) (*radius.Packet, error) {
	p := req.Packet
	method := sipattr.DigestMethod_GetString(p)
	if method == "" {
		// The FireBrick always names the method (spec A.1): this is not
		// one of its SIP requests.
		c.p.requests.WithLabelValues(kindNone, "dropped").Inc()
		req.Kind = kindNone
		return nil, &nas.Drop{Reason: nas.ReasonMalformed, Err: errors.New("Digest-Method missing: not a FireBrick SIP request")}
	}
	kind, ok := requestKinds[method]
	if !ok {
		kind = kindOther
	}
	call := method == "INVITE" || method == "REFER"
	if _, err := rfc2866.AcctTerminateCause_Lookup(p); err == nil && call {
		// A 3xx from a telephone leg: the FireBrick asks for a new
		// routing decision, with the raw SIP code (301, 302) as the
		// cause (spec A.1). It is routed as the call was. Only a call
		// has legs: on another method the attribute is ignored, lest a
		// REGISTER carrying it be routed, and accepted, instead of
		// approved by its digest.
		kind = kindRedirect
	}
	req.Kind = kind
	var (
		reply  *radius.Packet
		result string
		err    error
	)
	if call {
		reply, result, err = c.call(ctx, p, method)
	} else {
		reply, result, err = c.approver.approve(ctx, p, method)
	}
	if err != nil {
		result = "dropped"
	}
	c.p.requests.WithLabelValues(kind, result).Inc()
	return reply, err
}

// call decides an INVITE or REFER (or the new decision after a 3xx): the
// caller is a carrier or a local phone the FireBrick has validated, or a
// SIP user whose digest checks, and then the call is routed.
func (c *client) call(ctx context.Context, p *radius.Packet, method string) (*radius.Packet, string, error) {
	user := rfc2865.UserName_GetString(p)
	_, local := p.Attributes.Lookup(rfc4372.ChargeableUserIdentity_Type)
	var from *carrierv1.Carrier
	switch {
	case strings.HasPrefix(user, "@"):
		// "@carrier": a carrier the FireBrick validated, which kradius
		// must know too.
		carrier, reject, result, err := carrierOf(ctx, c.p.Records, p, user[1:])
		if carrier == nil {
			return reject, result, err
		}
		from = carrier
	case local:
		// A CUI: a phone configured on the FireBrick, checked against its
		// own password.
	case sipattr.DigestResponse_GetString(p) == "":
		reply, err := c.approver.challenge(p, false)
		return reply, resultChallenge, err
	default:
		reply, result, err := c.approver.approve(ctx, p, method)
		if err != nil || reply.Code != radius.CodeAccessAccept {
			return reply, result, err
		}
	}
	reply, result, err := c.router.route(ctx, p)
	if err != nil || from == nil {
		return reply, result, err
	}
	return fromCarrier(p, reply, from), result, nil
}

// fromCarrier completes the answer to a carrier's call: its CUI for the
// originating leg when the FireBrick sent none (attributes before the
// first SIP-AOR are that leg's), and its message in a Reject that has none.
func fromCarrier(req, reply *radius.Packet, c *carrierv1.Carrier) *radius.Packet {
	switch reply.Code {
	case radius.CodeAccessAccept:
		if _, ok := req.Attributes.Lookup(rfc4372.ChargeableUserIdentity_Type); !ok && c.GetCui() != "" {
			reply.Attributes = append(radius.Attributes{{Type: rfc4372.ChargeableUserIdentity_Type, Attribute: radius.Attribute(c.GetCui())}}, reply.Attributes...)
		}
	case radius.CodeAccessReject:
		if _, ok := reply.Attributes.Lookup(rfc2865.ReplyMessage_Type); !ok && c.GetRejectMessage() != "" {
			reply.Add(rfc2865.ReplyMessage_Type, radius.Attribute(c.GetRejectMessage()))
		}
	}
	return reply
}

// ServeAccounting implements nas.AccountingHandler: a record per call
// leg's Start, Interim-Update and Stop, the RFC attributes by name and the
// others (Digest-*, SIP-AOR) by number, keyed in the log by the call
// (Acct-Multi-Session-Id, the SIP Call-ID) so that the consumer sees a
// call's legs in order and builds its CDR (calls.go).
func (c *client) ServeAccounting(_ context.Context, req *nas.AccountingRequest, dst []byte) (accounting.Record, error) {
	rec, err := nas.Record(dst, req, Plugin.Name, c.p.host, c.p.dict)
	if err != nil {
		return rec, err
	}
	for t, call := range nas.RawAttributes(req.Raw) {
		if t != rfc2866.AcctMultiSessionID_Type || len(call) == 0 {
			continue
		}
		// A copy: req.Raw goes back to the edge's pool before the log is
		// done with the key.
		rec.Key = bytes.Clone(call)
		break
	}
	return rec, nil
}
