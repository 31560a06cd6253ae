package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/store/records"
)

// txn writes values as fn goes, so that its reads see them, and leaves the
// indexes and references to commit: only then is it known which values and
// records the transaction as a whole frees, claims and references.
type txn struct {
	s       *Store
	tx      *bolt.Tx
	touched map[records.Ref]*touch
	order   []records.Ref // the touched records, in the order first touched
}

// touch is a record the transaction wrote or deleted: its links before the
// transaction and now (nil when it is deleted or did not exist).
type touch struct {
	before, after *links
}

// links is what the store keeps of a record beside its value: the index
// values to free and the references to drop when it is replaced or deleted.
type links struct {
	unique map[string]string
	refs   []records.Ref
}

var _ records.Txn = (*txn)(nil)

func (t *txn) Get(kind, key string) ([]byte, error) {
	if err := t.s.checkKind(kind); err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", kind, key, err)
	}
	v, err := get(t.tx, kind, key)
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", kind, key, err)
	}
	return v, nil
}

func (t *txn) Put(r records.Record) error {
	ref := records.Ref{Kind: r.Kind, Key: r.Key}
	if err := t.checkRecord(r); err != nil {
		return fmt.Errorf("put %s: %w", ref, err)
	}
	if err := t.touch(ref); err != nil {
		return fmt.Errorf("put %s: %w", ref, err)
	}
	t.touched[ref].after = &links{unique: maps.Clone(r.Unique), refs: slices.Clone(r.Refs)}
	// bbolt keeps the slice until commit, and fn may reuse it.
	if err := t.tx.Bucket(recordsBucket(r.Kind)).Put([]byte(r.Key), bytes.Clone(r.Value)); err != nil {
		return fmt.Errorf("put %s: %w", ref, err)
	}
	return nil
}

func (t *txn) checkRecord(r records.Record) error {
	if err := t.s.checkKind(r.Kind); err != nil {
		return err
	}
	if r.Key == "" {
		return fmt.Errorf("empty key: %w", records.ErrInvalid)
	}
	for idx, v := range r.Unique {
		if !t.s.kinds[r.Kind][idx] {
			return fmt.Errorf("index %q: %w", idx, records.ErrUnknownKind)
		}
		if v == "" {
			return fmt.Errorf("index %q: empty value: %w", idx, records.ErrInvalid)
		}
	}
	for _, ref := range r.Refs {
		if err := t.s.checkKind(ref.Kind); err != nil {
			return fmt.Errorf("reference to %s: %w", ref, err)
		}
	}
	return nil
}

func (t *txn) Delete(kind, key string) error {
	ref := records.Ref{Kind: kind, Key: key}
	if err := t.s.checkKind(kind); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	b := t.tx.Bucket(recordsBucket(kind))
	if b.Get([]byte(key)) == nil {
		return nil
	}
	if err := t.touch(ref); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	t.touched[ref].after = nil
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	return nil
}

// touch notes ref's links as they were before the transaction, the first
// time the transaction writes it.
func (t *txn) touch(ref records.Ref) error {
	if t.touched[ref] != nil {
		return nil
	}
	var before *links
	if v := t.tx.Bucket(bucketRecordMeta).Get(recordMetaKey(ref)); v != nil {
		l, err := decodeLinks(v)
		if err != nil {
			return fmt.Errorf("corrupt record meta: %w", err)
		}
		before = &l
	}
	t.touched[ref] = &touch{before: before, after: before}
	t.order = append(t.order, ref)
	return nil
}

// changed are the touched records that existed before or exist after: one
// created and deleted again within the transaction changed nothing.
func (t *txn) changed() []records.Ref {
	var refs []records.Ref
	for _, ref := range t.order {
		if tc := t.touched[ref]; tc.before != nil || tc.after != nil {
			refs = append(refs, ref)
		}
	}
	return refs
}

// commit brings the indexes and references into line with what fn wrote and
// checks them. All old entries go before any new one is made, so that values
// freed anywhere in the transaction may be taken anywhere in it.
func (t *txn) commit() error {
	meta := t.tx.Bucket(bucketRecordMeta)
	referrers := t.tx.Bucket(bucketReferrers)
	for _, ref := range t.order {
		before := t.touched[ref].before
		if before == nil {
			continue
		}
		for idx, v := range before.unique {
			b := t.tx.Bucket(indexBucket(ref.Kind, idx))
			if string(b.Get([]byte(v))) == ref.Key {
				if err := b.Delete([]byte(v)); err != nil {
					return err
				}
			}
		}
		for _, target := range before.refs {
			if err := referrers.Delete(referrerKey(target, ref)); err != nil {
				return err
			}
		}
		if err := meta.Delete(recordMetaKey(ref)); err != nil {
			return err
		}
	}
	for _, ref := range t.order {
		after := t.touched[ref].after
		if after == nil {
			continue
		}
		for _, idx := range slices.Sorted(maps.Keys(after.unique)) {
			v := after.unique[idx]
			b := t.tx.Bucket(indexBucket(ref.Kind, idx))
			if other := b.Get([]byte(v)); other != nil && string(other) != ref.Key {
				return &records.Conflict{Ref: ref, Reason: fmt.Sprintf("%s %q is held by %s", idx, v, other)}
			}
			if err := b.Put([]byte(v), []byte(ref.Key)); err != nil {
				return err
			}
		}
		for _, target := range after.refs {
			if err := referrers.Put(referrerKey(target, ref), nil); err != nil {
				return err
			}
		}
		if err := meta.Put(recordMetaKey(ref), encodeLinks(*after)); err != nil {
			return err
		}
	}
	for _, ref := range t.order {
		after := t.touched[ref].after
		if after == nil {
			// Referrers untouched by the transaction still have their
			// entries, and touched ones have their new entries by now.
			prefix := encodeString(nil, ref.Kind)
			prefix = encodeString(prefix, ref.Key)
			if k, _ := referrers.Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
				return &records.Conflict{Ref: ref, Reason: "deleted while " + referrerOf(k[len(prefix):]) + " references it"}
			}
			continue
		}
		for _, target := range after.refs {
			if t.tx.Bucket(recordsBucket(target.Kind)).Get([]byte(target.Key)) == nil {
				return &records.Conflict{Ref: ref, Reason: "references " + target.String() + ", which does not exist"}
			}
		}
	}
	return nil
}

// The keys of bbolt buckets that hold more than one string put each but the
// last through encodeString, which keeps byte order (so prefix scans come out
// in order) and cannot be confused by a NUL in a key: NUL becomes 00 FF and
// the string ends with 00 01.
func encodeString(dst []byte, s string) []byte {
	for i := range len(s) {
		if s[i] == 0 {
			dst = append(dst, 0, 0xff)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0, 1)
}

// decodeString is encodeString's inverse: the string and what follows it.
func decodeString(b []byte) (string, []byte, bool) {
	var s []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			s = append(s, b[i])
			continue
		}
		if i+1 == len(b) {
			return "", nil, false
		}
		switch b[i+1] {
		case 0xff:
			s = append(s, 0)
			i++
		case 1:
			return string(s), b[i+2:], true
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

func recordMetaKey(r records.Ref) []byte { return append(encodeString(nil, r.Kind), r.Key...) }

func referrerPrefix(target records.Ref, kind string) []byte {
	p := encodeString(nil, target.Kind)
	p = encodeString(p, target.Key)
	return encodeString(p, kind)
}

func referrerKey(target, referrer records.Ref) []byte {
	return append(referrerPrefix(target, referrer.Kind), referrer.Key...)
}

// referrerOf names the referrer in what follows a target in a referrers key.
func referrerOf(rest []byte) string {
	kind, key, ok := decodeString(rest)
	if !ok {
		return "a corrupt referrer entry"
	}
	return records.Ref{Kind: kind, Key: string(key)}.String()
}

// encodeLinks writes counts and strings each with a uvarint length in front;
// the map in index order, so that equal links encode equal.
func encodeLinks(l links) []byte {
	var b []byte
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(l.unique)))
	for _, idx := range slices.Sorted(maps.Keys(l.unique)) {
		str(idx)
		str(l.unique[idx])
	}
	b = binary.AppendUvarint(b, uint64(len(l.refs)))
	for _, r := range l.refs {
		str(r.Kind)
		str(r.Key)
	}
	return b
}

func decodeLinks(b []byte) (links, error) {
	bad := errors.New("truncated")
	num := func() (uint64, error) {
		n, size := binary.Uvarint(b)
		if size <= 0 {
			return 0, bad
		}
		b = b[size:]
		return n, nil
	}
	str := func() (string, error) {
		n, err := num()
		if err != nil || n > uint64(len(b)) {
			return "", bad
		}
		s := string(b[:n])
		b = b[n:]
		return s, nil
	}
	var l links
	n, err := num()
	if err != nil {
		return l, err
	}
	l.unique = map[string]string{}
	for range n {
		idx, err := str()
		if err != nil {
			return l, err
		}
		if l.unique[idx], err = str(); err != nil {
			return l, err
		}
	}
	if n, err = num(); err != nil {
		return l, err
	}
	for range n {
		kind, err := str()
		if err != nil {
			return l, err
		}
		key, err := str()
		if err != nil {
			return l, err
		}
		l.refs = append(l.refs, records.Ref{Kind: kind, Key: key})
	}
	return l, nil
}
