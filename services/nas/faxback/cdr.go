//lint:file-ignore SA1019 setLegacyFields writes the first version's CDR fields for the readers that still read them.

package faxback

import (
	"context"
	"errors"
	"fmt"
	"strings"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	faxbackv1 "kradius.dev/proto/kradius/faxback/v1"
	"kradius.dev/services/accounting"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
)

// CalledNumbers is the called-numbers database, as a finished session
// updates it.
type CalledNumbers interface {
	RecordCalledNumber(ctx context.Context, number string, result fbdata.CallResult) error
}

// sessions is the FaxBack part of the accounting consumer.
type sessions struct{ numbers CalledNumbers }

// EffectCalledNumber is the kind of the called-numbers update.
const EffectCalledNumber = "called-number"

func (sessions) EffectKinds() []string { return []string{EffectCalledNumber} }

// CDR sets the FaxBack block of a Stop's CDR: the fields the seed lists under
// "Accounting-Request Attributes", named.
func (sessions) CDR(rec *accountingv1.Record, c *accountingv1.CDR) {
	c.Block = &accountingv1.CDR_Faxback{Faxback: MapCDR(rec)}
	setLegacyFields(c)
}

// MapCDR is the FaxBack block of a Stop.
func MapCDR(rec *accountingv1.Record) *faxbackv1.CDR {
	c := &faxbackv1.CDR{}
	for _, a := range rec.GetAttributes() {
		text, n := accounting.Text(a), uint32(a.GetInteger())
		switch a.GetName() {
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

// setLegacyFields copies the FaxBack block into the CDR's first-version
// fields, which readers built before blocks existed still read.
func setLegacyFields(c *accountingv1.CDR) {
	f := c.GetFaxback()
	c.StartTime, c.IsSend, c.DialNumber, c.CallerId = f.StartTime, f.IsSend, f.DialNumber, f.CallerId
	c.LocalCsid, c.RemoteCsid, c.PageCount, c.TotalSeconds = f.LocalCsid, f.RemoteCsid, f.PageCount, f.TotalSeconds
	c.ConnectBps, c.FaxErrorCode, c.ExtendedErrorCode, c.PortServer = f.ConnectBps, f.FaxErrorCode, f.ExtendedErrorCode, f.PortServer
	c.PortUsed, c.ConnectionServer, c.ClientAccountId, c.CdrInfo = f.PortUsed, f.ConnectionServer, f.ClientAccountId, f.CdrInfo
	c.PerFaxCdrInfo, c.Customer, c.Source, c.CdrType = f.PerFaxCdrInfo, f.Customer, f.Source, f.CdrType
	c.CalledNumberResult, c.SipCallId = f.CalledNumberResult, f.SipCallId
}

// Effects of a FaxBack Stop: FB-Called-Number-Result updates the
// called-numbers database (seed: "Fax ATA Call-Ahead"). The update only ever
// sets flags, so even a run repeated after a crash cannot count twice.
func (s sessions) Effects(rec *accountingv1.Record) []nas.Effect {
	result, dial, ok := calledNumberResult(rec)
	if !ok {
		return nil
	}
	return []nas.Effect{{Kind: EffectCalledNumber, Run: func(ctx context.Context) error {
		if err := s.numbers.RecordCalledNumber(ctx, dial, result); err != nil && !errors.Is(err, fbdata.ErrInvalid) {
			return fmt.Errorf("called number %q: %w", dial, err)
		}
		return nil
	}}}
}

// calledNumberResult finds FB-Called-Number-Result and FB-Dial-Number.
func calledNumberResult(rec *accountingv1.Record) (fbdata.CallResult, string, bool) {
	var result uint64
	var dial string
	var found bool
	for _, a := range rec.GetAttributes() {
		switch a.GetName() {
		case "FB-Called-Number-Result":
			result, found = a.GetInteger(), true
		case "FB-Dial-Number":
			dial = accounting.Text(a)
		}
	}
	// Send on-behalf-of puts the billing account in front: "other;5551231234".
	if i := strings.LastIndexByte(dial, ';'); i >= 0 {
		dial = dial[i+1:]
	}
	return fbdata.CallResult(result), dial, found && dial != ""
}
