package fbstore

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	faxbackv1 "kradius.dev/proto/kradius/faxback/v1"
	"kradius.dev/services/nas/faxback/fbdata"
)

// AccountToProto returns a as the record the store keeps.
func AccountToProto(a fbdata.Account) *faxbackv1.Account {
	p := &faxbackv1.Account{
		Name:               a.Name,
		Uuid:               a.UUID,
		PasswordHash:       a.PasswordHash,
		Type:               a.Type,
		LoginGroup:         a.LoginGroup,
		RuleGroup:          a.RuleGroup,
		CdrInfo:            a.CDRInfo,
		Customer:           a.Customer,
		Source:             a.Source,
		RcvEmail:           a.RcvEmail,
		SndEmail:           a.SndEmail,
		RcvFormat:          a.RcvFormat,
		RcvCsid:            a.RcvCSID,
		SndTsid:            a.SndTSID,
		SndAni:             a.SndANI,
		NoSaveCdr:          a.NoSaveCDR,
		SendDisabled:       a.SendDisabled,
		ReceiveDisabled:    a.ReceiveDisabled,
		SendTimeExpired:    a.SendTimeExpired,
		ReceiveTimeExpired: a.ReceiveTimeExpired,
		RcvFailoverAccount: a.RcvFailoverAccount,
		RcvFailoverMode:    a.RcvFailoverMode,
		QueueProfile:       a.QueueProfile,
		CallAheadMode:      a.CallAheadMode,
		SendOnBehalfOf:     a.SendOnBehalfOf,
		UploadLogs:         a.UploadLogs,
		MacAddress:         a.MACAddress,
		SerialNumber:       a.SerialNumber,
		ProvisioningArg:    a.ProvisioningArg,
		Members:            a.Members,
	}
	if !a.LastModified.IsZero() {
		p.LastModified = timestamppb.New(a.LastModified)
	}
	return p
}

// AccountFromProto returns the account a stored record holds.
func AccountFromProto(p *faxbackv1.Account) fbdata.Account {
	a := fbdata.Account{
		Name:               p.GetName(),
		UUID:               p.GetUuid(),
		PasswordHash:       p.GetPasswordHash(),
		Type:               p.GetType(),
		LoginGroup:         p.GetLoginGroup(),
		RuleGroup:          p.GetRuleGroup(),
		CDRInfo:            p.GetCdrInfo(),
		Customer:           p.GetCustomer(),
		Source:             p.GetSource(),
		RcvEmail:           p.GetRcvEmail(),
		SndEmail:           p.GetSndEmail(),
		RcvFormat:          p.GetRcvFormat(),
		RcvCSID:            p.GetRcvCsid(),
		SndTSID:            p.GetSndTsid(),
		SndANI:             p.GetSndAni(),
		NoSaveCDR:          p.GetNoSaveCdr(),
		SendDisabled:       p.GetSendDisabled(),
		ReceiveDisabled:    p.GetReceiveDisabled(),
		SendTimeExpired:    p.GetSendTimeExpired(),
		ReceiveTimeExpired: p.GetReceiveTimeExpired(),
		RcvFailoverAccount: p.GetRcvFailoverAccount(),
		RcvFailoverMode:    p.GetRcvFailoverMode(),
		QueueProfile:       p.GetQueueProfile(),
		CallAheadMode:      p.GetCallAheadMode(),
		SendOnBehalfOf:     p.GetSendOnBehalfOf(),
		UploadLogs:         p.GetUploadLogs(),
		MACAddress:         p.GetMacAddress(),
		SerialNumber:       p.GetSerialNumber(),
		ProvisioningArg:    p.GetProvisioningArg(),
		Members:            p.GetMembers(),
	}
	if p.LastModified != nil {
		a.LastModified = p.LastModified.AsTime()
	}
	return a
}

// DIDToProto returns d as the record the store keeps.
func DIDToProto(d fbdata.DID) *faxbackv1.DID {
	p := &faxbackv1.DID{
		Number:       d.Number,
		Account:      d.Account,
		Disabled:     d.Disabled,
		LineId:       d.LineID,
		QueueProfile: d.QueueProfile,
		Ani:          d.ANI,
	}
	if d.LineNum != nil {
		n := *d.LineNum
		p.LineNum = &n
	}
	return p
}

// DIDFromProto returns the DID a stored record holds.
func DIDFromProto(p *faxbackv1.DID) fbdata.DID {
	d := fbdata.DID{
		Number:       p.GetNumber(),
		Account:      p.GetAccount(),
		Disabled:     p.GetDisabled(),
		LineID:       p.GetLineId(),
		QueueProfile: p.GetQueueProfile(),
		ANI:          p.GetAni(),
	}
	if p.LineNum != nil {
		n := *p.LineNum
		d.LineNum = &n
	}
	return d
}

// CalledNumberToProto returns c as the record the store keeps.
func CalledNumberToProto(c fbdata.CalledNumber) *faxbackv1.CalledNumber {
	p := &faxbackv1.CalledNumber{Number: c.Number, FaxVerified: c.FaxVerified, VoiceError: c.VoiceError}
	if !c.Updated.IsZero() {
		p.Updated = timestamppb.New(c.Updated)
	}
	return p
}

// CalledNumberFromProto returns the entry a stored record holds.
func CalledNumberFromProto(p *faxbackv1.CalledNumber) fbdata.CalledNumber {
	c := fbdata.CalledNumber{Number: p.GetNumber(), FaxVerified: p.GetFaxVerified(), VoiceError: p.GetVoiceError()}
	if p.Updated != nil {
		c.Updated = p.Updated.AsTime()
	}
	return c
}
