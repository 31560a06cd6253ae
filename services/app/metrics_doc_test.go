package app

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// metricName finds a metric's definition: client_golang's Opts.Name or
// NewDesc.
var metricName = regexp.MustCompile(`(?:Name:\s*|NewDesc\(\s*)"(kradius_[a-z0-9_]+)"`)

// Every metric kradius exports is listed in the README of the package
// that defines it, where an operator looks for what a series means.
func TestMetricsAreDocumented(t *testing.T) {
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range metricName.FindAllStringSubmatch(string(src), -1) {
			name := m[1]
			if strings.HasSuffix(name, "_") {
				continue // a prefix, completed at run time (rpc.NewMetrics): its README lists the names
			}
			if !documented(t, filepath.Dir(path), root, name) {
				t.Errorf("%s: metric %s is not in the README.md of its package or a parent's", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// documented looks for name in dir's README.md, then its parents' up to
// root.
func documented(t *testing.T, dir, root, name string) bool {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "README.md")); err == nil && strings.Contains(string(b), name) {
			return true
		}
		if filepath.Clean(dir) == filepath.Clean(root) {
			return false
		}
		dir = filepath.Dir(dir)
	}
}
