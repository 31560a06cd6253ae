package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// The chart keeps copies of files made elsewhere, since a chart can read
// only its own files: the CRDs controller-gen writes, the alerting rules,
// and the dashboards services/dashboards generates. Each copy must equal
// its source, file for file.
func TestCopiesInSync(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, source, copy, pattern, fix string }{
		{"CRDs", "operator/config/crd/bases", "charts/kradius/crds", "*.yaml", "cp operator/config/crd/bases/*.yaml charts/kradius/crds/ (make generate)"},
		{"alerting rules", "deploy/alerts", "charts/kradius/files", "kradius.rules.yaml", "cp deploy/alerts/kradius.rules.yaml charts/kradius/files/ (make generate)"},
		{"dashboards", "deploy/dashboards", "charts/kradius/files/dashboards", "*.json", "cp deploy/dashboards/*.json charts/kradius/files/dashboards/ (make generate)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			src, dst := files(t, c.source, c.pattern), files(t, c.copy, c.pattern)
			if len(src) == 0 {
				t.Fatalf("no %s in %s", c.pattern, c.source)
			}
			for name, want := range src {
				got, ok := dst[name]
				switch {
				case !ok:
					t.Errorf("%s/%s has no copy in %s; to fix: %s", c.source, name, c.copy, c.fix)
				case !bytes.Equal(got, want):
					t.Errorf("%s/%s differs from %s/%s; to fix: %s", c.copy, name, c.source, name, c.fix)
				}
			}
			for name := range dst {
				if _, ok := src[name]; !ok {
					t.Errorf("%s/%s has no source in %s any more: remove it", c.copy, name, c.source)
				}
			}
		})
	}
}

// files reads the files of dir (relative to the repository) matching
// pattern, by base name.
func files(t *testing.T, dir, pattern string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}
