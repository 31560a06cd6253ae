package edge

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"

	"kradius.dev/services/nas"
)

// Policy is a client's Message-Authenticator policy (BlastRADIUS, CVE-2024-3596).
type Policy string

const (
	// PolicyRequire drops Access-Requests without Message-Authenticator.
	PolicyRequire Policy = "require"
	// PolicyAuto requires it once the client has been seen to send it.
	PolicyAuto Policy = "auto"
	// PolicyOff never requires it (FaxBack port servers do not send it), but
	// still verifies it when present.
	PolicyOff Policy = "off"
)

// ParsePolicy checks a policy name from config.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyRequire, PolicyAuto, PolicyOff:
		return p, nil
	}
	return "", fmt.Errorf("%q is not a Message-Authenticator policy (require, auto, off)", s)
}

// Client is one NAS, or a range of them sharing a secret.
type Client struct {
	Name string
	// Profile names the NAS profile (faxback, firebrick, ...), a label of
	// the edge's request counter and spans.
	Profile  string
	Prefixes []netip.Prefix
	Secret   []byte
	Policy   Policy
	// Handler is the client's NAS profile, configured for it (e.g. FaxBack
	// UUID mode is a per-client option).
	Handler nas.Handler
	// RateLimit sheds the client's requests beyond it as they are read;
	// the zero value is no limit. A new table starts with full buckets.
	RateLimit RateLimit
	// RadSecIdentities are the names a RadSec (RFC 6614) connection's
	// certificate may carry for this client: a DNS, URI or IP subject
	// alternative name, or the subject's common name. A client may have
	// them, address ranges, or both.
	RadSecIdentities []string

	limiter *tokenBucket // from RateLimit, made by NewClientTable
	// cacheSrc stands for a RadSec client's address in reply-cache keys
	// (radsec.go); zero for the others.
	cacheSrc netip.AddrPort

	// sawMessageAuthenticator latches under PolicyAuto.
	sawMessageAuthenticator atomic.Bool
}

// requiresMessageAuthenticator says whether an Access-Request from c must carry one.
func (c *Client) requiresMessageAuthenticator() bool {
	return c.Policy == PolicyRequire || (c.Policy == PolicyAuto && c.sawMessageAuthenticator.Load())
}

// ClientTable finds the client for a source address; the most specific prefix wins.
type ClientTable struct {
	byBits  map[int]map[netip.Prefix]*Client
	lengths []int // prefix lengths present, longest first
	// limited says some client has a rate limit: only then does the
	// reader look the client up before queueing.
	limited bool
	// radsec holds each RadSec identity's client (radsec.go), keyed by
	// identityKey.
	radsec map[string]*Client
}

// NewClientTable indexes clients. An address range claimed by two clients is
// an error, because the secret would depend on the order of the config.
func NewClientTable(clients []*Client) (*ClientTable, error) {
	t := &ClientTable{byBits: map[int]map[netip.Prefix]*Client{}, radsec: map[string]*Client{}}
	for _, c := range clients {
		if c.Handler == nil {
			return nil, fmt.Errorf("client %q: no NAS profile handler", c.Name)
		}
		if len(c.Prefixes) == 0 && len(c.RadSecIdentities) == 0 {
			return nil, fmt.Errorf("client %q: neither an address range nor a RadSec identity", c.Name)
		}
		if c.limiter = newTokenBucket(c.RateLimit); c.limiter != nil {
			t.limited = true
		}
		if err := t.addRadSec(c); err != nil {
			return nil, err
		}
		for _, p := range c.Prefixes {
			p = p.Masked()
			bits := p.Bits()
			if p.Addr().Is4() {
				bits += 96 // keep IPv4 and IPv6 lengths apart in one index
			}
			m := t.byBits[bits]
			if m == nil {
				m = map[netip.Prefix]*Client{}
				t.byBits[bits] = m
				t.lengths = append(t.lengths, bits)
			}
			if other, dup := m[p]; dup {
				return nil, fmt.Errorf("client %q: %s is already claimed by client %q", c.Name, p, other.Name)
			}
			m[p] = c
		}
	}
	slices.Sort(t.lengths)
	slices.Reverse(t.lengths)
	return t, nil
}

// Lookup returns the client for addr, or nil for an unknown NAS.
func (t *ClientTable) Lookup(addr netip.Addr) *Client {
	addr = addr.Unmap()
	for _, bits := range t.lengths {
		plen := bits
		if addr.Is4() {
			if bits < 96 {
				continue
			}
			plen -= 96
		} else if bits > 128 {
			continue
		}
		p, err := addr.Prefix(plen)
		if err != nil {
			continue
		}
		if c, ok := t.byBits[bits][p]; ok {
			return c
		}
	}
	return nil
}

// all returns each client once.
func (t *ClientTable) all() []*Client {
	seen := map[*Client]bool{}
	var out []*Client
	for _, bits := range t.lengths {
		for _, c := range t.byBits[bits] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}
