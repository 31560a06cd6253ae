package cluster

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAssetsScriptVersions keeps want, which Available compares the stamp
// with, in step with the versions hack/cluster-assets.sh builds.
func TestAssetsScriptVersions(t *testing.T) {
	b, err := os.ReadFile("../../hack/cluster-assets.sh")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z0-9_]+_VERSION)=(\S+)`).FindAllStringSubmatch(string(b), -1) {
		vars[m[1]] = m[2]
	}
	m := regexp.MustCompile(`(?m)^WANT="(.*)"$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("no WANT= line in hack/cluster-assets.sh")
	}
	got := os.Expand(m[1], func(k string) string { return vars[k] })
	if got != want {
		t.Errorf("hack/cluster-assets.sh stamps %q; test/cluster wants %q", got, want)
	}
	if !strings.Contains(got, k8sVersion) {
		t.Errorf("stamp %q lacks Kubernetes %s", got, k8sVersion)
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, out := range map[string]string{
		"/a/b":         "/a/b",
		`/a\040b`:      "/a b",
		`/x\011y\134z`: "/x\ty\\z",
	} {
		if got := unescapeMount(in); got != out {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, out)
		}
	}
}
