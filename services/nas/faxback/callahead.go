package faxback

import (
	"context"
	"errors"
	"strings"

	"layeh.com/radius"

	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/store"
)

// Call-ahead values sent to the fax ATA: the seed treats the attribute as a
// yes/no flag in these replies.
const (
	callAheadNo  = 0
	callAheadYes = 1
)

// callAheadMode answers Get-Call-Ahead-Mode / Pre-Send-Session. The seed
// sends it only for accounts in Dynamic mode, so an unknown number gets 1.
// It is always an Accept: a missing answer makes the ATA call ahead anyway.
func (h *handler) callAheadMode(ctx context.Context, q *query) (*radius.Packet, error) {
	mode, err := h.calledNumberMode(ctx, q.userName(), callAheadYes)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	num(r, fbattr.FBCallAheadMode_Add, mode, true)
	return r.done()
}

// callAhead is FB-Call-Ahead-Mode in a Pre-Send-Session for a Queue transfer:
// the called-numbers database first, then the account's own mode
// (Never → 0; Dynamic and Always → 1).
func (h *handler) callAhead(ctx context.Context, dial string, a store.Account) (uint32, error) {
	fallback := uint32(callAheadYes)
	if a.CallAheadModeValue() == uint32(fbattr.FBCallAheadMode_Value_Never) {
		fallback = callAheadNo
	}
	return h.calledNumberMode(ctx, dial, fallback)
}

// calledNumberMode looks a dialled number up in the called-numbers database.
// A voice answer ever seen wins (it is sticky, the line may be shared), then
// a verified fax device; otherwise fallback.
func (h *handler) calledNumberMode(ctx context.Context, dial string, fallback uint32) (uint32, error) {
	// Send on-behalf-of puts the billing account in front: "otheraccount;5551231234".
	if i := strings.LastIndexByte(dial, ';'); i >= 0 {
		dial = dial[i+1:]
	}
	if dial == "" {
		return fallback, nil
	}
	n, err := h.dids.CalledNumber(ctx, dial)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fallback, nil
	case err != nil:
		return 0, err
	case n.VoiceError:
		return callAheadYes, nil
	case n.FaxVerified:
		return callAheadNo, nil
	}
	return fallback, nil
}
