package faxback

import (
	"context"
	"errors"

	"layeh.com/radius"

	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/faxback/fbdata"
)

// accountBy finds the account whose idx value is in User-Name.
func (h *handler) accountBy(ctx context.Context, q *query, idx fbdata.Index) (fbdata.Account, error) {
	v := q.userName()
	if v == "" {
		return fbdata.Account{}, reject("User-Name (the %s) missing", idx)
	}
	a, err := h.accounts.AccountBy(ctx, idx, v)
	if errors.Is(err, fbdata.ErrNotFound) {
		return a, reject("no account with %s %q", idx, v)
	}
	return a, err
}

// fromSenderEmail answers Get-Account-From-Sender-Email-Address: the e-mail
// gateway authorising a sender. A known account that may not send gets
// FB-Snd-From-Account=0, not a Reject.
func (h *handler) fromSenderEmail(ctx context.Context, q *query) (*radius.Packet, error) {
	a, err := h.accountBy(ctx, q, fbdata.IndexSenderEmail)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	r.userName(a.Name)
	num(r, fbattr.FBSndFromAccount_Add, 0, a.SendDisabled)
	return r.done()
}

// fromMACAddress and fromSerialNumber answer a fax ATA provisioning server.
func (h *handler) fromMACAddress(ctx context.Context, q *query) (*radius.Packet, error) {
	return h.provisioning(ctx, q, fbdata.IndexMAC)
}

func (h *handler) fromSerialNumber(ctx context.Context, q *query) (*radius.Packet, error) {
	return h.provisioning(ctx, q, fbdata.IndexSerial)
}

func (h *handler) provisioning(ctx context.Context, q *query, idx fbdata.Index) (*radius.Packet, error) {
	a, err := h.accountBy(ctx, q, idx)
	if err != nil {
		return nil, err
	}
	r := newReply(q.pkt, radius.CodeAccessAccept)
	r.userName(a.Name)
	r.str(fbattr.FBProvisioningArg_AddString, a.ProvisioningArg)
	r.str(fbattr.FBQueueProfile_AddString, a.QueueProfile)
	return r.done()
}
