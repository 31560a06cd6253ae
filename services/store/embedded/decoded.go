package embedded

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"kradius.dev/services/store"
)

// decodedAccounts keeps accounts already decoded, each with the stored bytes
// it came from. A read compares the bytes in the file with the kept ones and
// decodes only when they differ, so it returns exactly what is stored while
// JSON decoding — a sixth of the CPU of a login — happens once per write.
type decodedAccounts struct {
	mu  sync.Mutex
	m   map[string]decodedAccount
	max int
}

type decodedAccount struct {
	raw []byte
	a   store.Account
}

func newDecodedAccounts(max int) *decodedAccounts {
	return &decodedAccounts{m: make(map[string]decodedAccount), max: max}
}

// decode returns the account stored as raw under key.
func (d *decodedAccounts) decode(key string, raw []byte) (store.Account, error) {
	d.mu.Lock()
	c, ok := d.m[key]
	d.mu.Unlock()
	if ok && bytes.Equal(c.raw, raw) {
		a := c.a
		a.Members = slices.Clone(a.Members) // callers may keep and change what they get
		return a, nil
	}
	var a store.Account
	if err := json.Unmarshal(raw, &a); err != nil {
		return store.Account{}, fmt.Errorf("decode account record: %w", err)
	}
	d.mu.Lock()
	if len(d.m) >= d.max {
		clear(d.m) // crude, but bounded; the hot accounts come back at once
	}
	d.m[key] = decodedAccount{raw: bytes.Clone(raw), a: a}
	d.mu.Unlock()
	a.Members = slices.Clone(a.Members)
	return a, nil
}
