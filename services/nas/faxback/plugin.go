package faxback

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"kradius.dev/services/nas"
)

// Plugin is the FaxBack profile as services/nas/profiles lists it.
var Plugin = nas.Plugin{
	Name:    "faxback",
	Summary: "FaxBack Port Server (vendor 30694): FB-Command/FB-Context lookups, UUID mode, call-ahead, and fax CDRs",
	Options: decodeOptions,
	New: func(d nas.Deps) (nas.Profile, error) {
		p := NewProfile(d.Accounts, d.DIDs, d.Metrics)
		if d.Host != "" {
			p.edge = d.Host
		}
		return p, nil
	},
	Sessions: func(d nas.SessionDeps) nas.Sessions { return sessions{numbers: d.Store} },
	Kinds: []nas.Kind{
		{Name: "accounts", Key: "name", Unique: []string{"uuid", "macAddress", "serialNumber", "sndEmail"}, Refs: []string{"members -> accounts", "rcvFailoverAccount -> accounts"}},
		{Name: "dids", Key: "number", Refs: []string{"account -> accounts"}},
		{Name: "calledNumbers", Key: "number"},
	},
}

func decodeOptions(block *yaml.Node) (any, error) {
	var o Options
	if err := nas.DecodeOptions(block, &o); err != nil {
		return nil, err
	}
	switch o.UUIDFormat {
	case UUIDOff, UUIDBinary, UUIDHex, UUIDDash:
	default:
		return nil, &nas.OptionError{Key: "uuid_format", Reason: fmt.Sprintf("%q is not one of binary, hex, dash (unset: UUID mode off)", o.UUIDFormat)}
	}
	return o, nil
}

// Client implements nas.Profile.
func (p *Profile) Client(options any) (nas.Handler, error) {
	o, _ := options.(Options) // nil: a client without a faxback block
	return p.ForClient(o), nil
}
