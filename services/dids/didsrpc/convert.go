// Package didsrpc puts the dids service on gRPC: the server adapter for
// -target=dids and the client the edge uses, both speaking store types.
package didsrpc

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	didsv1 "kradius.dev/proto/kradius/dids/v1"
	"kradius.dev/services/nas/faxback/fbdata"
)

// ToProto converts a DID for the wire.
func ToProto(d fbdata.DID) *didsv1.DID {
	p := &didsv1.DID{Number: d.Number, Account: d.Account, Disabled: d.Disabled, LineId: d.LineID, QueueProfile: d.QueueProfile, Ani: d.ANI}
	if d.LineNum != nil {
		p.HasLineNum, p.LineNum = true, *d.LineNum
	}
	return p
}

// FromProto converts a DID from the wire.
func FromProto(p *didsv1.DID) fbdata.DID {
	if p == nil {
		return fbdata.DID{}
	}
	d := fbdata.DID{Number: p.Number, Account: p.Account, Disabled: p.Disabled, LineID: p.LineId, QueueProfile: p.QueueProfile, ANI: p.Ani}
	if p.HasLineNum {
		n := p.LineNum
		d.LineNum = &n
	}
	return d
}

// CalledToProto converts a called-numbers entry for the wire.
func CalledToProto(c fbdata.CalledNumber) *didsv1.CalledNumber {
	p := &didsv1.CalledNumber{Number: c.Number, FaxVerified: c.FaxVerified, VoiceError: c.VoiceError}
	if !c.Updated.IsZero() {
		p.Updated = timestamppb.New(c.Updated)
	}
	return p
}

// CalledFromProto converts a called-numbers entry from the wire.
func CalledFromProto(p *didsv1.CalledNumber) fbdata.CalledNumber {
	if p == nil {
		return fbdata.CalledNumber{}
	}
	c := fbdata.CalledNumber{Number: p.Number, FaxVerified: p.FaxVerified, VoiceError: p.VoiceError}
	if p.Updated != nil {
		c.Updated = p.Updated.AsTime().In(time.UTC)
	}
	return c
}
