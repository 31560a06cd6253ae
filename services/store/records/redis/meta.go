package redisrecords

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"

	"kradius.dev/services/store/records"
)

// meta is what a stored record claims: its unique index values and its
// references, kept beside it (P:m:) so that a replace or a delete knows
// which index entries to free and which referrer sets to leave.
type meta struct {
	unique map[string]string
	refs   []records.Ref
}

// metaVersion leads the encoding, so that a later layout can tell its own.
const metaVersion = 1

var errMeta = errors.New("record metadata does not decode")

// encode writes the metadata as length-prefixed strings rather than JSON:
// keys and index values are bytes, not necessarily UTF-8, and JSON would
// replace what is not. Indexes are sorted so that one record always encodes
// the same.
func (m meta) encode() string {
	b := []byte{metaVersion}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(m.unique)))
	for _, idx := range slices.Sorted(maps.Keys(m.unique)) {
		str(idx)
		str(m.unique[idx])
	}
	b = binary.AppendUvarint(b, uint64(len(m.refs)))
	for _, r := range m.refs {
		str(r.Kind)
		str(r.Key)
	}
	return string(b)
}

func decodeMeta(s string) (meta, error) {
	if len(s) == 0 || s[0] != metaVersion {
		return meta{}, errMeta
	}
	b := []byte(s[1:])
	bad := false
	num := func() int {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)) {
			bad = true
			return 0
		}
		b = b[w:]
		return int(n)
	}
	str := func() string {
		n := num()
		if bad || n > len(b) {
			bad = true
			return ""
		}
		v := string(b[:n])
		b = b[n:]
		return v
	}
	var m meta
	if n := num(); n > 0 {
		m.unique = make(map[string]string, n)
		for range n {
			idx := str()
			m.unique[idx] = str()
		}
	}
	for range num() {
		kind := str()
		m.refs = append(m.refs, records.Ref{Kind: kind, Key: str()})
	}
	if bad || len(b) != 0 {
		return meta{}, errMeta
	}
	return m, nil
}
