package loadgen

// idRing hands out a socket's free Identifiers, least recently freed first:
// an Identifier is reused as late as possible, which leaves the most time
// for a late reply to its previous request to arrive and be told apart.
type idRing struct {
	ids  [idsPerSocket]byte
	head int
	n    int
}

func newIDRing() *idRing {
	r := &idRing{n: idsPerSocket}
	for i := range r.ids {
		r.ids[i] = byte(i)
	}
	return r
}

func (r *idRing) pop() (byte, bool) {
	if r.n == 0 {
		return 0, false
	}
	id := r.ids[r.head]
	r.head = (r.head + 1) % idsPerSocket
	r.n--
	return id, true
}

// push returns id; the caller frees each Identifier it popped exactly once,
// so the ring never holds more than 256.
func (r *idRing) push(id byte) {
	r.ids[(r.head+r.n)%idsPerSocket] = id
	r.n++
}
