package loadgen

import (
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc4372"

	"kradius.dev/services/nas/dialogic/dlgattr"
	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/nas/firebrick/sipattr"
)

// reqKind is what a request is, for the report and to route it.
type reqKind int

const (
	reqLogin reqKind = iota
	reqDID
	reqAcctStart
	reqAcctStop
	reqRegister
	reqInvite
	reqDialogicStart
	reqDialogicStop
	numReqKinds
)

var reqKindNames = [numReqKinds]string{"login", "did", "acct_start", "acct_stop", "register", "invite", "dialogic_start", "dialogic_stop"}

// accounting reports whether k is an Accounting-Request, for the
// accounting server.
func (k reqKind) accounting() bool {
	switch k {
	case reqAcctStart, reqAcctStop, reqDialogicStart, reqDialogicStop:
		return true
	}
	return false
}

// sessionIDLen is the fixed width of the Acct-Session-Ids the generator
// writes (a uint64 in hex), so a template keeps one slot for them.
const sessionIDLen = 16

// clientInfo imitates the FB-Client-Info the port server sends with a login
// (seed: ";V=1.0.0.0;MN=NICKDUO;IP=10.0.0.84"), and is as long, so that a
// login for the seed's account/password is the seed's 108 bytes.
const clientInfo = ";V=1.0.0.0;MN=KRBENCH1;IP=127.0.0.1"

// cuiPrefix makes an invite's Chargeable-User-Identity from the caller's
// name, as a FireBrick names the phones it has validated.
const cuiPrefix = "cui-"

// registerExpires is the Session-Timeout a REGISTER asks for: the Expires
// of a phone's REGISTER, within the firebrick profile's default maximum.
const registerExpires = 3600

// template is a request encoded once at start with Identifier and
// Authenticator zero. Sending copies it and patches the Identifier, the
// Authenticator, the User-Password, the Acct-Session-Id and the
// Message-Authenticator: no attribute encoding on the hot path.
type template struct {
	kind    reqKind
	raw     []byte
	pwOff   int    // offset of the User-Password value, 0 if none
	pw      []byte // the password in clear, zero-padded to a multiple of 16
	sessOff int    // offset of the Acct-Session-Id value, 0 if none
	maOff   int    // offset of the Message-Authenticator value, 0 if none
}

// loginTemplate is Get-Account / Account-Login as the port server sends it:
// FB-Command and FB-Context in one VSA, User-Name, User-Password, FB-Client-Info.
func loginTemplate(a Account) (template, error) {
	p := radius.New(radius.CodeAccessRequest, nil)
	if err := addCommand(p, fbattr.FBCommand_Value_GetAccount, fbattr.FBContext_Value_AccountLogin); err != nil {
		return template{}, err
	}
	pw := padPassword(a.Password)
	if err := rfc2865.UserName_AddString(p, a.Name); err != nil {
		return template{}, fmt.Errorf("login %q: %w", a.Name, err)
	}
	p.Add(rfc2865.UserPassword_Type, pw)
	if err := fbattr.FBClientInfo_AddString(p, clientInfo); err != nil {
		return template{}, err
	}
	t, err := finish(p, reqLogin)
	t.pw = pw
	return t, err
}

// didTemplate is Get-Account-From-DID / Pre-Receive-Session: the DID as
// User-Name and, as in the seed, an Acct-Session-Id for the incoming call.
func didTemplate(did string) (template, error) {
	p := radius.New(radius.CodeAccessRequest, nil)
	if err := addCommand(p, fbattr.FBCommand_Value_GetAccountFromDID, fbattr.FBContext_Value_PreReceiveSession); err != nil {
		return template{}, err
	}
	if err := rfc2865.UserName_AddString(p, did); err != nil {
		return template{}, fmt.Errorf("did %q: %w", did, err)
	}
	if err := addSessionPlaceholder(p); err != nil {
		return template{}, err
	}
	return finish(p, reqDID)
}

// acctTemplate is the Start or Stop CDR of a sent fax from account a to
// dial. The seed prints no accounting packet, so these use the plain one-VSA-
// per-attribute form, which also exercises the decoder's other path.
func acctTemplate(a Account, dial string, stop bool) (template, error) {
	p := radius.New(radius.CodeAccountingRequest, nil)
	status, kind := rfc2866.AcctStatusType_Value_Start, reqAcctStart
	if stop {
		status, kind = rfc2866.AcctStatusType_Value_Stop, reqAcctStop
	}
	adds := []func() error{
		func() error { return rfc2866.AcctStatusType_Add(p, status) },
		func() error { return addSessionPlaceholder(p) },
		func() error { return rfc2865.UserName_AddString(p, a.Name) },
		func() error { return rfc2865.NASIPAddress_Add(p, net.IPv4(127, 0, 0, 1)) },
		func() error { return fbattr.FBIsSend_Add(p, fbattr.FBIsSend_Value_True) },
		func() error { return fbattr.FBDialNumber_AddString(p, dial) },
		func() error { return fbattr.FBPortServer_AddString(p, "kradius-bench") },
		func() error { return fbattr.FBPortUsed_AddString(p, "Port 1") },
	}
	if stop {
		adds = append(adds,
			func() error { return rfc2866.AcctSessionTime_Add(p, 62) },
			func() error { return fbattr.FBPageCount_Add(p, 3) },
			func() error { return fbattr.FBTotalSeconds_Add(p, 62) },
			func() error { return fbattr.FBConnectBPS_Add(p, 14400) },
			func() error { return fbattr.FBFaxErrorCode_Add(p, 0) },
			func() error { return fbattr.FBRemoteCSID_AddString(p, "+1 555 111 2345") },
			func() error {
				return fbattr.FBCalledNumberResult_Add(p, fbattr.FBCalledNumberResult_Value_Success)
			},
		)
	}
	for _, add := range adds {
		if err := add(); err != nil {
			return template{}, fmt.Errorf("accounting for %q: %w", a.Name, err)
		}
	}
	return finish(p, kind)
}

// registerTemplate is a FireBrick's REGISTER for SIP user u as it passes on
// a phone's answer to its challenge (RFC 5090): the digest response for
// qop none, computed from u's password, under nonce. The FireBrick issues
// its own nonces, so a server in its challenge mode takes any.
func registerTemplate(u Account, realm, nonce string) (template, error) {
	p := radius.New(radius.CodeAccessRequest, nil)
	uri := "sip:" + realm
	response := digest.Response(digest.HA1(u.Name, realm, u.Password), digest.Request{Method: "REGISTER", URI: uri, Nonce: nonce})
	if err := errors.Join(
		addMessageAuthenticator(p),
		rfc2865.UserName_AddString(p, u.Name),
		sipattr.DigestMethod_AddString(p, "REGISTER"),
		sipattr.DigestURI_AddString(p, uri),
		sipattr.DigestRealm_AddString(p, realm),
		sipattr.DigestNonce_AddString(p, nonce),
		sipattr.DigestUsername_AddString(p, u.Name),
		sipattr.DigestResponse_AddString(p, response),
		rfc2865.SessionTimeout_Add(p, registerExpires),
	); err != nil {
		return template{}, fmt.Errorf("register %q: %w", u.Name, err)
	}
	return finish(p, reqRegister)
}

// inviteTemplate is a FireBrick's INVITE from caller, a phone it has
// validated itself (hence the Chargeable-User-Identity, and no digest), to
// dialled: the server routes it.
func inviteTemplate(caller, dialled string) (template, error) {
	p := radius.New(radius.CodeAccessRequest, nil)
	if err := errors.Join(
		addMessageAuthenticator(p),
		rfc2865.UserName_AddString(p, caller),
		rfc4372.ChargeableUserIdentity_AddString(p, cuiPrefix+caller),
		sipattr.DigestMethod_AddString(p, "INVITE"),
		rfc2865.CalledStationID_AddString(p, dialled),
	); err != nil {
		return template{}, fmt.Errorf("invite from %q to %q: %w", caller, dialled, err)
	}
	return finish(p, reqInvite)
}

// The Dialogic IMG's call, as the dialogic mix reports it: the originating
// side ("O") of a call that came in on IMG 10.0.0.1's trunk group 7 and
// leaves by the VoIP gateway 10.0.0.2. With the demo's carriers
// (deploy/examples/demo-data.yaml) and make bench's, the trunk is partnerA's
// and the gateway in the Primary Carrier's network: both identified.
const (
	dialogicIMG         = "10.0.0.1"
	dialogicTrunk       = "7"
	dialogicRemote      = "10.0.0.2"
	dialogicDirection   = "O"
	dialogicCaller      = "01632960001"
	dialogicSessionTime = 61 // Acct-Session-Time of a Stop, seconds
)

// dialogicTemplate is the Start or Stop of a call to called, as a Dialogic
// IMG reports it (services/nas/dialogic): NAS-IP-Address (the IMG),
// Calling- and Called-Station-Id, and vendor 3028's Call Direction,
// inbound trunk, Remote Address (as text, VSA 23's documented form), start
// type 2 (a call start) and Start Time, seconds since 1970 on the IMG's
// clock (UTC, the profile's default zone). A Stop adds Acct-Session-Time.
// One VSA per attribute, as dlgattr writes them; no Message-Authenticator,
// which accounting does not need.
func dialogicTemplate(called string, start time.Time, stop bool) (template, error) {
	p := radius.New(radius.CodeAccountingRequest, nil)
	status, kind := rfc2866.AcctStatusType_Value_Start, reqDialogicStart
	if stop {
		status, kind = rfc2866.AcctStatusType_Value_Stop, reqDialogicStop
	}
	err := errors.Join(
		rfc2866.AcctStatusType_Add(p, status),
		addSessionPlaceholder(p),
		rfc2865.NASIPAddress_Add(p, net.ParseIP(dialogicIMG).To4()),
		rfc2865.CallingStationID_AddString(p, dialogicCaller),
		rfc2865.CalledStationID_AddString(p, called),
		dlgattr.DialogicCallDirection_AddString(p, dialogicDirection),
		dlgattr.DialogicTrunkGrpIn_AddString(p, dialogicTrunk),
		dlgattr.DialogicVoipDstSigIPIn_AddString(p, dialogicRemote),
		dlgattr.DialogicStartType_Add(p, dlgattr.DialogicStartType_Value_CallStart),
		dlgattr.DialogicStartTime_Add(p, dlgattr.DialogicStartTime(start.Unix())),
	)
	if stop && err == nil {
		err = rfc2866.AcctSessionTime_Add(p, dialogicSessionTime)
	}
	if err != nil {
		return template{}, fmt.Errorf("dialogic accounting to %q: %w", called, err)
	}
	return finish(p, kind)
}

// addMessageAuthenticator adds a zero Message-Authenticator for encode to
// fill in. It goes first, where servers hardened against forged
// Access-Requests (BlastRADIUS) expect it.
func addMessageAuthenticator(p *radius.Packet) error {
	return rfc2869.MessageAuthenticator_Add(p, make([]byte, messageAuthenticatorLen))
}

// messageAuthenticatorLen is an HMAC-MD5 (RFC 3579 §3.2).
const messageAuthenticatorLen = 16

// newNonce is a Digest-Nonce as a FireBrick might issue it: random, so
// that two runs do not send the same digests.
func newNonce() string {
	var b [16]byte
	_, _ = crand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go ≥ 1.24 panics instead)
	return hex.EncodeToString(b[:])
}

// addCommand adds FB-Command and FB-Context as two sub-attributes of one
// Vendor-Specific attribute, the way the port server packs them (its 108-byte
// Account-Login request is only that long so), rather than fbattr's one VSA
// each: the server under test must decode what the field sends.
func addCommand(p *radius.Packet, cmd fbattr.FBCommand, ctx fbattr.FBContext) error {
	scratch := radius.New(radius.CodeAccessRequest, nil)
	if err := fbattr.FBCommand_Add(scratch, cmd); err != nil {
		return fmt.Errorf("FB-Command: %w", err)
	}
	if err := fbattr.FBContext_Add(scratch, ctx); err != nil {
		return fmt.Errorf("FB-Context: %w", err)
	}
	var vendor uint32
	var subs radius.Attribute
	for _, avp := range scratch.Attributes {
		id, sub, err := radius.VendorSpecific(avp.Attribute)
		if err != nil {
			return fmt.Errorf("packing FaxBack VSA: %w", err)
		}
		vendor, subs = id, append(subs, sub...)
	}
	vsa, err := radius.NewVendorSpecific(vendor, subs)
	if err != nil {
		return fmt.Errorf("packing FaxBack VSA: %w", err)
	}
	p.Add(rfc2865.VendorSpecific_Type, vsa)
	return nil
}

func addSessionPlaceholder(p *radius.Packet) error {
	var zero [sessionIDLen]byte
	for i := range zero {
		zero[i] = '0'
	}
	if err := rfc2866.AcctSessionID_Add(p, zero[:]); err != nil {
		return fmt.Errorf("Acct-Session-Id: %w", err)
	}
	return nil
}

// padPassword is RFC 2865 §5.2's padding: to a multiple of 16, at least 16.
func padPassword(pw string) []byte {
	n := max(16, (len(pw)+15)/16*16)
	padded := make([]byte, n)
	copy(padded, pw)
	return padded
}

// finish encodes p with a zero Identifier and Authenticator and finds the
// values that change per request.
func finish(p *radius.Packet, kind reqKind) (template, error) {
	p.Identifier = 0
	p.Authenticator = [16]byte{}
	raw, err := p.MarshalBinary()
	if err != nil {
		return template{}, fmt.Errorf("encoding %s template: %w", reqKindNames[kind], err)
	}
	t := template{kind: kind, raw: raw}
	for off := 20; off+2 <= len(raw); off += int(raw[off+1]) {
		switch raw[off] {
		case byte(rfc2865.UserPassword_Type):
			t.pwOff = off + 2
		case byte(rfc2866.AcctSessionID_Type):
			t.sessOff = off + 2
		case byte(rfc2869.MessageAuthenticator_Type):
			t.maOff = off + 2
		}
	}
	return t, nil
}

// templates holds every request the mix can send, indexed like the pools.
type templates struct {
	login []template // by account
	did   []template // by DID
	start []template // by account
	stop  []template // by account

	register []template // by SIP user
	invite   []template // by dialled number

	dialogicStart []template // by dialled number
	dialogicStop  []template // by dialled number
}

func buildTemplates(c Config) (*templates, error) {
	t := &templates{}
	if c.has(KindLogin) {
		for _, a := range c.Accounts {
			tp, err := loginTemplate(a)
			if err != nil {
				return nil, err
			}
			t.login = append(t.login, tp)
		}
	}
	if c.has(KindDID) {
		for _, d := range c.DIDs {
			tp, err := didTemplate(d)
			if err != nil {
				return nil, err
			}
			t.did = append(t.did, tp)
		}
	}
	if c.has(KindAcct) {
		for i, a := range c.Accounts {
			// A send session dials someone's number; the DID pool has
			// realistic ones.
			dial := "5551112345"
			if len(c.DIDs) > 0 {
				dial = c.DIDs[i%len(c.DIDs)]
			}
			start, err := acctTemplate(a, dial, false)
			if err != nil {
				return nil, err
			}
			stop, err := acctTemplate(a, dial, true)
			if err != nil {
				return nil, err
			}
			t.start, t.stop = append(t.start, start), append(t.stop, stop)
		}
	}
	if c.has(KindRegister) {
		for _, u := range c.SIPUsers {
			tp, err := registerTemplate(u, c.Realm, newNonce())
			if err != nil {
				return nil, err
			}
			t.register = append(t.register, tp)
		}
	}
	if c.has(KindInvite) {
		for i, d := range c.Dialled {
			tp, err := inviteTemplate(c.SIPUsers[i%len(c.SIPUsers)].Name, d)
			if err != nil {
				return nil, err
			}
			t.invite = append(t.invite, tp)
		}
	}
	if c.has(KindDialogic) {
		// Every call of the run started when it did: a Start Time in the
		// settlement's current period, the same in a Start and its Stop.
		now := time.Now()
		for _, d := range c.Dialled {
			start, err := dialogicTemplate(d, now, false)
			if err != nil {
				return nil, err
			}
			stop, err := dialogicTemplate(d, now, true)
			if err != nil {
				return nil, err
			}
			t.dialogicStart, t.dialogicStop = append(t.dialogicStart, start), append(t.dialogicStop, stop)
		}
	}
	return t, nil
}

// maxLen is the longest request, to size send buffers once.
func (t *templates) maxLen() int {
	n := 0
	for _, set := range [][]template{t.login, t.did, t.start, t.stop, t.register, t.invite, t.dialogicStart, t.dialogicStop} {
		for i := range set {
			n = max(n, len(set[i].raw))
		}
	}
	return n
}
