// Package generic is the profile for a NAS with no vendor logic: RFC 2865
// PAP and CHAP logins of its own users, and RFC 2866 accounting. It is the
// smallest profile, and the one to copy when adding a NAS family
// (services/nas/README.md, "Adding a profile").
package generic

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	genericv1 "kradius.dev/proto/kradius/generic/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/nas"
	"kradius.dev/services/store/records"
)

// Plugin is the generic profile as services/nas/profiles lists it.
var Plugin = nas.Plugin{
	Name:    "generic",
	Summary: "Any RFC 2865/2866 NAS: PAP and CHAP logins of its users, and accounting",
	Options: func(block *yaml.Node) (any, error) {
		return nil, nas.DecodeOptions(block, &struct{}{}) // no options yet
	},
	New: newProfile,
	// Its CDRs carry the common fields only: no Sessions.
	Kinds: []nas.Kind{users},
}

// Labels of kradius_generic_requests_total.
const (
	methodPAP  = "pap"
	methodCHAP = "chap"
	methodNone = "none"

	resultAccept  = "accept"
	resultReject  = "reject"
	resultDropped = "dropped"
)

type profile struct {
	records  nas.Records
	dict     *accounting.Dictionary
	host     string
	requests *prometheus.CounterVec
}

func newProfile(d nas.Deps) (nas.Profile, error) {
	dict, err := accounting.NewDictionary() // RFC attributes only
	if err != nil {
		return nil, err
	}
	p := &profile{records: d.Records, dict: dict, host: d.Host,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_generic_requests_total",
			Help: "Access-Requests of generic clients by login method (pap, chap, none) and result (accept, reject, dropped).",
		}, []string{"method", "result"}),
	}
	for _, m := range []string{methodPAP, methodCHAP, methodNone} {
		for _, r := range []string{resultAccept, resultReject, resultDropped} {
			p.requests.WithLabelValues(m, r)
		}
	}
	if err := d.Metrics.Register(p.requests); err != nil {
		return nil, err
	}
	return p, nil
}

// Client implements nas.Profile: every client is served the same way.
func (p *profile) Client(any) (nas.Handler, error) { return p, nil }

// ServeAccess implements nas.Handler.
func (p *profile) ServeAccess(ctx context.Context, req *nas.Request) (*radius.Packet, error) {
	method, cred, why, err := credential(req.Packet)
	req.Kind = method
	switch {
	case err != nil:
		p.requests.WithLabelValues(method, resultDropped).Inc()
		return nil, err
	case cred == nil:
		p.requests.WithLabelValues(method, resultReject).Inc()
		return reject(req.Packet, why), nil
	}
	reply, result, err := p.login(ctx, req.Packet, cred)
	p.requests.WithLabelValues(method, result).Inc()
	return reply, err
}

// credential reads the login method and its proof from the request: nil
// and the reason to give in a Reject when it has none; an error (a
// nas.Drop) for a request that must get no reply, such as a User-Password
// that decodes to noise under a wrong secret.
func credential(pkt *radius.Packet) (method string, c *recordsv1.Credential, why string, err error) {
	if rfc2865.UserName_GetString(pkt) == "" {
		return methodNone, nil, "User-Name missing", nil
	}
	if chap, ok := pkt.Attributes.Lookup(rfc2865.CHAPPassword_Type); ok {
		if len(chap) != 17 {
			return methodCHAP, nil, "", &nas.Drop{Reason: nas.ReasonMalformed, Err: fmt.Errorf("CHAP-Password is %d octets, not 17", len(chap))}
		}
		// RFC 2865 5.3: without CHAP-Challenge, the Request Authenticator
		// is the challenge.
		challenge, ok := pkt.Attributes.Lookup(rfc2865.CHAPChallenge_Type)
		if !ok {
			challenge = pkt.Authenticator[:]
		}
		return methodCHAP, &recordsv1.Credential{Method: &recordsv1.Credential_Chap{Chap: &recordsv1.Chap{
			Id: uint32(chap[0]), Challenge: challenge, Response: chap[1:],
		}}}, "", nil
	}
	pw, err := nas.PAPPassword(pkt)
	switch {
	case errors.Is(err, nas.ErrNoPassword):
		return methodNone, nil, "User-Password or CHAP-Password missing", nil
	case err != nil:
		return methodPAP, nil, "", err
	}
	return methodPAP, &recordsv1.Credential{Method: &recordsv1.Credential_Pap{Pap: &recordsv1.Pap{Password: pw}}}, "", nil
}

func (p *profile) login(ctx context.Context, pkt *radius.Packet, c *recordsv1.Credential) (*radius.Packet, string, error) {
	name := rfc2865.UserName_GetString(pkt)
	m, err := p.records.Verify(ctx, KindUsers, name, c)
	switch {
	case errors.Is(err, records.ErrNotFound), errors.Is(err, nas.ErrWrongCredential):
		// One message for both, so that a Reject does not tell which names exist.
		return reject(pkt, "login failed"), resultReject, nil
	case err != nil:
		return nil, resultDropped, fmt.Errorf("verify %q: %w", name, err)
	}
	accept := pkt.Response(radius.CodeAccessAccept)
	if msg := m.(*genericv1.User).GetReplyMessage(); msg != "" {
		if err := rfc2865.ReplyMessage_SetString(accept, msg); err != nil {
			return nil, resultDropped, fmt.Errorf("user %q: Reply-Message: %w", name, err)
		}
	}
	return accept, resultAccept, nil
}

func reject(pkt *radius.Packet, msg string) *radius.Packet {
	r := pkt.Response(radius.CodeAccessReject)
	_ = rfc2865.ReplyMessage_SetString(r, msg) // a short constant always fits
	return r
}

// ServeAccounting implements nas.AccountingHandler: the record of any
// Accounting-Request, with the RFC attributes by name and others by number.
func (p *profile) ServeAccounting(_ context.Context, req *nas.AccountingRequest, dst []byte) (accounting.Record, error) {
	return nas.Record(dst, req, Plugin.Name, p.host, p.dict)
}
