package dialogic

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"
	// The IANA time zone database, built into the binary (about 450 kB):
	// start_time_zone names the IMG's zone, and time.LoadLocation finds no
	// zone at all on a host or minimal container image without
	// /usr/share/zoneinfo. With it, a zone that loads in the tests loads in
	// production.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"

	"kradius.dev/services/nas"
)

// Address encodings of the Originate Address and Remote Address VSAs.
const (
	// EncodingIPAddr is 4 octets in network order ("32 bit in network
	// order", seed 003), or 16 for IPv6.
	EncodingIPAddr = "ipaddr"
	// EncodingString is the address as text ("192.0.2.7"), as the
	// documented voip-dst-sig-ip-in (23) is.
	EncodingString = "string"
	// EncodingAuto (the default) takes either: text when the value reads
	// as an address, else 4 or 16 octets. The seed says the addresses are
	// binary, and the one documented address VSA (23) is text; a dotted
	// address is 7 to 15 printable octets, so the two cannot be mistaken
	// for each other in IPv4, and in IPv6 only by 16 octets that all
	// happen to be printable and read as an address.
	EncodingAuto = "auto"
)

// Options are a dialogic client's options (its `dialogic:` block). Every key
// is optional; a key left out keeps the default documented on its field.
//
// The *Attribute fields are Dialogic (vendor 3028) VSA numbers, 1..255, one
// role to a number. The roles are the seed's (Trunk Id, Remote Address,
// Originate Address, Call Direction, Accounting start type, Start Time);
// the defaults of the first three are the Sangoma KB's documented VSAs, of
// the other four kradius's own numbers, to be confirmed against a capture
// from the IMG (dictionary.dialogic).
type Options struct {
	// TrunkIn is the VSA of the inbound trunk (channel group) name, the
	// seed's Trunk Id: default 44, Dialogic-trunk-grp-in.
	TrunkIn int `yaml:"trunk_in_attribute"`
	// TrunkOut is the VSA of the outbound trunk name: default 45,
	// Dialogic-trunk-grp-out.
	TrunkOut int `yaml:"trunk_out_attribute"`
	// RemoteAddress is the VSA of the remote gateway's address, the seed's
	// Remote Address: default 23, Dialogic-voip-dst-sig-ip-in.
	RemoteAddress int `yaml:"remote_address_attribute"`
	// OriginateAddress is the VSA of the address the call came from, the
	// seed's Originate Address: default 200, Dialogic-Originate-Address
	// (a kradius default).
	OriginateAddress int `yaml:"originate_address_attribute"`
	// CallDirection is the VSA of the record's side of the call ("O"
	// originating, "I" terminating or hairpin): default 201,
	// Dialogic-Call-Direction (a kradius default).
	CallDirection int `yaml:"call_direction_attribute"`
	// StartType is the VSA of the Accounting start type (2: a call start):
	// default 202, Dialogic-Start-Type (a kradius default).
	StartType int `yaml:"start_type_attribute"`
	// StartTime is the VSA of the call's start, seconds since 1970 in the
	// IMG's local time: default 203, Dialogic-Start-Time (a kradius
	// default).
	StartTime int `yaml:"start_time_attribute"`
	// AddressEncoding is how the RemoteAddress and OriginateAddress VSAs
	// carry an address: EncodingAuto (the default: either), EncodingIPAddr
	// (the seed's) or EncodingString (VSA 23's).
	AddressEncoding string `yaml:"address_encoding"`
	// StartTimeZone is the IANA name of the zone the IMG's clock keeps,
	// in which StartTime's wall clock is read: default "UTC".
	StartTimeZone string `yaml:"start_time_zone"`

	// zone is StartTimeZone loaded; nil in Options not decoded, read as UTC.
	zone *time.Location
}

// Defaults of Options.
const (
	defaultTrunkIn          = 44
	defaultTrunkOut         = 45
	defaultRemoteAddress    = 23
	defaultOriginateAddress = 200
	defaultCallDirection    = 201
	defaultStartType        = 202
	defaultStartTime        = 203
	defaultStartTimeZone    = "UTC"
)

func decodeOptions(block *yaml.Node) (any, error) {
	o := Options{
		TrunkIn:          defaultTrunkIn,
		TrunkOut:         defaultTrunkOut,
		RemoteAddress:    defaultRemoteAddress,
		OriginateAddress: defaultOriginateAddress,
		CallDirection:    defaultCallDirection,
		StartType:        defaultStartType,
		StartTime:        defaultStartTime,
		AddressEncoding:  EncodingAuto,
		StartTimeZone:    defaultStartTimeZone,
	}
	// Decoded over the defaults: a key given as 0 or "" is an error, not
	// the default.
	if err := nas.DecodeOptions(block, &o); err != nil {
		return nil, err
	}
	bad := func(key, format string, args ...any) error {
		return &nas.OptionError{Key: key, Reason: fmt.Sprintf(format, args...)}
	}

	// The keys the client set; and yaml.v3 truncates a float into an int,
	// so a number must be an integer in the YAML.
	given := map[string]bool{}
	if block != nil {
		for i := 0; i+1 < len(block.Content); i += 2 {
			key, value := block.Content[i].Value, block.Content[i+1]
			given[key] = true
			if strings.HasSuffix(key, "_attribute") && value.ShortTag() != "!!int" {
				return nil, bad(key, "%s is not a vendor attribute number (1..255)", value.Value)
			}
		}
	}
	roles := []struct {
		key    string
		number int
	}{
		{"trunk_in_attribute", o.TrunkIn},
		{"trunk_out_attribute", o.TrunkOut},
		{"remote_address_attribute", o.RemoteAddress},
		{"originate_address_attribute", o.OriginateAddress},
		{"call_direction_attribute", o.CallDirection},
		{"start_type_attribute", o.StartType},
		{"start_time_attribute", o.StartTime},
	}
	taken := map[int]string{}
	for _, r := range roles {
		if r.number < 1 || r.number > 255 {
			return nil, bad(r.key, "%d is not a vendor attribute number (1..255)", r.number)
		}
		other, dup := taken[r.number]
		if !dup {
			taken[r.number] = r.key
			continue
		}
		// Name the key the client set; the other may be a default.
		key := r.key
		if !given[key] && given[other] {
			key, other = other, key
		}
		how := ""
		if !given[other] {
			how = ", by default"
		}
		return nil, bad(key, "%d is also %s%s: one role to a number", r.number, other, how)
	}

	switch o.AddressEncoding {
	case EncodingIPAddr, EncodingString, EncodingAuto:
	default:
		return nil, bad("address_encoding", "%q is not %s (either), %s (4 or 16 octets) or %s (text)", o.AddressEncoding, EncodingAuto, EncodingIPAddr, EncodingString)
	}

	switch o.StartTimeZone {
	case "", "Local":
		// LoadLocation would give UTC for "" and kradius's own zone for
		// "Local": neither is the IMG's.
		return nil, bad("start_time_zone", "%q: name the IMG's zone (e.g. Europe/London, or UTC)", o.StartTimeZone)
	}
	zone, err := time.LoadLocation(o.StartTimeZone)
	if err != nil {
		return nil, bad("start_time_zone", "%v", err)
	}
	o.zone = zone
	return o, nil
}

// Zone is the IMG's time zone, StartTimeZone loaded (UTC in Options not
// decoded).
func (o Options) Zone() *time.Location {
	if o.zone == nil {
		return time.UTC
	}
	return o.zone
}

// Address decodes the value of an address VSA (RemoteAddress,
// OriginateAddress) by AddressEncoding: EncodingIPAddr takes exactly 4 or
// 16 octets; EncodingString parses the text, spaces and NULs around it
// trimmed, and refuses an IPv6 zone; EncodingAuto (and Options not
// decoded) tries the text, then the octets. An IPv4-mapped IPv6 address
// comes back as IPv4, so that it matches IPv4 networks. false: not an
// address in that encoding.
func (o Options) Address(vsa []byte) (netip.Addr, bool) {
	text := func() (netip.Addr, bool) {
		a, err := netip.ParseAddr(string(bytes.Trim(vsa, " \t\r\n\x00")))
		return a, err == nil && a.Zone() == ""
	}
	var (
		a  netip.Addr
		ok bool
	)
	switch o.AddressEncoding {
	case EncodingString:
		a, ok = text()
	case EncodingIPAddr:
		a, ok = netip.AddrFromSlice(vsa)
	default:
		if a, ok = text(); !ok {
			a, ok = netip.AddrFromSlice(vsa)
		}
	}
	if !ok {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// StartTimeOf is the instant (in UTC) of a Start Time VSA's value: seconds
// since 1970 counted in the IMG's local time, that is the wall clock of
// time.Unix(v, 0) in UTC read as a wall clock in Zone(). A wall clock the
// zone skips or repeats (a DST change) gives one of the two instants it
// could mean, as time.Date does.
func (o Options) StartTimeOf(v uint32) time.Time {
	t := time.Unix(int64(v), 0).UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, o.Zone()).UTC()
}
