package faxback

import (
	"context"
	"errors"
	"strings"

	"layeh.com/radius"

	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/faxback/fbdata"
)

// Call-ahead values sent to the fax ATA: the seed treats the attribute as a
// yes/no flag in these replies.
const (
	callAheadNo  = 0
	callAheadYes = 1
)

// callAheadMode answers Get-Call-Ahead-Mode / Pre-Send-Session from the
// called-numbers database alone. The port server sends it only for an
// account in Dynamic mode, and the request names no sending account: the
// "otheraccount;" of a send on behalf of names the billing account, whose
// setting is not what made the port server ask. An unknown number gets 1.
// It is always an Accept: a missing answer makes the ATA call ahead anyway.
func (h *handler) callAheadMode(ctx context.Context, q *query) (*radius.Packet, error) {
	mode, err := h.calledNumberMode(ctx, q.userName())
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	num(r, fbattr.FBCallAheadMode_Add, mode, true)
	return r.done()
}

// callAhead is FB-Call-Ahead-Mode in a Pre-Send-Session for a Queue transfer.
// The seed's port server tells ATAs to Never or Always call ahead, or asks
// the called-numbers database; only a Dynamic account's answer comes from
// the database, so a voice error cannot make a Never account call ahead nor
// a verified fax number stop an Always account from doing so.
func (h *handler) callAhead(ctx context.Context, dial string, a fbdata.Account) (uint32, error) {
	switch a.CallAheadModeValue() {
	case uint32(fbattr.FBCallAheadMode_Value_Never):
		return callAheadNo, nil
	case uint32(fbattr.FBCallAheadMode_Value_Always):
		return callAheadYes, nil
	}
	return h.calledNumberMode(ctx, dial)
}

// calledNumberMode looks a dialled number up in the called-numbers database.
// A voice answer ever seen wins (it is sticky, the line may be shared), then
// a verified fax device; a number it does not know gets 1, the seed's
// default.
func (h *handler) calledNumberMode(ctx context.Context, dial string) (uint32, error) {
	// Send on-behalf-of puts the billing account in front: "otheraccount;5551231234".
	if i := strings.LastIndexByte(dial, ';'); i >= 0 {
		dial = dial[i+1:]
	}
	if dial == "" {
		return callAheadYes, nil
	}
	n, err := h.dids.CalledNumber(ctx, dial)
	switch {
	case errors.Is(err, fbdata.ErrNotFound):
		return callAheadYes, nil
	case err != nil:
		return 0, err
	case n.VoiceError:
		return callAheadYes, nil
	case n.FaxVerified:
		return callAheadNo, nil
	}
	return callAheadYes, nil
}
