package dialogic

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	carrierv1 "kradius.dev/proto/kradius/carrier/v1"
	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/carrier"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records/embedded"
)

// The tandem of seed 003: the Primary Carrier owns IMGs 10.0.0.1 and
// 10.0.0.2 and the on-net network 10.0.0.0/8; Partner A (TDM) is on trunk 7
// of IMG 1; Partner B (VoIP) has gateways in 198.51.100.0/24 and may call
// only domestic numbers; Partner C (TDM) is on trunk 9 of IMG 2; Partner D
// (VoIP) is 203.0.113.0/24.
var tandem = []*carrierv1.Carrier{
	{Name: "Primary", Primary: true, SourceCidrs: []string{"10.0.0.0/8"}},
	{Name: "PartnerA", Trunks: []*carrierv1.Trunk{{Img: "10.0.0.1", TrunkId: "7"}}},
	{Name: "PartnerB", SourceCidrs: []string{"198.51.100.0/24"}, AllowedPrefixes: []string{"0"}},
	{Name: "PartnerC", Trunks: []*carrierv1.Trunk{{Img: "10.0.0.2", TrunkId: "9"}}},
	{Name: "PartnerD", SourceCidrs: []string{"203.0.113.0/24"}},
}

// records is a records service holding carriers.
func records(t testing.TB, carriers []*carrierv1.Carrier) *recordsvc.Service {
	t.Helper()
	kinds := recordsvc.Kinds([]nas.Plugin{Plugin})
	rs, err := embedded.Open(filepath.Join(t.TempDir(), "records.db"), recordsvc.StoreKinds(kinds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	s := recordsvc.New(rs, kinds, password.NewVerifier(1, time.Minute), password.Params{Memory: 64, Time: 1, Threads: 1})
	var writes []recordsvc.Write
	for _, c := range carriers {
		writes = append(writes, recordsvc.Write{Kind: carrier.KindName, Value: c})
	}
	if err := s.Put(context.Background(), writes); err != nil {
		t.Fatal(err)
	}
	return s
}

// running is a built profile whose carriers' table is live.
func running(t *testing.T, rs nas.Records) *profile { return runningF(t, rs) }

func runningF(t testing.TB, rs nas.Records) *profile {
	t.Helper()
	built, err := Plugin.New(nas.Deps{Records: rs, Metrics: prometheus.NewRegistry(), Host: "edge-1"})
	if err != nil {
		t.Fatal(err)
	}
	p := built.(*profile)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitLive(t, p.live.Table)
	return p
}

func waitLive(t testing.TB, table func() (*carrier.Table, bool)) {
	t.Helper()
	eventually.True(t, "the carriers' table live", func() bool { _, live := table(); return live })
}

func vsa(n int, v []byte) radius.Attribute {
	b := binary.BigEndian.AppendUint32(nil, Vendor)
	return append(b, append([]byte{byte(n), byte(len(v) + 2)}, v...)...)
}

func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

// authRequest is the seed's optional Access-Request from img: the calling
// number as User-Name and Calling-Station-Id, the trunk or the originate
// address.
func authRequest(img, trunk, originate, called string) *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, []byte("secret"))
	rfc2865.UserName_SetString(p, "01632960001")
	rfc2865.CallingStationID_SetString(p, "01632960001")
	rfc2865.CalledStationID_SetString(p, called)
	if img != "" {
		rfc2865.NASIPAddress_Set(p, net.ParseIP(img))
	}
	if trunk != "" {
		p.Add(rfc2865.VendorSpecific_Type, vsa(defaultTrunkIn, []byte(trunk)))
	}
	if originate != "" {
		p.Add(rfc2865.VendorSpecific_Type, vsa(defaultOriginateAddress, ip(originate)))
	}
	return p
}

func TestCarrierAuthentication(t *testing.T) {
	p := running(t, records(t, tandem))
	h, err := p.Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  *radius.Packet
		want radius.Code
	}{
		{"TDM partner on its trunk", authRequest("10.0.0.1", "7", "10.0.0.1", "+33123456"), radius.CodeAccessAccept},
		{"an unknown trunk", authRequest("10.0.0.1", "8", "10.0.0.1", "+33123456"), radius.CodeAccessReject},
		{"a trunk id known on another IMG only", authRequest("10.0.0.2", "7", "10.0.0.2", "+33123456"), radius.CodeAccessReject},
		{"VoIP partner by its gateway", authRequest("10.0.0.1", "", "198.51.100.9", "01632960002"), radius.CodeAccessAccept},
		{"an address just outside the CIDR", authRequest("10.0.0.1", "", "198.51.101.0", "01632960002"), radius.CodeAccessReject},
		{"a destination outside the allowed prefixes", authRequest("10.0.0.1", "", "198.51.100.9", "+33123456"), radius.CodeAccessReject},
		{"no trunk, no address", authRequest("10.0.0.1", "", "", "01632960002"), radius.CodeAccessReject},
	} {
		got, err := h.ServeAccess(ctx, &nas.Request{Packet: tc.req})
		if err != nil || got.Code != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
	if got, err := h.ServeAccess(ctx, &nas.Request{Packet: authRequest("", "7", "", "0")}); got != nil || nas.DropReason(err) != nas.ReasonMalformed {
		t.Errorf("no NAS-IP-Address: %v %v, want a malformed drop", got, err)
	}
	for result, want := range map[string]float64{resultAccept: 2, resultUnknown: 4, resultNotAllowed: 1, resultDropped: 1} {
		if got := testutil.ToFloat64(p.requests.WithLabelValues(result)); got != want {
			t.Errorf("requests{%s} = %v, want %v", result, got, want)
		}
	}
}

// While the carriers' table is not live the answer is unknown: no reply,
// never a Reject.
func TestNoTableNoAnswer(t *testing.T) {
	built, err := Plugin.New(nas.Deps{Records: records(t, tandem), Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := built.Client(nil)
	got, err := h.ServeAccess(context.Background(), &nas.Request{Packet: authRequest("10.0.0.1", "7", "", "0")})
	if got != nil || err == nil || nas.DropReason(err) != nas.ReasonBackend {
		t.Errorf("%v %v, want no reply for the backend", got, err)
	}
}

// call is an Accounting-Request of a leg: direction, trunks, addresses,
// start type and time as the IMG sends them.
type call struct {
	status                   rfc2866.AcctStatusType
	session, img, direction  string
	trunkIn, trunkOut        string
	originate, remote        string
	startType                uint32
	startTime, seconds       uint32
	noStartType, stringAddrs bool
}

func (c call) packet() []byte {
	p := radius.New(radius.CodeAccountingRequest, []byte("secret"))
	rfc2866.AcctStatusType_Set(p, c.status)
	rfc2866.AcctSessionID_SetString(p, c.session)
	rfc2865.NASIPAddress_Set(p, net.ParseIP(c.img))
	rfc2865.CallingStationID_SetString(p, "01632960001")
	rfc2865.CalledStationID_SetString(p, "01632960002")
	add := func(n int, v []byte) {
		if len(v) > 0 {
			p.Add(rfc2865.VendorSpecific_Type, vsa(n, v))
		}
	}
	addr := func(s string) []byte {
		switch {
		case s == "":
			return nil
		case c.stringAddrs:
			return []byte(s)
		}
		return ip(s)
	}
	add(defaultCallDirection, []byte(c.direction))
	add(defaultTrunkIn, []byte(c.trunkIn))
	add(defaultTrunkOut, []byte(c.trunkOut))
	add(defaultOriginateAddress, addr(c.originate))
	add(defaultRemoteAddress, addr(c.remote))
	if !c.noStartType {
		add(defaultStartType, binary.BigEndian.AppendUint32(nil, c.startType))
	}
	if c.startTime > 0 {
		add(defaultStartTime, binary.BigEndian.AppendUint32(nil, c.startTime))
	}
	if c.status == rfc2866.AcctStatusType_Value_Stop {
		rfc2866.AcctSessionTime_Set(p, rfc2866.AcctSessionTime(c.seconds))
	}
	b, err := p.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

// record is the edge's record of c, for a client with options.
func record(t *testing.T, h nas.Handler, c call) *accountingv1.Record {
	t.Helper()
	rec, err := h.(nas.AccountingHandler).ServeAccounting(context.Background(), &nas.AccountingRequest{
		Raw: c.packet(), Client: "img", Source: netip.MustParseAddrPort("192.0.2.1:1646"), Received: time.Unix(1_800_000_000, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r accountingv1.Record
	if err := proto.Unmarshal(rec.Wire, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestAccountingStarts(t *testing.T) {
	p := running(t, records(t, tandem))
	h, _ := p.Client(nil)
	r := record(t, h, call{status: rfc2866.AcctStatusType_Value_Start, session: "s1", img: "10.0.0.1", direction: "O", trunkIn: "7", remote: "10.0.0.2", startType: 2, startTime: 1_800_000_000})
	derived := map[string]*accountingv1.Attribute{}
	for _, a := range r.GetDerived() {
		derived[a.GetName()] = a
	}
	if derived[DerivedTrunkIn].GetText() != "7" || derived[DerivedRemoteAddress].GetAddress() != "10.0.0.2" || derived[DerivedCallDirection].GetText() != "O" ||
		derived[DerivedStartType].GetInteger() != 2 || !derived[DerivedStartTime].GetTime().AsTime().Equal(time.Unix(1_800_000_000, 0)) {
		t.Errorf("derived %v", r.GetDerived())
	}
	named := false
	for _, a := range r.GetAttributes() {
		named = named || a.GetName() == "Dialogic-trunk-grp-in"
	}
	if !named {
		t.Errorf("attributes %v: want the VSAs by name", r.GetAttributes())
	}
	record(t, h, call{status: rfc2866.AcctStatusType_Value_Start, session: "s2", img: "10.0.0.1", noStartType: true})
	record(t, h, call{status: rfc2866.AcctStatusType_Value_Start, session: "s3", img: "10.0.0.1", startType: 1})
	if c, a := testutil.ToFloat64(p.starts.WithLabelValues(startCall)), testutil.ToFloat64(p.starts.WithLabelValues(startAuthorization)); c != 1 || a != 2 {
		t.Errorf("starts: call %v, authorization %v; want 1 and 2", c, a)
	}
}

// The seed's three flows, each with TDM and VoIP partners, and the
// records that identify no carrier.
func TestSettle(t *testing.T) {
	rs := records(t, tandem)
	p := running(t, rs)
	zone := "start_time_zone: Europe/Paris\n"
	h, err := p.Client(mustOptions(t, zone))
	if err != nil {
		t.Fatal(err)
	}
	s := newSessions(nas.SessionDeps{Records: rs, Metrics: prometheus.NewRegistry()}).(*sessions)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	waitLive(t, s.live.Table)

	// 2027-01-15 09:00:00 on the IMG's clock in Paris is 08:00 UTC.
	local := uint32(time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC).Unix())
	stop := func(c call) call {
		c.status, c.startType, c.startTime, c.seconds = rfc2866.AcctStatusType_Value_Stop, 2, local, 61
		return c
	}
	for _, tc := range []struct {
		name       string
		call       call
		side       settlementv1.Side
		orig, term string
	}{
		{"originating, TDM partner", stop(call{session: "o-tdm", img: "10.0.0.1", direction: "O", trunkIn: "7", originate: "10.0.0.1", remote: "10.0.0.2"}), settlementv1.Side_SIDE_ORIGINATING, "PartnerA", "Primary"},
		{"originating, VoIP partner", stop(call{session: "o-voip", img: "10.0.0.1", direction: "O", originate: "198.51.100.9", remote: "10.0.0.2"}), settlementv1.Side_SIDE_ORIGINATING, "PartnerB", "Primary"},
		{"terminating, TDM partner", stop(call{session: "t-tdm", img: "10.0.0.2", direction: "I", trunkOut: "9", originate: "10.0.0.1"}), settlementv1.Side_SIDE_TERMINATING, "Primary", "PartnerC"},
		{"terminating, VoIP partner", stop(call{session: "t-voip", img: "10.0.0.2", direction: "I", originate: "10.0.0.1", remote: "203.0.113.5"}), settlementv1.Side_SIDE_TERMINATING, "Primary", "PartnerD"},
		{"hairpin, TDM to VoIP", stop(call{session: "h-1", img: "10.0.0.1", direction: "I", trunkIn: "7", originate: "10.0.0.1", remote: "203.0.113.5"}), settlementv1.Side_SIDE_HAIRPIN, "PartnerA", "PartnerD"},
		{"hairpin, VoIP to TDM", stop(call{session: "h-2", img: "10.0.0.2", direction: "I", originate: "198.51.100.9", trunkOut: "9"}), settlementv1.Side_SIDE_HAIRPIN, "PartnerB", "PartnerC"},
		{"an unknown trunk", stop(call{session: "u-1", img: "10.0.0.1", direction: "O", trunkIn: "70", remote: "10.0.0.2"}), settlementv1.Side_SIDE_ORIGINATING, Unknown, "Primary"},
		{"a trunk of another IMG", stop(call{session: "u-2", img: "10.0.0.2", direction: "O", trunkIn: "7", remote: "10.0.0.1"}), settlementv1.Side_SIDE_ORIGINATING, Unknown, "Primary"},
		{"an address just outside", stop(call{session: "u-3", img: "10.0.0.2", direction: "I", originate: "10.0.0.1", remote: "203.0.114.0"}), settlementv1.Side_SIDE_TERMINATING, "Primary", Unknown},
		{"addresses as text (auto)", stop(call{session: "o-text", img: "10.0.0.1", direction: "O", originate: "198.51.100.9", remote: "10.0.0.2", stringAddrs: true}), settlementv1.Side_SIDE_ORIGINATING, "PartnerB", "Primary"},
	} {
		r, err := s.Settle(record(t, h, tc.call))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.GetSide() != tc.side || r.GetOriginatingCarrier() != tc.orig || r.GetTerminatingCarrier() != tc.term {
			t.Errorf("%s: %v %s -> %s, want %v %s -> %s", tc.name, r.GetSide(), r.GetOriginatingCarrier(), r.GetTerminatingCarrier(), tc.side, tc.orig, tc.term)
		}
		if r.GetSeconds() != 61 || !r.GetStart().AsTime().Equal(time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC)) || r.GetSessionId() != tc.call.session {
			t.Errorf("%s: %v: want 61 s from 08:00 UTC", tc.name, r)
		}
	}
	// A client whose addresses are set to octets does not read text.
	octets, err := p.Client(mustOptions(t, "address_encoding: ipaddr\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Settle(record(t, octets, stop(call{session: "o-text2", img: "10.0.0.1", direction: "O", originate: "198.51.100.9", remote: "10.0.0.2", stringAddrs: true})))
	if err != nil || r.GetOriginatingCarrier() != Unknown || r.GetTerminatingCarrier() != Unknown {
		t.Errorf("addresses as text, option ipaddr: %v %v, want both unknown", r, err)
	}
	if got := testutil.ToFloat64(s.unknown.WithLabelValues("originating")); got != 3 {
		t.Errorf("unknown originating = %v, want 3", got)
	}
}

func mustOptions(t *testing.T, text string) Options {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	o, err := decodeOptions(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	return o.(Options)
}
