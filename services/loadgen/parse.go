package loadgen

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseMix reads "login", or weights such as "login=80,did=20".
func ParseMix(s string) ([]Weight, error) {
	var mix []Weight
	for part := range strings.SplitSeq(s, ",") {
		name, weight, hasWeight := strings.Cut(strings.TrimSpace(part), "=")
		w := Weight{Kind: -1, Weight: 1}
		for k, n := range kindNames {
			if name == n {
				w.Kind = Kind(k)
			}
		}
		if w.Kind < 0 {
			return nil, fmt.Errorf("mix %q: unknown %q, want %s", s, name, strings.Join(kindNames[:], ", "))
		}
		if hasWeight {
			n, err := strconv.Atoi(weight)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("mix %q: weight of %s is %q, want a positive integer", s, name, weight)
			}
			w.Weight = n
		}
		mix = append(mix, w)
	}
	return mix, nil
}

// FormatMix is the inverse of ParseMix, for reports.
func FormatMix(mix []Weight) string {
	parts := make([]string, len(mix))
	for i, w := range mix {
		parts[i] = w.Kind.String()
		if len(mix) > 1 {
			parts[i] += "=" + strconv.Itoa(w.Weight)
		}
	}
	return strings.Join(parts, ",")
}

// ParseAccounts reads "name:password,name:password". A password may contain
// ':' (the first one splits) but not ','.
func ParseAccounts(s string) ([]Account, error) {
	if s == "" {
		return nil, nil
	}
	var accounts []Account
	for part := range strings.SplitSeq(s, ",") {
		name, password, ok := strings.Cut(part, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("accounts: %q is not name:password", part)
		}
		accounts = append(accounts, Account{Name: name, Password: password})
	}
	return accounts, nil
}

// PoolAccounts is prefix0 … prefix(n-1), all with one password: the shape
// of a provisioned test population.
func PoolAccounts(prefix string, n int, password string) []Account {
	accounts := make([]Account, n)
	for i := range accounts {
		accounts[i] = Account{Name: prefix + strconv.Itoa(i), Password: password}
	}
	return accounts
}

// ParseDIDs reads "5551231234,5551231235".
func ParseDIDs(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	dids := strings.Split(s, ",")
	for _, d := range dids {
		if d == "" {
			return nil, fmt.Errorf("dids %q: an empty number", s)
		}
	}
	return dids, nil
}

// PoolDIDs is n numbers that start with prefix, the index zero-padded so
// that they have ten digits (North American length), or more if n needs.
func PoolDIDs(prefix string, n int) []string {
	width := max(10-len(prefix), len(strconv.Itoa(max(n-1, 0))))
	dids := make([]string, n)
	for i := range dids {
		dids[i] = fmt.Sprintf("%s%0*d", prefix, width, i)
	}
	return dids
}
