package dialogic

import (
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	dictparse "layeh.com/radius/dictionary"

	"kradius.dev/services/accounting"
	"kradius.dev/services/nas"
)

// decodeTestOptions decodes text as a client's dialogic block.
func decodeTestOptions(t *testing.T, text string) (Options, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(text), &node); err != nil {
		t.Fatal(err)
	}
	var block *yaml.Node
	if len(node.Content) > 0 {
		block = node.Content[0]
	}
	o, err := decodeOptions(block)
	if err != nil {
		return Options{}, err
	}
	return o.(Options), nil
}

func TestDialogicOptionDefaults(t *testing.T) {
	for _, text := range []string{"", "{}\n"} {
		o, err := decodeTestOptions(t, text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		want := Options{
			TrunkIn: 44, TrunkOut: 45, RemoteAddress: 23, OriginateAddress: 200,
			CallDirection: 201, StartType: 202, StartTime: 203,
			AddressEncoding: EncodingAuto, StartTimeZone: "UTC", zone: time.UTC,
		}
		if o != want {
			t.Errorf("%q: defaults %+v, want %+v", text, o, want)
		}
	}
}

func TestDialogicOptions(t *testing.T) {
	o, err := decodeTestOptions(t, `
trunk_in_attribute: 10
trunk_out_attribute: 11
remote_address_attribute: 12
originate_address_attribute: 13
call_direction_attribute: 14
start_type_attribute: 15
start_time_attribute: 16
address_encoding: string
start_time_zone: America/New_York
`)
	if err != nil {
		t.Fatal(err)
	}
	if o.TrunkIn != 10 || o.TrunkOut != 11 || o.RemoteAddress != 12 || o.OriginateAddress != 13 ||
		o.CallDirection != 14 || o.StartType != 15 || o.StartTime != 16 ||
		o.AddressEncoding != EncodingString || o.StartTimeZone != "America/New_York" || o.Zone().String() != "America/New_York" {
		t.Errorf("options: %+v", o)
	}
	// Swapping two defaults is no clash.
	if o, err := decodeTestOptions(t, "trunk_in_attribute: 45\ntrunk_out_attribute: 44\n"); err != nil || o.TrunkIn != 45 || o.TrunkOut != 44 {
		t.Errorf("swapped trunks: %+v, %v", o, err)
	}
}

func TestDialogicOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		text, key, want string
	}{
		{"trunk_attribute: 44\n", "trunk_attribute", "unknown option (known: address_encoding, call_direction_attribute,"},
		{"trunk_in_attribute: 0\n", "trunk_in_attribute", "0 is not a vendor attribute number (1..255)"},
		{"trunk_out_attribute: 256\n", "trunk_out_attribute", "256 is not a vendor attribute number"},
		{"start_time_attribute: -3\n", "start_time_attribute", "-3 is not a vendor attribute number"},
		{"start_type_attribute: two\n", "start_type_attribute", "cannot unmarshal !!str `two` into int"},
		{"start_type_attribute: 2.5\n", "start_type_attribute", "2.5 is not a vendor attribute number"},
		{"start_type_attribute: 2.0\n", "start_type_attribute", "2.0 is not a vendor attribute number"},
		{"start_type_attribute: ~\n", "start_type_attribute", "~ is not a vendor attribute number"},
		// Both set: the later role is named, with the earlier.
		{"trunk_in_attribute: 30\nstart_time_attribute: 30\n", "start_time_attribute", "30 is also trunk_in_attribute: one role to a number"},
		// One set onto another's default: the one set is named.
		{"call_direction_attribute: 23\n", "call_direction_attribute", "23 is also remote_address_attribute, by default"},
		{"trunk_in_attribute: 203\n", "trunk_in_attribute", "203 is also start_time_attribute, by default"},
		{"address_encoding: text\n", "address_encoding", `"text" is not auto (either), ipaddr (4 or 16 octets) or string (text)`},
		{"address_encoding: \"\"\n", "address_encoding", `"" is not auto`},
		{"start_time_zone: Mars/Olympus_Mons\n", "start_time_zone", "unknown time zone Mars/Olympus_Mons"},
		{"start_time_zone: Local\n", "start_time_zone", `"Local": name the IMG's zone`},
		{"start_time_zone: \"\"\n", "start_time_zone", `"": name the IMG's zone`},
		{"- trunk_in_attribute\n", "", "must be a mapping of options"},
	} {
		_, err := decodeTestOptions(t, tc.text)
		var oe *nas.OptionError
		if !errors.As(err, &oe) {
			t.Errorf("%q: %v, want an OptionError", tc.text, err)
			continue
		}
		if oe.Key != tc.key || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: key %q, %v; want key %q, %q", tc.text, oe.Key, err, tc.key, tc.want)
		}
	}
}

func TestDialogicAddress(t *testing.T) {
	ipaddr := Options{AddressEncoding: EncodingIPAddr}
	text := Options{AddressEncoding: EncodingString}
	v4 := netip.MustParseAddr("192.0.2.7")
	v6 := netip.MustParseAddr("2001:db8::1")
	for _, tc := range []struct {
		name string
		o    Options
		vsa  []byte
		want netip.Addr // invalid: not an address
	}{
		{"ipaddr", ipaddr, []byte{192, 0, 2, 7}, v4},
		{"octets by default", Options{}, []byte{192, 0, 2, 7}, v4},
		{"text by default", Options{}, []byte("192.0.2.7"), v4},
		{"auto: octets", Options{AddressEncoding: EncodingAuto}, []byte{192, 0, 2, 7}, v4},
		{"auto: IPv6 octets", Options{AddressEncoding: EncodingAuto}, v6.AsSlice(), v6},
		{"auto: text", Options{AddressEncoding: EncodingAuto}, []byte("192.0.2.7\x00"), v4},
		{"auto: neither", Options{AddressEncoding: EncodingAuto}, []byte("gw1.example"), netip.Addr{}},
		{"ipaddr IPv6", ipaddr, v6.AsSlice(), v6},
		{"ipaddr IPv4-mapped", ipaddr, netip.MustParseAddr("::ffff:192.0.2.7").AsSlice(), v4},
		{"ipaddr short", ipaddr, []byte{192, 0, 2}, netip.Addr{}},
		{"ipaddr long", ipaddr, []byte{192, 0, 2, 7, 0}, netip.Addr{}},
		{"ipaddr empty", ipaddr, nil, netip.Addr{}},
		{"ipaddr given text", ipaddr, []byte("192.0.2.7"), netip.Addr{}},
		{"string", text, []byte("192.0.2.7"), v4},
		{"string padded", text, []byte(" 192.0.2.7\x00"), v4},
		{"string IPv6", text, []byte("2001:db8::1"), v6},
		{"string IPv4-mapped", text, []byte("::ffff:192.0.2.7"), v4},
		{"string with zone", text, []byte("fe80::1%eth0"), netip.Addr{}},
		{"string not an address", text, []byte("gw1.example"), netip.Addr{}},
		{"string empty", text, nil, netip.Addr{}},
		{"string given octets", text, []byte{192, 0, 2, 7}, netip.Addr{}},
	} {
		got, ok := tc.o.Address(tc.vsa)
		if ok != tc.want.IsValid() || got != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.name, got, ok, tc.want)
		}
	}
}

func TestDialogicStartTimeOf(t *testing.T) {
	zone := func(name string) Options {
		o, err := decodeTestOptions(t, "start_time_zone: "+name+"\n")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	// wall is the IMG's clock: its value is wall's seconds as if UTC.
	wall := func(y int, mo time.Month, d, h, mi int) uint32 {
		return uint32(time.Date(y, mo, d, h, mi, 0, 0, time.UTC).Unix())
	}
	utc := func(y int, mo time.Month, d, h, mi int) time.Time {
		return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	}
	newYork, london := zone("America/New_York"), zone("Europe/London")
	for _, tc := range []struct {
		name string
		o    Options
		v    uint32
		want []time.Time // any of
	}{
		{"UTC by default", zone("UTC"), wall(2024, 1, 15, 10, 0), []time.Time{utc(2024, 1, 15, 10, 0)}},
		{"zero Options", Options{}, wall(2024, 1, 15, 10, 0), []time.Time{utc(2024, 1, 15, 10, 0)}},
		{"zero", Options{}, 0, []time.Time{utc(1970, 1, 1, 0, 0)}},
		{"New York winter (EST)", newYork, wall(2024, 1, 15, 10, 0), []time.Time{utc(2024, 1, 15, 15, 0)}},
		{"New York summer (EDT)", newYork, wall(2024, 7, 15, 10, 0), []time.Time{utc(2024, 7, 15, 14, 0)}},
		{"London summer (BST)", london, wall(2024, 7, 15, 10, 0), []time.Time{utc(2024, 7, 15, 9, 0)}},
		{"London winter (GMT)", london, wall(2024, 12, 15, 10, 0), []time.Time{utc(2024, 12, 15, 10, 0)}},
		{"New York year end (EST)", newYork, wall(2024, 12, 31, 23, 30), []time.Time{utc(2025, 1, 1, 4, 30)}},
		// 02:30 does not exist on 10 March 2024 in New York; 01:30 comes
		// twice on 3 November.
		{"New York spring gap", newYork, wall(2024, 3, 10, 2, 30), []time.Time{utc(2024, 3, 10, 6, 30), utc(2024, 3, 10, 7, 30)}},
		{"New York autumn overlap", newYork, wall(2024, 11, 3, 1, 30), []time.Time{utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6, 30)}},
		{"largest value", zone("UTC"), 1<<32 - 1, []time.Time{time.Unix(1<<32-1, 0).UTC()}},
	} {
		got := tc.o.StartTimeOf(tc.v)
		if got.Location() != time.UTC {
			t.Errorf("%s: %v is not in UTC", tc.name, got)
		}
		found := false
		for _, w := range tc.want {
			found = found || got.Equal(w)
		}
		if !found {
			t.Errorf("%s: %v, want one of %v", tc.name, got, tc.want)
		}
	}
}

// TestDialogicDictionary keeps the option defaults, dictionary.dialogic
// and dictionary.cantata in step, and checks that the accounting decoder
// takes the dictionary.
func TestDialogicDictionary(t *testing.T) {
	parse := func(file string) map[string]*dictparse.Attribute {
		t.Helper()
		d, err := (&dictparse.Parser{Opener: &dictparse.FileSystemOpener{}}).ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Attributes) != 0 || len(d.Vendors) != 1 || d.Vendors[0].Number != 3028 || d.Vendors[0].Name != "Dialogic" {
			t.Fatalf("%s: want vendor Dialogic 3028 alone, got %d attributes and vendors %+v", file, len(d.Attributes), d.Vendors)
		}
		m := map[string]*dictparse.Attribute{}
		for _, a := range d.Vendors[0].Attributes {
			m[a.Name] = a
		}
		return m
	}
	dialogic := parse("dictionary.dialogic")
	o, err := decodeTestOptions(t, "")
	if err != nil {
		t.Fatal(err)
	}
	numbers := map[int]bool{}
	for _, tc := range []struct {
		name   string
		number int
		kind   dictparse.AttributeType
	}{
		{"Dialogic-trunk-grp-in", o.TrunkIn, dictparse.AttributeString},
		{"Dialogic-trunk-grp-out", o.TrunkOut, dictparse.AttributeString},
		{"Dialogic-voip-dst-sig-ip-in", o.RemoteAddress, dictparse.AttributeString},
		{"Dialogic-Originate-Address", o.OriginateAddress, dictparse.AttributeIPAddr},
		{"Dialogic-Call-Direction", o.CallDirection, dictparse.AttributeString},
		{"Dialogic-Start-Type", o.StartType, dictparse.AttributeInteger},
		{"Dialogic-Start-Time", o.StartTime, dictparse.AttributeInteger},
	} {
		a := dialogic[tc.name]
		if a == nil || a.OID.String() != strconv.Itoa(tc.number) || a.Type != tc.kind {
			t.Errorf("%s: dictionary has %+v, want %d %s", tc.name, a, tc.number, tc.kind)
		}
	}
	for _, a := range dialogic {
		if len(a.OID) != 1 || numbers[a.OID[0]] {
			t.Errorf("%s: number %s taken twice or not one octet", a.Name, a.OID)
		}
		numbers[a.OID[0]] = true
	}

	// Every alias names a Dialogic-* attribute's number, with its type.
	cantata := parse("dictionary.cantata")
	if len(cantata) == 0 {
		t.Fatal("dictionary.cantata: no attributes")
	}
	for name, a := range cantata {
		d := dialogic["Dialogic-"+strings.TrimPrefix(name, "Cantata-")]
		if !strings.HasPrefix(name, "Cantata-") || d == nil || d.OID.String() != a.OID.String() || d.Type != a.Type {
			t.Errorf("%s %s %s: no Dialogic-* attribute of that name, number and type (%+v)", name, a.OID, a.Type, d)
		}
	}

	text, err := os.ReadFile("dictionary.dialogic")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accounting.NewDictionary(text); err != nil {
		t.Errorf("accounting.NewDictionary(dictionary.dialogic): %v", err)
	}
}
