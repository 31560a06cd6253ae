package faxback

import (
	"context"
	"errors"
	"fmt"

	"layeh.com/radius"

	"kradius.dev/services/dids"
	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/faxback/fbdata"
)

// didAccount resolves the DID in User-Name and the account it routes to.
func (h *handler) didAccount(ctx context.Context, q *query) (fbdata.DID, fbdata.Account, error) {
	number := q.userName()
	if number == "" {
		return fbdata.DID{}, fbdata.Account{}, reject("User-Name (the DID) missing")
	}
	r, err := h.dids.Route(ctx, number)
	if errors.Is(err, fbdata.ErrNotFound) {
		return r.DID, fbdata.Account{}, reject("unknown DID %q", number)
	}
	if err != nil {
		// dids.ErrDanglingDID among them: the store keeps DIDs pointing at
		// accounts that exist, so a miss there is an inconsistency, not an
		// answer, and must not become a Reject.
		return r.DID, fbdata.Account{}, err
	}
	if r.HasAccount {
		return r.DID, r.Account, nil
	}
	// An older dids service: ask the accounts service.
	a, err := h.accounts.Get(ctx, r.DID.Account)
	if errors.Is(err, fbdata.ErrNotFound) {
		err = dids.ErrDanglingDID
	}
	if err != nil {
		return r.DID, a, fmt.Errorf("DID %q routes to account %q: %w", number, r.DID.Account, err)
	}
	return r.DID, a, nil
}

// fromDIDPreReceive answers Get-Account-From-DID / Pre-Receive-Session:
// inbound routing. A known but disabled DID gets FB-DID-Enabled=0.
func (h *handler) fromDIDPreReceive(ctx context.Context, q *query) (*radius.Packet, error) {
	d, a, err := h.didAccount(ctx, q)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	r.userName(a.Name)
	num(r, fbattr.FBDIDEnabled_Add, 0, d.Disabled)
	return r.done()
}

// fromDIDExternal answers Get-Account-From-DID / For-External-Module: the
// e-mail gateway's route. Without an e-mail address there is no route, which
// the seed answers with a Reject.
func (h *handler) fromDIDExternal(ctx context.Context, q *query) (*radius.Packet, error) {
	d, a, err := h.didAccount(ctx, q)
	if err != nil {
		return nil, err
	}
	if a.RcvEmail == "" {
		return nil, reject("account %q has no receive e-mail address", a.Name)
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	r.userName(a.Name)
	r.str(fbattr.FBRcvEmail_AddString, a.RcvEmail)
	num(r, fbattr.FBDIDEnabled_Add, 0, d.Disabled)
	num(r, fbattr.FBRcvFormat_Add, a.RcvFormatValue(), a.RcvFormat != "")
	return r.done()
}

// didPreSend answers Get-DID / Pre-Send-Session: per-line settings for the
// ANI of a fax ATA's send. No matching DID is not an error: the seed asks for
// an empty Accept, because a Reject would end the fax session.
func (h *handler) didPreSend(ctx context.Context, q *query) (*radius.Packet, error) {
	reply, err := h.didSettings(ctx, q)
	var no *rejection
	if errors.As(err, &no) {
		return newReply(q.pkt, radius.CodeAccessAccept).done()
	}
	return reply, err
}

// didExternal answers Get-DID / For-External-Module, for fax ATA
// provisioning. The manual also labels Get-DIDs-For-Account as command 8, so
// a User-Name that is no DID but an account, or an FB-Account-UUID, is
// answered as Get-DIDs-For-Account.
func (h *handler) didExternal(ctx context.Context, q *query) (*radius.Packet, error) {
	if _, ok, _ := q.fb.Lookup(attrAccountUUID); ok {
		return h.didsForAccount(ctx, q)
	}
	reply, err := h.didSettings(ctx, q)
	var no *rejection
	if !errors.As(err, &no) {
		return reply, err
	}
	if _, err := h.accounts.Get(ctx, q.userName()); err == nil {
		return h.didsForAccount(ctx, q)
	}
	return nil, err
}

// didSettings is the reply to Get-DID in either context: the account the DID
// maps to (and its UUID in UUID mode, which the port server compares with the
// sender), and the line's queue profile, ANI, number and name.
func (h *handler) didSettings(ctx context.Context, q *query) (*radius.Packet, error) {
	d, a, err := h.didAccount(ctx, q)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	r.userName(a.Name)
	if h.uuidMode() {
		h.addUUID(r, fbattr.FBAccountUUID_Add, a.UUID)
	}
	r.str(fbattr.FBQueueProfile_AddString, d.QueueProfile)
	r.str(fbattr.FBSndANI_AddString, d.ANI)
	if d.LineNum != nil {
		num(r, fbattr.FBLineNum_Add, *d.LineNum, true)
	}
	r.str(fbattr.FBLineID_AddString, d.LineID)
	return r.done()
}

// didsForAccount answers Get-DIDs-For-Account / For-External-Module: one
// FB-DID per DID of the account, an empty Accept when it has none.
func (h *handler) didsForAccount(ctx context.Context, q *query) (*radius.Packet, error) {
	a, err := h.identify(ctx, q)
	if err != nil {
		return nil, err
	}
	dids, err := h.dids.DIDsForAccount(ctx, a.Name)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	for _, d := range dids {
		r.str(fbattr.FBDID_AddString, d.Number)
	}
	return r.done()
}
