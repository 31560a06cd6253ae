// Package accountsrpc puts the accounts service on gRPC: the server adapter
// for -target=accounts and the client the edge uses. Both speak store types,
// so the FaxBack profile cannot tell a remote service from an in-process one.
package accountsrpc

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/nas/faxback/fbdata"
)

// ToProto converts an account for the wire. The password hash stays behind:
// it never leaves the accounts service.
func ToProto(a fbdata.Account) *accountsv1.Account {
	p := &accountsv1.Account{
		Name: a.Name, Uuid: a.UUID, Type: a.Type, LoginGroup: a.LoginGroup, RuleGroup: a.RuleGroup,
		CdrInfo: a.CDRInfo, Customer: a.Customer, Source: a.Source,
		RcvEmail: a.RcvEmail, SndEmail: a.SndEmail, RcvFormat: a.RcvFormat,
		RcvCsid: a.RcvCSID, SndTsid: a.SndTSID, SndAni: a.SndANI,
		NoSaveCdr: a.NoSaveCDR, SendDisabled: a.SendDisabled, ReceiveDisabled: a.ReceiveDisabled,
		SendTimeExpired: a.SendTimeExpired, ReceiveTimeExpired: a.ReceiveTimeExpired,
		RcvFailoverAccount: a.RcvFailoverAccount, RcvFailoverMode: a.RcvFailoverMode,
		QueueProfile: a.QueueProfile, CallAheadMode: a.CallAheadMode, SendOnBehalfOf: a.SendOnBehalfOf,
		UploadLogs: a.UploadLogs, MacAddress: a.MACAddress, SerialNumber: a.SerialNumber,
		ProvisioningArg: a.ProvisioningArg, Members: a.Members,
		HasPassword: a.PasswordHash != "",
	}
	if !a.LastModified.IsZero() {
		p.LastModified = timestamppb.New(a.LastModified)
	}
	return p
}

// FromProto converts an account from the wire; PasswordHash is left empty.
func FromProto(p *accountsv1.Account) fbdata.Account {
	if p == nil {
		return fbdata.Account{}
	}
	a := fbdata.Account{
		Name: p.Name, UUID: p.Uuid, Type: p.Type, LoginGroup: p.LoginGroup, RuleGroup: p.RuleGroup,
		CDRInfo: p.CdrInfo, Customer: p.Customer, Source: p.Source,
		RcvEmail: p.RcvEmail, SndEmail: p.SndEmail, RcvFormat: p.RcvFormat,
		RcvCSID: p.RcvCsid, SndTSID: p.SndTsid, SndANI: p.SndAni,
		NoSaveCDR: p.NoSaveCdr, SendDisabled: p.SendDisabled, ReceiveDisabled: p.ReceiveDisabled,
		SendTimeExpired: p.SendTimeExpired, ReceiveTimeExpired: p.ReceiveTimeExpired,
		RcvFailoverAccount: p.RcvFailoverAccount, RcvFailoverMode: p.RcvFailoverMode,
		QueueProfile: p.QueueProfile, CallAheadMode: p.CallAheadMode, SendOnBehalfOf: p.SendOnBehalfOf,
		UploadLogs: p.UploadLogs, MACAddress: p.MacAddress, SerialNumber: p.SerialNumber,
		ProvisioningArg: p.ProvisioningArg, Members: p.Members,
	}
	if p.LastModified != nil {
		a.LastModified = p.LastModified.AsTime().In(time.UTC)
	}
	return a
}

var indexes = map[accountsv1.Index]fbdata.Index{
	accountsv1.Index_INDEX_UUID:         fbdata.IndexUUID,
	accountsv1.Index_INDEX_MAC:          fbdata.IndexMAC,
	accountsv1.Index_INDEX_SERIAL:       fbdata.IndexSerial,
	accountsv1.Index_INDEX_SENDER_EMAIL: fbdata.IndexSenderEmail,
}

func indexToProto(idx fbdata.Index) accountsv1.Index {
	for p, s := range indexes {
		if s == idx {
			return p
		}
	}
	return accountsv1.Index_INDEX_UNSPECIFIED
}
