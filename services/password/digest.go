package password

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
)

// Digest is a Digester's HMAC-SHA256.
type Digest [sha256.Size]byte

// Digester keys in-memory caches of password checks: HMAC-SHA256 under a
// key drawn at construction, so that the digests are worthless outside this
// process (no offline guessing against a memory dump). It is safe for
// concurrent use, and allocates nothing per call.
type Digester struct {
	pool sync.Pool
}

// pooled is one HMAC state and its buffers.
type pooled struct {
	mac hash.Hash
	buf []byte
	sum Digest
}

// NewDigester draws a fresh key.
func NewDigester() *Digester {
	var key [32]byte
	// crypto/rand.Read does not fail on supported platforms; it crashes the
	// program instead.
	_, _ = rand.Read(key[:])
	d := &Digester{}
	d.pool.New = func() any { return &pooled{mac: hmac.New(sha256.New, key[:])} }
	return d
}

// Sum is the HMAC of context and pw. The length prefix keeps the split
// between the two unambiguous whatever bytes they contain.
func (d *Digester) Sum(context, pw string) Digest {
	p := d.pool.Get().(*pooled)
	p.buf = binary.BigEndian.AppendUint64(p.buf[:0], uint64(len(context)))
	p.buf = append(p.buf, context...)
	p.buf = append(p.buf, pw...)
	p.mac.Reset()
	p.mac.Write(p.buf)
	sum := Digest(p.mac.Sum(p.sum[:0]))
	d.pool.Put(p)
	return sum
}
