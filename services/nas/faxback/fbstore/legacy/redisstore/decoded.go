package redisstore

import (
	"sync"
	"sync/atomic"

	"kradius.dev/services/nas/faxback/fbdata"
)

// decodedSize bounds the records kept decoded.
const decodedSize = 1 << 18

// decoded keeps account and DID records decoded, keyed by their stored
// JSON: the same text always decodes to the same record, so an answer from
// here is exactly what decoding would give, with no invalidation to get
// wrong, whoever writes the data set. JSON decoding was a third of the
// accounts service's CPU under load; comparing the text costs a hash.
type decoded struct {
	// JSON → fbdata.Account or fbdata.DID. The text alone is the key, with no
	// copy made per lookup; a text both types could decode ("{}") is told
	// apart by decodeKept's type check.
	records sync.Map
	size    atomic.Int64
}

// get returns the record decoded from v before, if any, as a copy the
// caller may change.
func (d *decoded) get(v string) (any, bool) {
	rec, ok := d.records.Load(v)
	if !ok {
		return nil, false
	}
	return cloneRecord(rec), true
}

func (d *decoded) put(v string, rec any) {
	switch rec.(type) {
	case fbdata.Account, fbdata.DID:
	default:
		return // called numbers change with every call: not worth keeping
	}
	if d.size.Add(1) > decodedSize {
		// Crude but bounded; the hot records come back at once.
		d.records.Clear()
		d.size.Store(1)
	}
	d.records.Store(v, cloneRecord(rec))
}

func cloneRecord(rec any) any {
	switch r := rec.(type) {
	case fbdata.Account:
		r.Members = append([]string(nil), r.Members...)
		return r
	case fbdata.DID:
		return r.Clone()
	}
	return rec
}
