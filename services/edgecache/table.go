package edgecache

import "time"

// table is one kind of record kept, by key, bounded and expiring. Its
// Cache's lock guards it.
type table[V any] struct {
	max     int
	entries map[string]kept[V]
}

type kept[V any] struct {
	value   V
	expires time.Time
}

func (t *table[V]) init(max int) {
	t.max = max
	t.entries = map[string]kept[V]{}
}

func (t *table[V]) get(key string, now time.Time) (V, bool) {
	k, ok := t.entries[key]
	if !ok || !now.Before(k.expires) {
		var zero V
		return zero, false
	}
	return k.value, true
}

// put keeps v under key; a full table first evicts one entry at random
// (Go starts every map iteration at a random place).
func (t *table[V]) put(key string, v V, expires time.Time) {
	if t.max <= 0 {
		return
	}
	if _, ok := t.entries[key]; !ok && len(t.entries) >= t.max {
		for k := range t.entries {
			delete(t.entries, k)
			break
		}
	}
	t.entries[key] = kept[V]{value: v, expires: expires}
}

func (t *table[V]) delete(key string) { delete(t.entries, key) }
func (t *table[V]) clear()            { clear(t.entries) }
func (t *table[V]) len() int          { return len(t.entries) }
