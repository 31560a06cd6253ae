package faxback

import (
	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	"kradius.dev/services/accounting"
)

// MapCDR is the FaxBack CDR of a Stop: the fields the seed lists under
// "Accounting-Request Attributes", named, and every attribute besides.
func MapCDR(rec *accountingv1.Record) *accountingv1.CDR {
	c := &accountingv1.CDR{
		SessionId:    rec.GetSessionId(),
		Account:      rec.GetUserName(),
		NasClient:    rec.GetNasClient(),
		StopReceived: rec.GetReceived(),
		Attributes:   rec.GetAttributes(),
	}
	for _, a := range rec.GetAttributes() {
		text, n := accounting.Text(a), uint32(a.GetInteger())
		switch a.GetName() {
		case "Acct-Session-Time":
			c.SessionTime = n
		case "FB-Start-Time":
			c.StartTime = a.GetTime()
		case "FB-Is-Send":
			c.IsSend = n == 1
		case "FB-Dial-Number":
			c.DialNumber = text
		case "FB-Caller-Id":
			c.CallerId = text
		case "FB-Local-CSID":
			c.LocalCsid = text
		case "FB-Remote-CSID":
			c.RemoteCsid = text
		case "FB-Page-Count":
			c.PageCount = n
		case "FB-Total-Seconds":
			c.TotalSeconds = n
		case "FB-Connect-BPS":
			c.ConnectBps = n
		case "FB-Fax-Error-Code":
			c.FaxErrorCode = n
		case "FB-Extended-Error-Code":
			c.ExtendedErrorCode = n
		case "FB-Port-Server":
			c.PortServer = text
		case "FB-Port-Used":
			c.PortUsed = text
		case "FB-Connection-Server":
			c.ConnectionServer = text
		case "FB-Client-Account-Id":
			c.ClientAccountId = text
		case "FB-CDR-Info":
			c.CdrInfo = text
		case "FB-Per-Fax-CDR-Info":
			c.PerFaxCdrInfo = text
		case "FB-Customer":
			c.Customer = text
		case "FB-Source":
			c.Source = text
		case "FB-CDR-Type":
			c.CdrType = n
		case "FB-Called-Number-Result":
			c.CalledNumberResult = &n
		case "FB-SIP-Call-Id":
			c.SipCallId = text
		}
	}
	return c
}
