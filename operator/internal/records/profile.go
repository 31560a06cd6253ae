package records

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	kradiusv1 "kradius.dev/api/v1alpha1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/carrier"
	"kradius.dev/services/nas/firebrick"
	"kradius.dev/services/password"
)

// The kinds of the profile resources' records, as the admin API's
// PutRecords and DeleteRecord name them.
const (
	KindSIPUsers  = firebrick.KindUsers
	KindSIPRoutes = firebrick.KindRoutes
	KindCarriers  = carrier.KindName
)

// SIPUserName is the SIP user name of a resource: spec.name, or
// metadata.name.
func SIPUserName(u *kradiusv1.SIPUser) string {
	if u.Spec.Name != "" {
		return string(u.Spec.Name)
	}
	return u.Name
}

// CarrierName is the carrier name of a resource: spec.name, or
// metadata.name.
func CarrierName(c *kradiusv1.Carrier) string {
	if c.Spec.Name != "" {
		return string(c.Spec.Name)
	}
	return c.Name
}

// SIPUser converts a SIPUser resource into the record of kind
// firebrick.users, with the import format's own reader (the kind's
// Schema.Import), which hashes each clear-text password into HA1 =
// hex(MD5(name:realm:password)): passwords and ha1 are the data of the
// resource's two Secrets, realm to value, either nil when not referenced.
// The record is not validated here: the admin API does it, and its refusal
// names the field.
func SIPUser(u *kradiusv1.SIPUser, passwords, ha1 map[string]string) (*recordsv1.Record, error) {
	for _, realm := range slices.Sorted(maps.Keys(passwords)) {
		if _, ok := ha1[realm]; ok {
			return nil, fmt.Errorf("%w: spec.passwordsSecretRef and spec.ha1SecretRef: realm %q is in both Secrets; give its password or its HA1, not both", ErrInvalid, realm)
		}
	}
	fields, err := specFields(u.Spec, "passwordsSecretRef", "ha1SecretRef")
	if err != nil {
		return nil, err
	}
	fields["name"] = SIPUserName(u)
	// As YAML decodes them, which the import's reader takes.
	if len(ha1) > 0 {
		fields["ha1"] = anyValues(ha1)
	}
	if len(passwords) > 0 {
		fields["passwords"] = anyValues(passwords)
	}
	return pack(KindSIPUsers, firebrick.Users, fields)
}

// SIPRoute converts a SIPRoute resource into the record of kind
// firebrick.routes.
func SIPRoute(r *kradiusv1.SIPRoute) (*recordsv1.Record, error) {
	fields, err := specFields(r.Spec)
	if err != nil {
		return nil, err
	}
	return pack(KindSIPRoutes, firebrick.Routes, fields)
}

// Carrier converts a Carrier resource into the record of kind carriers.
func Carrier(c *kradiusv1.Carrier) (*recordsv1.Record, error) {
	fields, err := specFields(c.Spec)
	if err != nil {
		return nil, err
	}
	fields["name"] = CarrierName(c)
	return pack(KindCarriers, carrier.Kind, fields)
}

// specFields is a spec as the import format's fields: its JSON, less
// clusterRef and the other resource-only fields named.
func specFields(spec any, resourceOnly ...string) (map[string]any, error) {
	fields := map[string]any{}
	if err := roundTrip(spec, &fields); err != nil {
		return nil, err
	}
	delete(fields, "clusterRef")
	for _, f := range resourceOnly {
		delete(fields, f)
	}
	return fields, nil
}

// pack reads fields as the import does a record of kind k (Schema.Import,
// else the message's JSON names), and packs the message for PutRecords.
func pack(name string, k nas.Kind, fields map[string]any) (*recordsv1.Record, error) {
	var m proto.Message
	var err error
	if k.Schema.Import != nil {
		// firebrick.users hashes HA1s, with no argon2id parameters.
		m, err = k.Schema.Import(fields, password.DefaultParams)
	} else {
		m = k.Schema.Message.ProtoReflect().New().Interface()
		err = nas.DecodeFields(fields, m)
	}
	if err != nil {
		// The spec's field names are the message's JSON names, so a message
		// naming one names the resource's field.
		return nil, fmt.Errorf("%w: spec: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "proto: "))
	}
	v, err := anypb.New(m)
	if err != nil {
		return nil, err
	}
	return &recordsv1.Record{Kind: name, Value: v}, nil
}

func anyValues(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
