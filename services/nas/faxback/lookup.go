package faxback

import (
	"context"
	"errors"

	"layeh.com/radius"

	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/store"
)

// accountBy finds the account whose idx value is in User-Name.
func (h *handler) accountBy(ctx context.Context, q *query, idx store.Index) (store.Account, error) {
	v := q.userName()
	if v == "" {
		return store.Account{}, reject("User-Name (the %s) missing", idx)
	}
	a, err := h.accounts.AccountBy(ctx, idx, v)
	if errors.Is(err, store.ErrNotFound) {
		return a, reject("no account with %s %q", idx, v)
	}
	return a, err
}

// fromSenderEmail answers Get-Account-From-Sender-Email-Address: the e-mail
// gateway authorising a sender. A known account that may not send gets
// FB-Snd-From-Account=0, not a Reject.
func (h *handler) fromSenderEmail(ctx context.Context, q *query) (*radius.Packet, error) {
	a, err := h.accountBy(ctx, q, store.IndexSenderEmail)
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
	return h.provisioning(ctx, q, store.IndexMAC)
}

func (h *handler) fromSerialNumber(ctx context.Context, q *query) (*radius.Packet, error) {
	return h.provisioning(ctx, q, store.IndexSerial)
}

func (h *handler) provisioning(ctx context.Context, q *query, idx store.Index) (*radius.Packet, error) {
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
