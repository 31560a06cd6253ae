// Package generic is the profile for a NAS with no vendor logic: RFC 2865
// PAP logins against the accounts store, and RFC 2866 accounting. It is the
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

	"kradius.dev/services/accounting"
	"kradius.dev/services/accounts"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
)

// Plugin is the generic profile as services/nas/profiles lists it.
var Plugin = nas.Plugin{
	Name:    "generic",
	Summary: "Any RFC 2865/2866 NAS: PAP logins against the accounts store, and accounting",
	Options: func(block *yaml.Node) (any, error) {
		return nil, nas.DecodeOptions(block, &struct{}{}) // no options yet
	},
	New: newProfile,
	// Its data is the accounts store's accounts, and its CDRs carry the
	// common fields only: no Kinds, no Sessions.
}

// Results of kradius_generic_requests_total.
const (
	resultAccept          = "accept"
	resultReject          = "reject"
	resultCHAPUnsupported = "chap_unsupported"
	resultDropped         = "dropped"
)

type profile struct {
	accounts nas.Accounts
	dict     *accounting.Dictionary
	host     string
	requests *prometheus.CounterVec
}

func newProfile(d nas.Deps) (nas.Profile, error) {
	dict, err := accounting.NewDictionary() // RFC attributes only
	if err != nil {
		return nil, err
	}
	p := &profile{accounts: d.Accounts, dict: dict, host: d.Host,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_generic_requests_total",
			Help: "Access-Requests of generic clients by result (accept, reject, chap_unsupported, dropped).",
		}, []string{"result"}),
	}
	for _, r := range []string{resultAccept, resultReject, resultCHAPUnsupported, resultDropped} {
		p.requests.WithLabelValues(r)
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
	reply, result, err := p.decide(ctx, req.Packet)
	p.requests.WithLabelValues(result).Inc()
	return reply, err
}

func (p *profile) decide(ctx context.Context, pkt *radius.Packet) (*radius.Packet, string, error) {
	name := rfc2865.UserName_GetString(pkt)
	if name == "" {
		return reject(pkt, "User-Name missing"), resultReject, nil
	}
	if _, ok := pkt.Attributes.Lookup(rfc2865.CHAPPassword_Type); ok {
		// A CHAP response can only be checked against the password itself,
		// and the accounts store keeps salted hashes only (DESIGN.md §5).
		return reject(pkt, "CHAP is not supported: the accounts store keeps no clear passwords; use PAP"), resultCHAPUnsupported, nil
	}
	pw, err := nas.PAPPassword(pkt)
	if errors.Is(err, nas.ErrNoPassword) {
		return reject(pkt, "User-Password missing"), resultReject, nil
	}
	if err != nil {
		return nil, resultDropped, err
	}
	_, err = p.accounts.Authenticate(ctx, name, pw)
	switch {
	case errors.Is(err, fbdata.ErrNotFound), errors.Is(err, accounts.ErrWrongPassword):
		// One message for both, so that a Reject does not tell which names exist.
		return reject(pkt, "login failed"), resultReject, nil
	case err != nil:
		return nil, resultDropped, fmt.Errorf("authenticate %q: %w", name, err)
	}
	return pkt.Response(radius.CodeAccessAccept), resultAccept, nil
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
