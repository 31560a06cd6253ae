package chart

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// valueDoc is one documented key of values.yaml.
type valueDoc struct {
	path, typ, def, description string
}

// documentedKeys walks values.yaml and returns every key documented
// helm-docs style (`# -- ` above it), failing on a key with no comment at
// all. A `# --` comment on a map whose keys have none documents the map
// whole (the default resources, say).
func documentedKeys(t *testing.T) []valueDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []valueDoc
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := strings.TrimPrefix(prefix+"."+k.Value, ".")
			comment := k.HeadComment
			if i == 0 && prefix == "" {
				// The file's header lands on the first key; the key's own
				// comment is the header's last paragraph.
				parts := strings.Split(comment, "\n\n")
				comment = parts[len(parts)-1]
			}
			documented := strings.Contains(comment, "# -- ")
			switch {
			case documented:
				out = append(out, valueDoc{path: path, typ: typeOf(v), def: defaultOf(t, v), description: description(comment)})
			case comment == "":
				t.Errorf("values.yaml: %s has no comment above it", path)
			}
			if v.Kind == yaml.MappingNode && (!documented || hasCommentedKeys(v)) {
				walk(v, path)
			}
		}
	}
	walk(doc.Content[0], "")
	return out
}

// hasCommentedKeys says whether a map's keys carry comments of their own.
func hasCommentedKeys(n *yaml.Node) bool {
	for i := 0; i < len(n.Content); i += 2 {
		if n.Content[i].HeadComment != "" {
			return true
		}
	}
	return false
}

func typeOf(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "object"
	case n.Kind == yaml.SequenceNode:
		return "list"
	case n.Tag == "!!int":
		return "int"
	case n.Tag == "!!bool":
		return "bool"
	case n.Tag == "!!null":
		return "int or null"
	default:
		return "string"
	}
}

// defaultOf is a value as one line of JSON, as helm-docs shows defaults.
func defaultOf(t *testing.T, n *yaml.Node) string {
	t.Helper()
	var v any
	if err := n.Decode(&v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// description is the text of a `# -- ` comment, on one line.
func description(comment string) string {
	_, text, _ := strings.Cut(comment, "# -- ")
	var words []string
	for _, line := range strings.Split(text, "\n") {
		words = append(words, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#")))
	}
	return strings.Join(words, " ")
}

// The README's values table sits between these markers; go test -update
// rewrites it from values.yaml.
const (
	tableBegin = "<!-- values table: written by go test ./chart -run ValuesDocumented -update -->\n"
	tableEnd   = "<!-- end of values table -->\n"
)

func valuesTable(keys []valueDoc) string {
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Description |\n|---|---|---|---|\n")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, k := range keys {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", k.path, k.typ, esc(k.def), esc(k.description))
	}
	return b.String()
}

// TestValuesDocumented: every key of values.yaml has a comment, and the
// chart's README carries the values table they make.
func TestValuesDocumented(t *testing.T) {
	t.Parallel()
	keys := documentedKeys(t)
	if len(keys) < 50 {
		t.Fatalf("only %d documented keys found in values.yaml", len(keys))
	}
	path := filepath.Join(chartDir, "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	before, rest, ok1 := strings.Cut(readme, tableBegin)
	_, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("charts/kradius/README.md lacks the values table's markers:\n%s%s", tableBegin, tableEnd)
	}
	want := before + tableBegin + valuesTable(keys) + tableEnd + after
	if want == readme {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("charts/kradius/README.md's values table is not values.yaml's; rewrite it: go test ./chart -run ValuesDocumented -update")
}
