package chart

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// openObjects are the schema's objects that take any key on purpose:
// Helm's own `global`, and the keys declared only so that a template can
// refuse them with a message saying what to set instead.
var openObjects = []string{"/properties/global", "/$defs/chartOwned", "/$defs/inlineSecret"}

// TestSchemaClosed: every object of values.schema.json says what it takes
// besides its properties, `false` for a structure (so that a misspelt key
// is refused) or a schema for a map's values (labels, annotations).
func TestSchemaClosed(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	objects := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			_, hasProps := v["properties"]
			if (v["type"] == "object" || hasProps) && !slices.Contains(openObjects, at) {
				objects++
				ap, ok := v["additionalProperties"]
				switch {
				case !ok:
					t.Errorf("values.schema.json %s: an object without additionalProperties", at)
				case hasProps && ap != false:
					t.Errorf("values.schema.json %s: a structure whose additionalProperties is not false", at)
				}
			}
			for k, c := range v {
				walk(c, at+"/"+strings.ReplaceAll(k, "/", "~1"))
			}
		case []any:
			for _, c := range v {
				walk(c, at+"/[]")
			}
		}
	}
	walk(schema, "")
	if objects < 50 {
		t.Errorf("only %d objects in values.schema.json", objects)
	}
}
