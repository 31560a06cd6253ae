package firebrick

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/firebrick/nonce"
	"kradius.dev/services/nas/firebrick/sipattr"
	"kradius.dev/services/store/records"
)

// Results of an approval, for the profile's request counter.
const (
	resultAccept    = "accept"
	resultReject    = "reject"
	resultChallenge = "challenge"
	resultStale     = "stale"
	resultForged    = "forged_nonce"
	resultBadDigest = "bad_digest"
	resultCarrier   = "unknown_carrier"
)

// approver decides the SIP requests that are approved by the user's
// digest (REGISTER, SUBSCRIBE, OPTIONS, ...): not INVITE and REFER, which
// are routed.
type approver struct {
	o       Options
	records nas.Records
	now     func() time.Time
}

// approve answers an Access-Request for method. A request without a
// digest response is challenged; one with a response is checked against
// the user's HA1 for its realm, in the accounts service.
func (a *approver) approve(ctx context.Context, p *radius.Packet, method string) (*radius.Packet, string, error) {
	user := rfc2865.UserName_GetString(p)
	if name, ok := strings.CutPrefix(user, "@"); ok {
		// "@name" is a carrier the FireBrick has validated (it strips a
		// telephone's leading @s, seed): not a SIP user, and approved if
		// kradius knows it too.
		c, reject, result, err := carrierOf(ctx, a.records, p, name)
		if c == nil {
			return reject, result, err
		}
		return p.Response(radius.CodeAccessAccept), resultAccept, nil
	}
	if name := sipattr.DigestUsername_GetString(p); name != "" {
		user = name
	}
	response := sipattr.DigestResponse_GetString(p)
	if response == "" || user == "" {
		reply, err := a.challenge(p, false)
		return reply, resultChallenge, err
	}
	if a.o.Challenge == ChallengeKradius {
		switch err := a.o.signer.Check(sipattr.DigestNonce_GetString(p), a.now()); {
		case errors.Is(err, nonce.ErrStale):
			reply, err := a.challenge(p, true)
			return reply, resultStale, err
		case err != nil:
			return p.Response(radius.CodeAccessReject), resultForged, nil
		}
	}
	cred := &recordsv1.Credential{Method: &recordsv1.Credential_Digest{Digest: &recordsv1.Digest{
		Realm: sipattr.DigestRealm_GetString(p), Method: method, Uri: sipattr.DigestURI_GetString(p),
		Nonce: sipattr.DigestNonce_GetString(p), NonceCount: sipattr.DigestNonceCount_GetString(p),
		Cnonce: sipattr.DigestCNonce_GetString(p), Qop: sipattr.DigestQop_GetString(p),
		Algorithm: sipattr.DigestAlgorithm_GetString(p), BodyHash: sipattr.DigestEntityBodyHash_GetString(p),
		Response: response,
	}}}
	m, err := a.records.Verify(ctx, KindUsers, user, cred)
	switch {
	case errors.Is(err, records.ErrNotFound), errors.Is(err, nas.ErrWrongCredential):
		// No Reply-Message: a non-local requester then gets no error
		// (seed), and nothing tells which names exist.
		return p.Response(radius.CodeAccessReject), resultReject, nil
	case errors.Is(err, records.ErrInvalid):
		// A digest that cannot be checked (a response not 32 hex digits,
		// an unknown algorithm or qop): refused, and counted apart.
		return p.Response(radius.CodeAccessReject), resultBadDigest, nil
	case err != nil:
		return nil, "", fmt.Errorf("verify SIP user %q: %w", user, err)
	}
	u := m.(*firebrickv1.User)
	if len(u.GetMethods()) > 0 && !slices.Contains(u.GetMethods(), method) {
		return p.Response(radius.CodeAccessReject), resultReject, nil
	}
	accept := p.Response(radius.CodeAccessAccept)
	if method == "REGISTER" {
		if err := a.registered(ctx, p, accept, u); err != nil {
			return nil, "", err
		}
	}
	return accept, resultAccept, nil
}

// registered fills a REGISTER Accept: the user's number as a tel: binding,
// the registration's lifetime, and the redirect contact if it has one. A
// user with neither number nor redirect has its contact kept by kradius.
func (a *approver) registered(ctx context.Context, req, accept *radius.Packet, u *firebrickv1.User) error {
	number := u.GetExtension()
	if number == "" && len(u.GetDdi()) > 0 {
		number = u.GetDdi()[0]
	}
	if number != "" {
		set := rfc2865.CalledStationID_SetString
		if a.o.RegisterBinding == BindCalling {
			set = rfc2865.CallingStationID_SetString
		}
		if err := set(accept, "tel:"+number); err != nil {
			return err
		}
	}
	expires := a.o.MaxRegistration
	if asked, err := rfc2865.SessionTimeout_Lookup(req); err == nil {
		expires = min(time.Duration(asked)*time.Second, expires)
	}
	if err := rfc2865.SessionTimeout_Set(accept, rfc2865.SessionTimeout(expires/time.Second)); err != nil {
		return err
	}
	if c := u.GetRedirectContact(); c != "" {
		accept.Add(radius.Type(a.o.SIPAORAttribute), radius.Attribute(c))
		return nil
	}
	if number == "" {
		return a.register(ctx, req, u.GetName(), expires)
	}
	return nil
}

// challenge is the Access-Challenge of a request without a response:
// empty, for the FireBrick to fill in, or kradius's realm and a signed
// nonce (stale: the previous one expired).
func (a *approver) challenge(p *radius.Packet, stale bool) (*radius.Packet, error) {
	c := p.Response(radius.CodeAccessChallenge)
	if a.o.Challenge != ChallengeKradius {
		return c, nil
	}
	n, err := a.o.signer.Issue(a.now())
	if err != nil {
		return nil, err
	}
	if err := errors.Join(
		sipattr.DigestRealm_SetString(c, a.o.Realm),
		sipattr.DigestNonce_SetString(c, n),
		sipattr.DigestAlgorithm_SetString(c, "MD5"),
		sipattr.DigestQop_SetString(c, "auth"),
	); err != nil {
		return nil, err
	}
	if stale {
		if err := sipattr.DigestStale_SetString(c, "true"); err != nil {
			return nil, err
		}
	}
	return c, nil
}
