package controller

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	kradiusv1 "kradius.dev/api/v1alpha1"
)

// The edge refuses a whole client table in which two clients claim one
// address range or one RadSec identity: which client, and so which secret,
// a request gets would depend on the order of the file. One RadiusClient
// must not take every other client of its cluster down with it, so the
// operator keeps the first claim, by creation time, leaves the later
// client out of the table, and reports it on that client as a Conflict
// until one of the two changes or goes.

// clientKey names a RadiusClient in the client table and in claims.
func clientKey(c *kradiusv1.RadiusClient) string { return c.Namespace + "/" + c.Name }

// identityKey compares RadSec identities as the edge does: without case,
// and without surrounding spaces.
func identityKey(id kradiusv1.RadSecIdentity) string {
	return strings.ToLower(strings.TrimSpace(string(id)))
}

// clientPrefix reads a range as the edge does: a bare address is a /32 or
// /128, and host bits are masked.
func clientPrefix(cidr kradiusv1.ClientCIDR) (netip.Prefix, bool) {
	s := string(cidr)
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err == nil
}

// firstCreated orders clients by creation time, then by key, so that the
// same set always decides the same way.
func firstCreated(clients []kradiusv1.RadiusClient) []*kradiusv1.RadiusClient {
	out := make([]*kradiusv1.RadiusClient, len(clients))
	for i := range clients {
		out[i] = &clients[i]
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].CreationTimestamp, out[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return clientKey(out[i]) < clientKey(out[j])
	})
	return out
}

// clientConflicts returns, by client key, why each client of one cluster
// that claims what an older client claims is left out of the table. A
// client that is left out claims nothing, so that it blocks no third one.
func clientConflicts(clients []kradiusv1.RadiusClient) map[string]string {
	prefixes := map[netip.Prefix]string{}
	identities := map[string]string{}
	out := map[string]string{}
	for _, c := range firstCreated(clients) {
		key := clientKey(c)
		if msg := conflictOf(c, prefixes, identities); msg != "" {
			out[key] = msg
			continue
		}
		for _, cidr := range c.Spec.CIDRs {
			if p, ok := clientPrefix(cidr); ok {
				prefixes[p] = key
			}
		}
		if c.Spec.RadSec != nil {
			for _, id := range c.Spec.RadSec.Identities {
				identities[identityKey(id)] = key
			}
		}
	}
	return out
}

// conflictOf names the first of c's ranges or identities already claimed
// by another client, or returns "".
func conflictOf(c *kradiusv1.RadiusClient, prefixes map[netip.Prefix]string, identities map[string]string) string {
	const left = "this client is left out of the client table until one of the two changes"
	other := func(key string) string {
		if ns, name, _ := strings.Cut(key, "/"); ns == c.Namespace {
			return name
		}
		return key
	}
	for i, cidr := range c.Spec.CIDRs {
		p, ok := clientPrefix(cidr)
		if first, dup := prefixes[p]; ok && dup {
			return fmt.Sprintf("spec.cidrs[%d]: %s is also claimed by RadiusClient %q, created first: %s", i, p, other(first), left)
		}
	}
	if c.Spec.RadSec == nil {
		return ""
	}
	for i, id := range c.Spec.RadSec.Identities {
		if first, dup := identities[identityKey(id)]; dup {
			return fmt.Sprintf("spec.radsec.identities[%d]: %q is also RadiusClient %q's (identities are compared without case), created first: %s", i, id, other(first), left)
		}
	}
	return ""
}

// uniqueIdentities are a client's identities less those that repeat an
// earlier one without case, which the edge would refuse as claimed twice.
func uniqueIdentities(r *kradiusv1.ClientRadSec) []string {
	if r == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, id := range r.Identities {
		if k := identityKey(id); !seen[k] {
			seen[k] = true
			out = append(out, string(id))
		}
	}
	return out
}

// uniqueCIDRs are a client's ranges less those that repeat an earlier one
// once host bits are masked (10.0.0.1/8 is 10.0.0.0/8), which the edge
// would refuse as claimed twice.
func uniqueCIDRs(cidrs []kradiusv1.ClientCIDR) []string {
	seen := map[netip.Prefix]bool{}
	var out []string
	for _, cidr := range cidrs {
		p, ok := clientPrefix(cidr)
		if ok && seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, string(cidr))
	}
	return out
}
