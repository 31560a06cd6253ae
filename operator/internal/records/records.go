// Package records turns Account and DID resources into store records, with
// the provisioning format's own reader: the resources' spec fields are its
// field names, so a resource is validated exactly as `kradius import`
// validates a file, with the same messages. The profile resources
// (SIPUser, SIPRoute, Carrier) become records of their profile's kinds
// (profile.go), read as the import reads them and validated by the admin
// API that writes them.
package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
	"kradius.dev/services/provision"
)

// ErrInvalid wraps a resource that no store would accept; retrying cannot
// help, so it is reported in status and not requeued.
var ErrInvalid = errors.New("invalid")

// AccountName is the FaxBack account name of a resource: spec.name, or
// metadata.name.
func AccountName(a *kradiusv1.Account) string {
	if a.Spec.Name != "" {
		return string(a.Spec.Name)
	}
	return a.Name
}

// Account converts an Account resource; password is its Secret's value, or
// nil for an account that cannot log in. The password is hashed here with p.
func Account(a *kradiusv1.Account, pw *string, p password.Params) (fbdata.Account, error) {
	spec := map[string]any{}
	if err := roundTrip(a.Spec, &spec); err != nil {
		return fbdata.Account{}, err
	}
	// The resource's own fields, which the file format does not have.
	delete(spec, "clusterRef")
	delete(spec, "longName")
	delete(spec, "passwordSecretRef")
	spec["name"] = AccountName(a)
	if pw != nil {
		spec["password"] = *pw
	}
	b, err := load(map[string]any{"accounts": []any{spec}}, p, fbdata.Options{LongNames: a.Spec.LongName})
	if err != nil {
		return fbdata.Account{}, err
	}
	return b.Accounts[0], nil
}

// DID converts a DID resource.
func DID(d *kradiusv1.DID) (fbdata.DID, error) {
	spec := map[string]any{}
	if err := roundTrip(d.Spec, &spec); err != nil {
		return fbdata.DID{}, err
	}
	delete(spec, "clusterRef")
	b, err := load(map[string]any{"dids": []any{spec}}, password.DefaultParams, fbdata.Options{})
	if err != nil {
		return fbdata.DID{}, err
	}
	return b.DIDs[0], nil
}

func roundTrip(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// load reads one record through provision, turning its messages (which
// name the record by index) into the resource's field names.
func load(doc map[string]any, p password.Params, o fbdata.Options) (fbdata.Batch, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return fbdata.Batch{}, err
	}
	batch, err := provision.Load(bytes.NewReader(b), p, o)
	if err != nil {
		msg := err.Error()
		// "accounts[0] (name "x"): type: ..." reads "spec.type: ..." on a resource.
		if _, rest, ok := strings.Cut(msg, "): "); ok {
			msg = "spec." + rest
		} else if _, rest, ok := strings.Cut(msg, "]: "); ok {
			msg = "spec." + rest
		}
		return fbdata.Batch{}, fmt.Errorf("%w: %s", ErrInvalid, msg)
	}
	return batch.Batch, nil
}
