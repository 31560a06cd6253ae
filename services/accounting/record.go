package accounting

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
)

// Meta is what the edge knows of a request beyond its attributes.
type Meta struct {
	Client, Address, Profile, Edge string
	Received                       time.Time
}

var (
	// ErrNoSessionID: a record without Acct-Session-Id cannot be keyed,
	// deduplicated or billed.
	ErrNoSessionID = errors.New("no Acct-Session-Id")
	// ErrNoStatusType: without Acct-Status-Type a record is neither start nor stop.
	ErrNoStatusType = errors.New("no Acct-Status-Type")
)

// BuildRecord decodes an authenticated Accounting-Request.
func BuildRecord(p *radius.Packet, m Meta, d *Dictionary) (*accountingv1.Record, error) {
	sid, err := rfc2866.AcctSessionID_LookupString(p)
	if err != nil || sid == "" {
		return nil, ErrNoSessionID
	}
	st, err := rfc2866.AcctStatusType_Lookup(p)
	if err != nil {
		return nil, ErrNoStatusType
	}
	attrs, err := d.Decode(p)
	if err != nil {
		return nil, fmt.Errorf("decoding attributes: %w", err)
	}
	r := &accountingv1.Record{
		SessionId:       sid,
		StatusTypeValue: uint32(st),
		NasClient:       m.Client,
		NasAddress:      m.Address,
		Profile:         m.Profile,
		Received:        timestamppb.New(m.Received),
		Edge:            m.Edge,
		Attributes:      attrs,
		Identifier:      uint32(p.Identifier),
	}
	if _, known := accountingv1.StatusType_name[int32(st)]; known {
		r.StatusType = accountingv1.StatusType(st)
	}
	for _, a := range attrs {
		if a.GetName() == "User-Name" {
			r.UserName = a.GetText()
			break
		}
	}
	return r, nil
}
