package faxback

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"layeh.com/radius"
	"layeh.com/radius/dictionary"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/accounts"
	"kradius.dev/services/dids"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
)

// attrNames maps FaxBack sub-attribute numbers to dictionary names and types.
var attrNames = func() map[int]*dictionary.Attribute {
	d, err := (&dictionary.Parser{Opener: &dictionary.FileSystemOpener{}}).ParseFile("dictionary.faxback")
	if err != nil {
		panic(err)
	}
	m := map[int]*dictionary.Attribute{}
	for _, a := range d.Vendors[0].Attributes {
		m[a.OID[0]] = a
	}
	return m
}()

// render writes a reply as "Access-Accept User-Name=x FB-Account-Type=4 ...",
// in wire order, so that a test states the whole reply in one string.
func render(p *radius.Packet) string {
	out := []string{p.Code.String()}
	for _, avp := range p.Attributes {
		switch avp.Type {
		case rfc2865.UserName_Type:
			out = append(out, "User-Name="+string(avp.Attribute))
		case rfc2865.ReplyMessage_Type:
			out = append(out, fmt.Sprintf("Reply-Message=%q", avp.Attribute))
		case rfc2865.VendorSpecific_Type:
			sub := avp.Attribute[4:]
			a := attrNames[int(sub[0])]
			v := sub[2:sub[1]]
			switch a.Type {
			case dictionary.AttributeInteger, dictionary.AttributeDate:
				if a.Type == dictionary.AttributeDate {
					out = append(out, a.Name+"=<date>")
				} else {
					out = append(out, fmt.Sprintf("%s=%d", a.Name, binary.BigEndian.Uint32(v)))
				}
			case dictionary.AttributeOctets:
				out = append(out, a.Name+"="+printable(v))
			default:
				out = append(out, a.Name+"="+string(v))
			}
		default:
			out = append(out, fmt.Sprintf("attr%d", avp.Type))
		}
	}
	return strings.Join(out, " ")
}

func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return "0x" + hex.EncodeToString(b)
		}
	}
	return string(b)
}

// ask builds a request: command/context, then alternating attribute and
// value: "User-Name", "x", "User-Password", "pw", or an FB sub-attribute
// number (attrDialNumber, ...) with a string, []byte or uint32 value.
func ask(cmd, ctx uint32, kv ...any) *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	p.Add(rfc2865.VendorSpecific_Type, vsa([]byte{1, 0, 0, 0, byte(cmd)}, []byte{2, 0, 0, 0, byte(ctx)}))
	for i := 0; i < len(kv); i += 2 {
		switch k := kv[i].(type) {
		case string:
			v := kv[i+1].(string)
			if k == "User-Name" {
				rfc2865.UserName_AddString(p, v)
			} else {
				rfc2865.UserPassword_AddString(p, v)
			}
		default:
			panic(fmt.Sprintf("ask: attribute key %v of type %T", k, k))
		case int:
			k8 := byte(k)
			switch v := kv[i+1].(type) {
			case uint32:
				p.Add(rfc2865.VendorSpecific_Type, vsa(append([]byte{k8}, binary.BigEndian.AppendUint32(nil, v)...)))
			case string:
				p.Add(rfc2865.VendorSpecific_Type, vsa(append([]byte{k8}, v...)))
			case []byte:
				p.Add(rfc2865.VendorSpecific_Type, vsa(append([]byte{k8}, v...)))
			}
		}
	}
	return p
}

const data = `
accounts:
  - name: account
    password: password
    type: 4
    uuid: 05A32765-C400-4993-90D8-35289F96988A
    rcvFailoverAccount: alice
  - name: alice
    password: wonderland
    loginGroup: "*EAST"
    callAheadMode: never
    uploadLogs: after-errors
    uuid: 0x11111111222233334444555555555555
  - name: sender
    password: pw
    sendOnBehalfOf: true
    sendEnabled: false
    sendTimeExpired: true
    cdrInfo: plan=gold
    customer: ACME
    source: crm
    saveCDR: false
    sndANI: "5550001"
    sndTSID: ACME FAX
    ruleGroup: PRIORITY
    queueProfile: '<QPXml Rf="1" />'
    sndEmail: Fax@ACME.example
  - name: receiver
    receiveEnabled: false
    receiveTimeExpired: true
    rcvCSID: ACME RX
    rcvFailoverAccount: account
    rcvFailoverMode: always
    type: 1
  - name: mailer
    type: 5
    rcvEmail: inbox@acme.example
    rcvFormat: pdf
    sndEmail: out@acme.example
    macAddress: "00:90:8f:1d:37:f0"
    serialNumber: SN-1
    provisioningArg: basecfg=remote-admin.ini
  - name: always
    callAheadMode: always
  - name: group
    type: 9
    uuid: 22222222-3333-4444-5555-666666666666
    members: [account, alice]
dids:
  - {number: "100", account: account}
  - {number: "101", account: sender, enabled: false}
  - {number: "102", account: mailer, lineNum: 3, lineId: lobby, ani: "5559", queueProfile: '<QPXml Op="1" />'}
  - {number: "103", account: receiver}
`

func serveTest(t *testing.T, h nas.Handler, p *radius.Packet) (*radius.Packet, error) {
	t.Helper()
	return h.ServeAccess(context.Background(), &nas.Request{Packet: p, Client: "test"})
}

func testHandler(t testing.TB, o Options) (nas.Handler, *Profile, fbdata.Store) {
	t.Helper()
	st := fixture(t, data, fbdata.Options{})
	ctx := context.Background()
	st.RecordCalledNumber(ctx, "5551000001", fbdata.CallSuccess)
	st.RecordCalledNumber(ctx, "5551000002", fbdata.CallFaxError)
	st.RecordCalledNumber(ctx, "5551000003", fbdata.CallVoiceError)
	st.RecordCalledNumber(ctx, "5551000004", fbdata.CallVoiceError) // a voice answer is sticky:
	st.RecordCalledNumber(ctx, "5551000004", fbdata.CallSuccess)    // a later fax does not clear it
	p := NewProfile(accounts.New(st, nil), dids.New(st), prometheus.NewRegistry())
	return p.ForClient(o), p, st
}

func TestCommands(t *testing.T) {
	h, profile, _ := testHandler(t, Options{})
	const queue = uint32(2)
	for _, tc := range []struct {
		name string
		req  *radius.Packet
		want string
	}{
		// Get-Account / Account-Login and -Validate
		{"login", ask(1, 1, "User-Name", "account", "User-Password", "password"), "Access-Accept FB-Account-Type=4"},
		{"login, every login attribute", ask(1, 1, "User-Name", "ALICE", "User-Password", "wonderland"),
			"Access-Accept FB-Account-Type=0 FB-Account-Login-Group=*EAST FB-Call-Ahead-Mode=0 FB-Upload-Logs=1"},
		{"login, wrong password", ask(1, 1, "User-Name", "account", "User-Password", "nope"), "Access-Reject"},
		{"login, unknown account", ask(1, 1, "User-Name", "nobody", "User-Password", "password"), "Access-Reject"},
		{"login, account without password", ask(1, 1, "User-Name", "group", "User-Password", "x"), "Access-Reject"},
		{"login, no User-Name", ask(1, 1, "User-Password", "password"), `Access-Reject Reply-Message="User-Name missing"`},
		{"login, no User-Password", ask(1, 1, "User-Name", "account"), `Access-Reject Reply-Message="User-Password missing"`},
		{"validate", ask(1, 2, "User-Name", "account", "User-Password", "password"), "Access-Accept FB-Account-Type=4"},
		{"validate, wrong password", ask(1, 2, "User-Name", "account", "User-Password", "x"), "Access-Reject"},

		// Get-Account / Pre-Send-Session
		{"pre-send, defaults", ask(1, 3, "User-Name", "account", attrTransferType, uint32(1)), "Access-Accept"},
		{"pre-send, every send attribute", ask(1, 3, "User-Name", "sender"),
			"Access-Accept FB-Snd-On-Behalf-Of=1 FB-Snd-From-Account=0 FB-Snd-Time-Expired=1 FB-CDR-Info=plan=gold FB-Customer=ACME FB-Source=crm FB-Save-CDR=0 FB-Snd-ANI=5550001 FB-Snd-TSID=ACME FAX FB-Rule-Group=PRIORITY FB-Queue-Profile=<QPXml Rf=\"1\" />"},
		{"pre-send, queue, unknown number, dynamic account", ask(1, 3, "User-Name", "account", attrTransferType, queue, attrDialNumber, "5559999999"), "Access-Accept FB-Call-Ahead-Mode=1"},
		{"pre-send, queue, unknown number, never account", ask(1, 3, "User-Name", "alice", attrTransferType, queue, attrDialNumber, "5559999999"), "Access-Accept FB-Call-Ahead-Mode=0 FB-Upload-Logs=1"},
		{"pre-send, queue, unknown number, always account", ask(1, 3, "User-Name", "always", attrTransferType, queue, attrDialNumber, "5559999999"), "Access-Accept FB-Call-Ahead-Mode=1"},
		{"pre-send, queue, verified fax", ask(1, 3, "User-Name", "account", attrTransferType, queue, attrDialNumber, "5551000001"), "Access-Accept FB-Call-Ahead-Mode=0"},
		{"pre-send, queue, fax error counts as a fax", ask(1, 3, "User-Name", "account", attrTransferType, queue, attrDialNumber, "5551000002"), "Access-Accept FB-Call-Ahead-Mode=0"},
		{"pre-send, queue, voice error", ask(1, 3, "User-Name", "account", attrTransferType, queue, attrDialNumber, "5551000003"), "Access-Accept FB-Call-Ahead-Mode=1"},
		{"pre-send, queue, voice error is sticky", ask(1, 3, "User-Name", "account", attrTransferType, queue, attrDialNumber, "5551000004"), "Access-Accept FB-Call-Ahead-Mode=1"},
		{"pre-send, queue, on behalf of", ask(1, 3, "User-Name", "account", attrTransferType, queue, attrDialNumber, "other;5551000001"), "Access-Accept FB-Call-Ahead-Mode=0"},
		{"pre-send, realtime: no call-ahead", ask(1, 3, "User-Name", "account", attrTransferType, uint32(1), attrDialNumber, "5551000003"), "Access-Accept"},
		{"pre-send, unknown", ask(1, 3, "User-Name", "nobody"), `Access-Reject Reply-Message="unknown account \"nobody\""`},
		{"pre-send, no User-Name", ask(1, 3), `Access-Reject Reply-Message="User-Name missing"`},

		// Get-Account / Pre-Receive-Session and For-External-Module
		{"pre-receive, defaults", ask(1, 4, "User-Name", "account"), "Access-Accept FB-Rcv-Failover-Account-Id=alice"},
		{"pre-receive, every receive attribute", ask(1, 4, "User-Name", "receiver"),
			"Access-Accept FB-Rcv-To-Account=0 FB-Rcv-Time-Expired=1 FB-Rcv-CSID=ACME RX FB-Rcv-Failover-Account-Id=account FB-Rcv-Failover-Mode=1"},
		{"pre-receive, group", ask(1, 4, "User-Name", "group"), "Access-Accept FB-Last-Modified-Time=<date>"},
		{"pre-receive, unknown", ask(1, 4, "User-Name", "nobody"), `Access-Reject Reply-Message="unknown account \"nobody\""`},
		{"external, type 0 is the default", ask(1, 5, "User-Name", "alice"), "Access-Accept FB-Upload-Logs=1"},
		{"external, e-mail", ask(1, 5, "User-Name", "mailer"), "Access-Accept FB-Account-Type=5 FB-Rcv-Email=inbox@acme.example FB-Rcv-Format=1 FB-Snd-Email=out@acme.example"},
		{"external, group", ask(1, 5, "User-Name", "group"), "Access-Accept FB-Account-Type=9 FB-Last-Modified-Time=<date>"},

		// Get-Account-From-DID
		{"from DID", ask(2, 4, "User-Name", "100"), "Access-Accept User-Name=account"},
		{"from DID, disabled", ask(2, 4, "User-Name", "101"), "Access-Accept User-Name=sender FB-DID-Enabled=0"},
		{"from DID, unknown", ask(2, 4, "User-Name", "999"), `Access-Reject Reply-Message="unknown DID \"999\""`},
		{"from DID, external", ask(2, 5, "User-Name", "102"), "Access-Accept User-Name=mailer FB-Rcv-Email=inbox@acme.example FB-Rcv-Format=1"},
		{"from DID, external, no e-mail", ask(2, 5, "User-Name", "100"), `Access-Reject Reply-Message="account \"account\" has no receive e-mail address"`},

		// Lookups by sender e-mail, MAC address and serial number
		{"sender e-mail", ask(3, 5, "User-Name", "fax@acme.EXAMPLE"), "Access-Accept User-Name=sender FB-Snd-From-Account=0"},
		{"sender e-mail, unknown", ask(3, 5, "User-Name", "who@nowhere"), `Access-Reject Reply-Message="no account with sender-email \"who@nowhere\""`},
		{"MAC address", ask(7, 5, "User-Name", "00908F1D37F0", attrFaxATAType, uint32(0)), "Access-Accept User-Name=mailer FB-Provisioning-Arg=basecfg=remote-admin.ini"},
		{"MAC address, other spelling", ask(7, 5, "User-Name", "00-90-8F-1D-37-F0"), "Access-Accept User-Name=mailer FB-Provisioning-Arg=basecfg=remote-admin.ini"},
		{"MAC address, unknown", ask(7, 5, "User-Name", "000000000000"), `Access-Reject Reply-Message="no account with mac \"000000000000\""`},
		{"MAC address, not a MAC", ask(7, 5, "User-Name", "zz"), `Access-Reject Reply-Message="no account with mac \"zz\""`},
		{"serial number", ask(6, 5, "User-Name", "sn-1"), "Access-Accept User-Name=mailer FB-Provisioning-Arg=basecfg=remote-admin.ini"},
		{"serial number, unknown", ask(6, 5, "User-Name", "SN-2"), `Access-Reject Reply-Message="no account with serial \"SN-2\""`},

		// Get-Call-Ahead-Mode
		{"call-ahead, unknown number", ask(5, 3, "User-Name", "5559999999"), "Access-Accept FB-Call-Ahead-Mode=1"},
		{"call-ahead, verified fax", ask(5, 3, "User-Name", "5551000001"), "Access-Accept FB-Call-Ahead-Mode=0"},
		{"call-ahead, voice error", ask(5, 3, "User-Name", "5551000003"), "Access-Accept FB-Call-Ahead-Mode=1"},
		{"call-ahead, voice error is sticky", ask(5, 3, "User-Name", "5551000004"), "Access-Accept FB-Call-Ahead-Mode=1"},
		{"call-ahead, no number", ask(5, 3), "Access-Accept FB-Call-Ahead-Mode=1"},

		// Get-DID and Get-DIDs-For-Account
		{"DID, pre-send", ask(8, 3, "User-Name", "102"), "Access-Accept User-Name=mailer FB-Queue-Profile=<QPXml Op=\"1\" /> FB-Snd-ANI=5559 FB-Line-Num=3 FB-Line-Id=lobby"},
		{"DID, pre-send, no match is an empty Accept", ask(8, 3, "User-Name", "999"), "Access-Accept"},
		{"DID, external", ask(8, 5, "User-Name", "100"), "Access-Accept User-Name=account"},
		{"DID, external, unknown", ask(8, 5, "User-Name", "999"), `Access-Reject Reply-Message="unknown DID \"999\""`},
		{"DID, external, an account: the Get-DIDs-For-Account reading", ask(8, 5, "User-Name", "Account"), "Access-Accept FB-DID=100"},
		{"DIDs for account", ask(9, 5, "User-Name", "mailer"), "Access-Accept FB-DID=102"},
		{"DIDs for account, none", ask(9, 5, "User-Name", "alice"), "Access-Accept"},
		{"DIDs for account, unknown", ask(9, 5, "User-Name", "nobody"), `Access-Reject Reply-Message="unknown account \"nobody\""`},

		// Get-Load-Balance-Group-Members
		{"group members", ask(4, 4, "User-Name", "GROUP"), "Access-Accept User-Name=account User-Name=alice"},
		{"group members, as labelled (context 3)", ask(4, 3, "User-Name", "group"), "Access-Accept User-Name=account User-Name=alice"},
		{"group members, not a group", ask(4, 4, "User-Name", "alice"), "Access-Accept"},
		{"group members, unknown", ask(4, 4, "User-Name", "nobody"), `Access-Reject Reply-Message="unknown account \"nobody\""`},

		// Outside the table
		{"unknown command", ask(99, 1, "User-Name", "account"), `Access-Reject Reply-Message="unknown FB-Command/FB-Context 99/1"`},
		{"known command, wrong context", ask(8, 1, "User-Name", "account"), `Access-Reject Reply-Message="unknown FB-Command/FB-Context 8/1"`},
	} {
		reply, err := serveTest(t, h, tc.req)
		if err != nil {
			t.Errorf("%s: no reply: %v", tc.name, err)
			continue
		}
		if got := render(reply); got != tc.want {
			t.Errorf("%s:\n  got  %s\n  want %s", tc.name, got, tc.want)
		}
	}
	if got := testutil.ToFloat64(profile.unknown); got != 2 {
		t.Errorf("unknown-command counter = %v, want 2", got)
	}
	if got := testutil.ToFloat64(profile.requests.vec.WithLabelValues("Get-Account", "Account-Login", "accept")); got != 2 {
		t.Errorf("login accept counter = %v, want 2", got)
	}
}

// TestCallAhead is FB-Call-Ahead-Mode for each account setting and what the
// called-numbers database knows of the number. The seed's port server
// instructs ATAs to Never or Always call ahead, or asks the database: only a
// Dynamic account (the default, "") is answered from it, in Pre-Send-Session
// as in Get-Call-Ahead-Mode, which the port server sends for Dynamic
// accounts only.
func TestCallAhead(t *testing.T) {
	st := fixture(t, `
accounts:
  - {name: never, callAheadMode: never}
  - {name: dynamic, callAheadMode: dynamic}
  - {name: default}
  - {name: always, callAheadMode: always}
`, fbdata.Options{})
	const (
		unknown  = "5552000000"
		verified = "5552000001"
		voice    = "5552000002"
		shared   = "5552000003" // a voice answer, then a fax: still a voice line
	)
	ctx := context.Background()
	for _, r := range []struct {
		number string
		result fbdata.CallResult
	}{{verified, fbdata.CallSuccess}, {voice, fbdata.CallVoiceError}, {shared, fbdata.CallVoiceError}, {shared, fbdata.CallFaxError}} {
		if err := st.RecordCalledNumber(ctx, r.number, r.result); err != nil {
			t.Fatal(err)
		}
	}
	h := NewProfile(accounts.New(st, nil), dids.New(st), prometheus.NewRegistry()).ForClient(Options{})
	const queue = uint32(2)
	preSend := func(account, number string) *radius.Packet {
		return ask(1, 3, "User-Name", account, attrTransferType, queue, attrDialNumber, number)
	}
	for _, tc := range []struct {
		name string
		req  *radius.Packet
		want uint32
	}{
		{"never, unknown number", preSend("never", unknown), 0},
		{"never, verified fax", preSend("never", verified), 0},
		{"never, voice error", preSend("never", voice), 0},
		{"never, voice then fax", preSend("never", shared), 0},
		{"never, on behalf of, voice error", preSend("never", "other;"+voice), 0},
		{"dynamic, unknown number", preSend("dynamic", unknown), 1},
		{"dynamic, verified fax", preSend("dynamic", verified), 0},
		{"dynamic, voice error", preSend("dynamic", voice), 1},
		{"dynamic, voice then fax", preSend("dynamic", shared), 1},
		{"dynamic, on behalf of, verified fax", preSend("dynamic", "other;"+verified), 0},
		{"default is dynamic, unknown number", preSend("default", unknown), 1},
		{"default is dynamic, verified fax", preSend("default", verified), 0},
		{"default is dynamic, voice error", preSend("default", voice), 1},
		{"always, unknown number", preSend("always", unknown), 1},
		{"always, verified fax", preSend("always", verified), 1},
		{"always, voice error", preSend("always", voice), 1},
		{"always, on behalf of, verified fax", preSend("always", "other;"+verified), 1},
		{"Get-Call-Ahead-Mode, unknown number", ask(5, 3, "User-Name", unknown), 1},
		{"Get-Call-Ahead-Mode, verified fax", ask(5, 3, "User-Name", verified), 0},
		{"Get-Call-Ahead-Mode, voice error", ask(5, 3, "User-Name", voice), 1},
		{"Get-Call-Ahead-Mode, voice then fax", ask(5, 3, "User-Name", shared), 1},
		// The account before the ";" is the billing account, not the one
		// whose Dynamic setting made the port server ask.
		{"Get-Call-Ahead-Mode, on behalf of a never account, verified fax", ask(5, 3, "User-Name", "never;"+verified), 0},
		{"Get-Call-Ahead-Mode, on behalf of a never account, voice error", ask(5, 3, "User-Name", "never;"+voice), 1},
		{"Get-Call-Ahead-Mode, on behalf of an always account, verified fax", ask(5, 3, "User-Name", "always;"+verified), 0},
	} {
		reply, err := serveTest(t, h, tc.req)
		if err != nil {
			t.Errorf("%s: no reply: %v", tc.name, err)
			continue
		}
		if got, want := render(reply), fmt.Sprintf("Access-Accept FB-Call-Ahead-Mode=%d", tc.want); got != want {
			t.Errorf("%s:\n  got  %s\n  want %s", tc.name, got, want)
		}
	}
}

func TestUUIDMode(t *testing.T) {
	const (
		dash   = "05A32765-C400-4993-90D8-35289F96988A"
		hexU   = "0x05A32765C400499390D835289F96988A"
		alice  = "11111111-2222-3333-4444-555555555555"
		aliceH = "0x11111111222233334444555555555555"
	)
	rawUUID, _ := hex.DecodeString("05A32765C400499390D835289F96988A")
	for _, tc := range []struct {
		name   string
		format UUIDFormat
		req    *radius.Packet
		want   string
	}{
		{"login, dash", UUIDDash, ask(1, 1, "User-Name", "account", "User-Password", "password"),
			"Access-Accept FB-Account-Type=4 FB-Account-UUID=" + dash + " FB-Rcv-Failover-Account-UUID=" + alice},
		{"login, hex", UUIDHex, ask(1, 1, "User-Name", "account", "User-Password", "password"),
			"Access-Accept FB-Account-Type=4 FB-Account-UUID=" + hexU + " FB-Rcv-Failover-Account-UUID=" + aliceH},
		{"login, binary", UUIDBinary, ask(1, 1, "User-Name", "alice", "User-Password", "wonderland"),
			"Access-Accept FB-Account-Type=0 FB-Account-Login-Group=*EAST FB-Call-Ahead-Mode=0 FB-Upload-Logs=1 FB-Account-UUID=0x11111111222233334444555555555555"},
		{"validate", UUIDDash, ask(1, 2, "User-Name", "account", "User-Password", "password"), "Access-Accept FB-Account-Type=4 FB-Account-UUID=" + dash},
		{"pre-send by binary UUID", UUIDBinary, ask(1, 3, attrAccountUUID, rawUUID), "Access-Accept User-Name=account"},
		{"pre-send by hex UUID", UUIDDash, ask(1, 3, attrAccountUUID, strings.ToLower(hexU)), "Access-Accept User-Name=account"},
		{"pre-send by name", UUIDDash, ask(1, 3, "User-Name", "ACCOUNT"), "Access-Accept User-Name=account"},
		{"pre-send, unknown UUID", UUIDDash, ask(1, 3, attrAccountUUID, "00000000-0000-0000-0000-000000000000"),
			`Access-Reject Reply-Message="unknown account UUID 00000000-0000-0000-0000-000000000000"`},
		{"pre-receive by UUID", UUIDDash, ask(1, 4, attrAccountUUID, dash),
			"Access-Accept User-Name=account FB-Rcv-Failover-Account-Id=alice FB-Rcv-Failover-Account-UUID=" + alice},
		{"external by UUID", UUIDDash, ask(1, 5, attrAccountUUID, dash), "Access-Accept User-Name=account FB-Account-Type=4"},
		{"group members by UUID", UUIDDash, ask(4, 4, attrAccountUUID, "22222222-3333-4444-5555-666666666666"),
			"Access-Accept FB-Account-UUID=" + dash + " FB-Account-UUID=" + alice},
		{"DID, pre-send", UUIDDash, ask(8, 3, "User-Name", "100"), "Access-Accept User-Name=account FB-Account-UUID=" + dash},
		{"DIDs for account by UUID", UUIDDash, ask(9, 5, attrAccountUUID, dash), "Access-Accept FB-DID=100"},
		{"DIDs for account by UUID, labelled Get-DID (8)", UUIDDash, ask(8, 5, attrAccountUUID, dash), "Access-Accept FB-DID=100"},
	} {
		h, _, _ := testHandler(t, Options{UUIDFormat: tc.format})
		reply, err := serveTest(t, h, tc.req)
		if err != nil {
			t.Errorf("%s: no reply: %v", tc.name, err)
			continue
		}
		if got := render(reply); got != tc.want {
			t.Errorf("%s:\n  got  %s\n  want %s", tc.name, got, tc.want)
		}
	}
	h, _, _ := testHandler(t, Options{UUIDFormat: UUIDDash})
	if _, err := serveTest(t, h, ask(1, 3, attrAccountUUID, "not-a-uuid")); nas.DropReason(err) != nas.ReasonMalformed {
		t.Errorf("garbage FB-Account-UUID: %v, want a malformed drop", err)
	}
}

func TestLongNamesInUUIDMode(t *testing.T) {
	long := strings.Repeat("ñ", 64) // 64 characters, 128 bytes
	st := fixture(t, "accounts:\n  - {name: "+long+", password: pw, type: 4}\n", fbdata.Options{LongNames: true})
	h := NewProfile(accounts.New(st, nil), dids.New(st), prometheus.NewRegistry()).ForClient(Options{UUIDFormat: UUIDDash})
	reply, err := serveTest(t, h, ask(1, 1, "User-Name", strings.ToUpper(long), "User-Password", "pw"))
	if err != nil || reply.Code != radius.CodeAccessAccept {
		t.Fatalf("64-character name: %v %v", reply, err)
	}
}

// TestNeverRejectsOnDoubt: when the answer is unknown, there is no reply.
func TestNeverRejectsOnDoubt(t *testing.T) {
	h, _, st := testHandler(t, Options{})
	wrongSecret := ask(1, 1, "User-Name", "account", "User-Password", "password")
	wrongSecret.Secret = []byte("not the secret it was encrypted with")
	if _, err := serveTest(t, h, wrongSecret); nas.DropReason(err) != nas.ReasonBadAuthenticator {
		t.Errorf("wrong shared secret: %v, want a bad_authenticator drop", err)
	}
	st.Close() // the backend goes away
	for _, req := range []*radius.Packet{
		ask(1, 1, "User-Name", "account", "User-Password", "password"),
		ask(1, 3, "User-Name", "account"),
		ask(2, 4, "User-Name", "100"),
		ask(5, 3, "User-Name", "5551000001"),
		ask(8, 3, "User-Name", "102"),
		ask(4, 4, "User-Name", "group"),
	} {
		reply, err := serveTest(t, h, req)
		if reply != nil || nas.DropReason(err) != nas.ReasonBackend {
			t.Errorf("store closed: reply %v, err %v; want no reply, backend_error", reply, err)
		}
	}
}

// olderDIDs is a dids service from before routes: the DID alone.
type olderDIDs struct{ *dids.Service }

func (o olderDIDs) Route(ctx context.Context, number string) (dids.Route, error) {
	r, err := o.Service.Route(ctx, number)
	return dids.Route{DID: r.DID}, err
}

// danglingDIDs answers every route with a DID whose account is gone.
type danglingDIDs struct{ *dids.Service }

func (danglingDIDs) Route(context.Context, string) (dids.Route, error) {
	return dids.Route{}, fmt.Errorf("dids: DID routes to account %q: %w", "ghost", dids.ErrDanglingDID)
}

// Inbound routing reads the DID and its account in one Route; from an older
// dids service it asks the accounts service, and a DID routing nowhere is
// never a Reject.
func TestFromDIDRoutes(t *testing.T) {
	st := fixture(t, data, fbdata.Options{})
	for name, tc := range map[string]struct {
		dids nas.DIDs
		want string
	}{
		"routed":         {dids.New(st), "Access-Accept User-Name=mailer FB-Rcv-Email=inbox@acme.example FB-Rcv-Format=1"},
		"older service":  {olderDIDs{dids.New(st)}, "Access-Accept User-Name=mailer FB-Rcv-Email=inbox@acme.example FB-Rcv-Format=1"},
		"dangling route": {danglingDIDs{dids.New(st)}, "no reply"},
	} {
		h := NewProfile(accounts.New(st, nil), tc.dids, prometheus.NewRegistry()).ForClient(Options{})
		reply, err := serveTest(t, h, ask(2, 5, "User-Name", "102"))
		got := "no reply"
		if err == nil {
			got = render(reply)
		} else if !errors.Is(err, dids.ErrDanglingDID) {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: %s, want %s", name, got, tc.want)
		}
	}
}
