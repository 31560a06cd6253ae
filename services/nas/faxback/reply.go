package faxback

import (
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// reply builds an Access-Accept or -Reject, keeping the first error so that
// handlers read as a list of attributes.
type reply struct {
	p   *radius.Packet
	err error
}

func newReply(req *radius.Packet, code radius.Code) *reply {
	return &reply{p: req.Response(code)}
}

func (r *reply) add(err error) {
	if r.err == nil {
		r.err = err
	}
}

// str adds a string attribute unless it is empty: an absent attribute means
// the seed's default, and every default of a string attribute is empty.
func (r *reply) str(add func(*radius.Packet, string) error, v string) {
	if v != "" {
		r.add(add(r.p, v))
	}
}

// num adds an integer attribute when cond holds; defaults are left out.
func num[T ~uint32](r *reply, add func(*radius.Packet, T) error, v uint32, cond bool) {
	if cond {
		r.add(add(r.p, T(v)))
	}
}

func (r *reply) userName(name string) { r.str(rfc2865.UserName_AddString, name) }

func (r *reply) done() (*radius.Packet, error) {
	if r.err != nil {
		return nil, r.err
	}
	return r.p, nil
}
