// Package nas is the contract between the edge and the NAS profiles
// (faxback, and later firebrick, dialogic). The edge authenticates a packet and
// hands it to the profile of the client that sent it; the profile decides.
package nas

import (
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"net/netip"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	"kradius.dev/services/accounting"
	"kradius.dev/services/password"
)

// Request is an authenticated Access-Request.
type Request struct {
	// Packet is parsed with the client's secret, so User-Password can be decoded.
	Packet *radius.Packet
	// Client is the name of the client-table entry the packet came from.
	Client string
	// Source is the NAS's address and port; Received is when it arrived.
	Source   netip.AddrPort
	Received time.Time
	// Kind is set by the handler to what was asked, in its profile's terms
	// (a FaxBack command, a SIP method): a label of the edge's request
	// counter and a span attribute, so a bounded set of values, never
	// taken from the packet as is.
	Kind string
}

// Handler answers Access-Requests for one NAS family.
//
// It returns the reply to send (built with req.Packet.Response), or an error,
// in which case the edge sends nothing: the NAS retries and fails over. That is
// the only safe answer when a backend is down, because an Access-Reject tells
// the NAS the account really does not exist.
type Handler interface {
	ServeAccess(ctx context.Context, req *Request) (*radius.Packet, error)
}

// AccountingRequest is an authenticated Accounting-Request. It is not
// parsed into a radius.Packet: the record is encoded from the wire bytes.
type AccountingRequest struct {
	// Raw is the packet as received, its authenticator and attribute
	// framing checked; valid only until ServeAccounting returns.
	Raw []byte
	// Client, Source and Received are as in Request.
	Client   string
	Source   netip.AddrPort
	Received time.Time
	// Kind is as in Request (an Acct-Status-Type, a Dialogic start type).
	Kind string
}

// AccountingHandler turns Accounting-Requests into records for the
// accounting log; a profile without it has its accounting dropped.
type AccountingHandler interface {
	// ServeAccounting appends the record of req to dst (the edge reuses
	// its buffers) and returns it.
	ServeAccounting(ctx context.Context, req *AccountingRequest, dst []byte) (accounting.Record, error)
}

// Record encodes req as the accounting record of profile, with every
// attribute d knows decoded by name; edge is the host name the record
// carries. A request without Acct-Session-Id, or one that does not parse, is
// a Drop with its reason.
func Record(dst []byte, req *AccountingRequest, profile, edge string, d *accounting.Dictionary) (accounting.Record, error) {
	req.Kind = StatusKind(req.Raw)
	r, err := accounting.AppendRecord(dst, req.Raw, accounting.Meta{
		Client: req.Client, Address: req.Source.String(), Profile: profile, Edge: edge, Received: req.Received,
	}, d)
	switch {
	case errors.Is(err, accounting.ErrNoSessionID):
		return accounting.Record{}, &Drop{Reason: ReasonNoSessionID, Err: err}
	case err != nil:
		return accounting.Record{}, &Drop{Reason: ReasonMalformed, Err: err}
	}
	return r, nil
}

// statusKinds name the Acct-Status-Type values (RFC 2866, 3580) as request
// kinds; any other value is "other".
var statusKinds = map[uint32]string{1: "start", 2: "stop", 3: "interim", 7: "accounting-on", 8: "accounting-off"}

// StatusKind is the request kind of an Accounting-Request: its
// Acct-Status-Type by name, "other", or "none" when it has none.
func StatusKind(pkt []byte) string {
	for t, v := range RawAttributes(pkt) {
		if t != rfc2866.AcctStatusType_Type {
			continue
		}
		if len(v) == 4 {
			if k, ok := statusKinds[binary.BigEndian.Uint32(v)]; ok {
				return k
			}
		}
		return "other"
	}
	return "none"
}

// RawAttributes are the attributes of a packet as it came off the wire, in
// order, without parsing it into a radius.Packet (accounting parses none):
// each type and value, up to the first whose framing is broken. The
// values alias pkt.
func RawAttributes(pkt []byte) iter.Seq2[radius.Type, []byte] {
	return func(yield func(radius.Type, []byte) bool) {
		for b := pkt[min(len(pkt), 20):]; len(b) >= 2 && int(b[1]) >= 2 && int(b[1]) <= len(b); b = b[b[1]:] {
			if !yield(radius.Type(b[0]), b[2:b[1]]) {
				return
			}
		}
	}
}

// Drop is an error that tells the edge why it sent no reply, as a counter label.
type Drop struct {
	Reason string
	Err    error
}

func (d *Drop) Error() string { return d.Reason + ": " + d.Err.Error() }
func (d *Drop) Unwrap() error { return d.Err }

// Drop reasons a profile may return. A handler error wrapping
// password.ErrOverloaded is counted as ReasonPasswordOverload, and anything
// else as ReasonBackend.
const (
	ReasonMalformed        = "malformed"
	ReasonNoSessionID      = "no_session_id"
	ReasonBadAuthenticator = "bad_authenticator"
	ReasonUnsupported      = "unsupported_command"
	ReasonBackend          = "backend_error"
	// ReasonPasswordOverload is a password check refused a turn at argon2
	// (password.MaxWaiting), here or in the accounts service: load shed,
	// not a backend failing.
	ReasonPasswordOverload = "password_overload"
)

// DropReason is the counter label for a handler error.
func DropReason(err error) string {
	var d *Drop
	if errors.As(err, &d) {
		return d.Reason
	}
	if errors.Is(err, password.ErrOverloaded) {
		return ReasonPasswordOverload
	}
	return ReasonBackend
}
