package embedded

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/nas/faxback/fbdata"
)

// didV1 is a DID as layout 1 stored it: enabled was written, always.
type didV1 struct {
	fbdata.DID
	Enabled *bool `json:"enabled"`
}

// migrateV1 brings a layout 1 file (the first release) to layout 2: every
// account gets a UUID and its index entries, and each DID's enabled becomes
// disabled. Layout 1 had no other indexed field and no groups, so nothing
// else changes, and LastModified is kept: the accounts did not change.
func migrateV1(tx *bolt.Tx) error {
	var accounts []fbdata.Account
	err := tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
		var a fbdata.Account
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("decode account record %q: %w", k, err)
		}
		accounts = append(accounts, a)
		return nil
	})
	if err != nil {
		return err
	}
	// Written after the scan: bbolt does not allow writes to a bucket while
	// ForEach walks it.
	for _, a := range accounts {
		if err := writeAccount(tx, nil, a); err != nil {
			return fmt.Errorf("account %q: %w", a.Name, err)
		}
	}

	var dids []fbdata.DID
	err = tx.Bucket(bucketDIDs).ForEach(func(k, v []byte) error {
		var d didV1
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("decode DID record %q: %w", k, err)
		}
		d.DID.Disabled = d.Enabled != nil && !*d.Enabled
		dids = append(dids, d.DID)
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range dids {
		v, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode DID record %q: %w", d.Number, err)
		}
		if err := tx.Bucket(bucketDIDs).Put([]byte(d.Number), v); err != nil {
			return fmt.Errorf("DID %q: %w", d.Number, err)
		}
	}
	return nil
}
