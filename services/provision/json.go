package provision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// jsonSection is one member of a JSON document's object: a section.
type jsonSection struct {
	name string
	raw  json.RawMessage
}

// jsonSections reads the members of the document's object in order. A
// map would keep only the last of two sections of one name, and so drop
// the first one's records without a word.
func jsonSections(dec *json.Decoder) ([]jsonSection, error) {
	if t, err := dec.Token(); err != nil {
		return nil, err
	} else if t != json.Delim('{') {
		return nil, fmt.Errorf("%v where the document's object should open", t)
	}
	var out []jsonSection
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("a section name is %v", t)
		}
		if seen[name] {
			return nil, fmt.Errorf("%q: a second section of the name; put every record of a kind in one", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, jsonSection{name, raw})
	}
	_, err := dec.Token() // the closing brace
	return out, err
}

// jsonFields are the field names of the FaxBack sections' records.
var jsonFields = map[string]map[string]bool{
	"accounts":      fieldNames(reflect.TypeFor[accountRecord]()),
	"dids":          fieldNames(reflect.TypeFor[didRecord]()),
	"calledNumbers": fieldNames(reflect.TypeFor[calledNumberRecord]()),
}

func fieldNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	return names
}

// checkJSON refuses in a section, raw, which encoding/json has decoded,
// what encoding/json lets by without a word but the YAML path refuses: a
// key repeated in one object (encoding/json keeps the last value), a
// FaxBack field name in another case (encoding/json matches any case), and
// bytes that are not UTF-8 (encoding/json replaces them).
func checkJSON(section string, raw []byte) error {
	if !utf8.Valid(raw) {
		return fmt.Errorf("%s: not UTF-8", section)
	}
	k := jsonKeys{fields: jsonFields[section], record: -1}
	if err := k.check(raw); err != nil {
		if k.record < 0 {
			return fmt.Errorf("%s: %w", section, err)
		}
		return fmt.Errorf("%s[%d]: %w", section, k.record, err)
	}
	return nil
}

// jsonKeys walks the keys of a section, valid JSON: an array of records.
type jsonKeys struct {
	fields map[string]bool   // a record's keys, when the section has fixed ones
	seen   []map[string]bool // keys of the object open at each depth
	object []bool            // whether each open container is an object
	record int               // the record being read: its index in the array
}

func (k *jsonKeys) check(raw []byte) error {
	wantKey := false
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{':
			if len(k.object) == 1 {
				k.record++
			}
			k.open(true)
			wantKey = true
		case '[':
			k.open(false)
			wantKey = false
		case '}', ']':
			k.object = k.object[:len(k.object)-1]
			wantKey = false
		case ',':
			wantKey = k.object[len(k.object)-1]
		case '"':
			end := stringEnd(raw, i)
			if wantKey {
				if err := k.key(raw[i : end+1]); err != nil {
					return err
				}
				wantKey = false
			}
			i = end
		}
	}
	return nil
}

func (k *jsonKeys) open(object bool) {
	k.object = append(k.object, object)
	if !object {
		return
	}
	d := len(k.object) - 1
	for len(k.seen) <= d {
		k.seen = append(k.seen, map[string]bool{})
	}
	clear(k.seen[d])
}

// key takes the string literal of a key of the innermost object.
func (k *jsonKeys) key(lit []byte) error {
	name := string(lit[1 : len(lit)-1])
	if bytes.IndexByte(lit, '\\') >= 0 {
		if err := json.Unmarshal(lit, &name); err != nil {
			return err
		}
	}
	seen := k.seen[len(k.object)-1]
	if seen[name] {
		return fmt.Errorf("%q given twice", name)
	}
	seen[name] = true
	if k.fields != nil && len(k.object) == 2 && !k.fields[name] {
		return fmt.Errorf("unknown field %q: field names are case-sensitive", name)
	}
	return nil
}

// stringEnd is the index of the quote that closes the string opening at
// raw[start].
func stringEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); {
		j := bytes.IndexAny(raw[i:], `"\`)
		if j < 0 {
			break
		}
		if raw[i+j] == '"' {
			return i + j
		}
		i += j + 2 // past the escaped character
	}
	return len(raw) - 1 // unclosed: not JSON, which encoding/json refused
}
