package faxback

import (
	"context"
	"errors"

	"layeh.com/radius"

	"kradius.dev/services/accounts"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/faxback/fbdata"
)

// accountLogin answers Get-Account / Account-Login: the password check, with
// what a client needs at login (type, login group, call-ahead setting) and,
// in UUID mode, the account's and its failover account's UUIDs.
func (h *handler) accountLogin(ctx context.Context, q *query) (*radius.Packet, error) {
	a, err := h.authenticate(ctx, q)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	num(r, fbattr.FBAccountType_Add, a.Type, true) // required for fax ATA accounts
	r.str(fbattr.FBAccountLoginGroup_AddString, a.LoginGroup)
	num(r, fbattr.FBCallAheadMode_Add, a.CallAheadModeValue(), a.CallAheadMode != "")
	h.uploadLogs(r, a)
	if h.uuidMode() {
		h.addUUID(r, fbattr.FBAccountUUID_Add, a.UUID)
		h.addFailoverUUID(ctx, r, a)
	}
	return r.done()
}

// accountValidate answers Get-Account / Account-Validate: the password check alone.
func (h *handler) accountValidate(ctx context.Context, q *query) (*radius.Packet, error) {
	a, err := h.authenticate(ctx, q)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	num(r, fbattr.FBAccountType_Add, a.Type, true)
	if h.uuidMode() {
		h.addUUID(r, fbattr.FBAccountUUID_Add, a.UUID)
	}
	return r.done()
}

// authenticate checks User-Name and User-Password. A wrong password and an
// unknown account get the same bare Reject, so a guesser learns nothing.
func (h *handler) authenticate(ctx context.Context, q *query) (fbdata.Account, error) {
	name := q.userName()
	if name == "" {
		return fbdata.Account{}, reject("User-Name missing")
	}
	pw, err := nas.PAPPassword(q.pkt)
	if errors.Is(err, nas.ErrNoPassword) {
		return fbdata.Account{}, reject("User-Password missing")
	}
	if err != nil {
		return fbdata.Account{}, err
	}
	a, err := h.accounts.Authenticate(ctx, name, pw)
	if errors.Is(err, fbdata.ErrNotFound) || errors.Is(err, accounts.ErrWrongPassword) {
		return a, reject("")
	}
	return a, err
}

// accountPreSend answers Get-Account / Pre-Send-Session: what the port
// server needs to start a send. A known account whose sending is off gets an
// Accept with FB-Snd-From-Account=0, as the seed allows, not a Reject.
func (h *handler) accountPreSend(ctx context.Context, q *query) (*radius.Packet, error) {
	a, r, err := h.acceptAccount(ctx, q)
	if err != nil {
		return nil, err
	}
	num(r, fbattr.FBSndOnBehalfOf_Add, 1, a.SendOnBehalfOf)
	if transfer, _, err := q.fb.Uint32(attrTransferType); err != nil {
		return nil, err
	} else if transfer == uint32(fbattr.FBTransferType_Value_Queue) {
		dial, _, err := q.fb.String(attrDialNumber)
		if err != nil {
			return nil, err
		}
		mode, err := h.callAhead(ctx, dial, a)
		if err != nil {
			return nil, err
		}
		num(r, fbattr.FBCallAheadMode_Add, mode, true)
	}
	num(r, fbattr.FBSndFromAccount_Add, 0, a.SendDisabled)
	num(r, fbattr.FBSndTimeExpired_Add, 1, a.SendTimeExpired)
	h.cdrFields(r, a)
	r.str(fbattr.FBSndANI_AddString, a.SndANI)
	r.str(fbattr.FBSndTSID_AddString, a.SndTSID)
	r.str(fbattr.FBRuleGroup_AddString, a.RuleGroup)
	r.str(fbattr.FBQueueProfile_AddString, a.QueueProfile)
	h.uploadLogs(r, a)
	return r.done()
}

// accountPreReceive answers Get-Account / Pre-Receive-Session. A known
// account whose receiving is off gets FB-Rcv-To-Account=0, not a Reject.
func (h *handler) accountPreReceive(ctx context.Context, q *query) (*radius.Packet, error) {
	a, r, err := h.acceptAccount(ctx, q)
	if err != nil {
		return nil, err
	}
	num(r, fbattr.FBRcvToAccount_Add, 0, a.ReceiveDisabled)
	num(r, fbattr.FBRcvTimeExpired_Add, 1, a.ReceiveTimeExpired)
	h.cdrFields(r, a)
	r.str(fbattr.FBRcvCSID_AddString, a.RcvCSID)
	r.str(fbattr.FBRcvFailoverAccountID_AddString, a.RcvFailoverAccount)
	if h.uuidMode() {
		h.addFailoverUUID(ctx, r, a)
	}
	num(r, fbattr.FBRcvFailoverMode_Add, a.RcvFailoverModeValue(), a.RcvFailoverMode != "")
	h.lastModified(r, a)
	r.str(fbattr.FBQueueProfile_AddString, a.QueueProfile)
	h.uploadLogs(r, a)
	return r.done()
}

// accountExternal answers Get-Account / For-External-Module: what the e-mail
// gateway and other components need.
func (h *handler) accountExternal(ctx context.Context, q *query) (*radius.Packet, error) {
	a, r, err := h.acceptAccount(ctx, q)
	if err != nil {
		return nil, err
	}
	num(r, fbattr.FBAccountType_Add, a.Type, a.Type != 0)
	h.lastModified(r, a)
	r.str(fbattr.FBRcvEmail_AddString, a.RcvEmail)
	num(r, fbattr.FBRcvFormat_Add, a.RcvFormatValue(), a.RcvFormat != "")
	r.str(fbattr.FBSndEmail_AddString, a.SndEmail)
	h.uploadLogs(r, a)
	return r.done()
}

// acceptAccount identifies the account of a session-context request and
// starts its Accept, which in UUID mode must name the account (seed: "UUID Mode").
func (h *handler) acceptAccount(ctx context.Context, q *query) (fbdata.Account, *reply, error) {
	a, err := h.identify(ctx, q)
	if err != nil {
		return a, nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	if h.uuidMode() {
		r.userName(a.Name)
	}
	return a, r, nil
}

// cdrFields are the account values the port server copies into the CDR.
func (h *handler) cdrFields(r *reply, a fbdata.Account) {
	r.str(fbattr.FBCDRInfo_AddString, a.CDRInfo)
	r.str(fbattr.FBCustomer_AddString, a.Customer)
	r.str(fbattr.FBSource_AddString, a.Source)
	num(r, fbattr.FBSaveCDR_Add, 0, a.NoSaveCDR)
}

// lastModified tells a port server whether a load-balance group's
// membership may have changed since it last asked.
func (h *handler) lastModified(r *reply, a fbdata.Account) {
	if a.IsGroup() && !a.LastModified.IsZero() {
		r.add(fbattr.FBLastModifiedTime_Add(r.p, a.LastModified))
	}
}

func (h *handler) uploadLogs(r *reply, a fbdata.Account) {
	v, ok := a.UploadLogsValue()
	num(r, fbattr.FBUploadLogs_Add, v, ok)
}
