package chart

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// rbacMarker is a +kubebuilder:rbac line of the operator's controllers.
var rbacMarker = regexp.MustCompile(`(?m)^//\s*\+kubebuilder:rbac:(.+)$`)

// extraGrants are what the ClusterRole grants beyond the markers, each for
// a reason the chart's template says.
var extraGrants = []string{
	// blockOwnerDeletion on the objects a RadiusCluster owns, under the
	// OwnerReferencesPermissionEnforcement admission plugin.
	"kradius.dev radiusclusters/finalizers update",
}

// TestOperatorRBAC holds the chart's ClusterRole to the controllers'
// +kubebuilder:rbac markers: every grant a marker asks for, and nothing
// else but extraGrants, so that a controller's new marker fails here until
// the chart grants it.
func TestOperatorRBAC(t *testing.T) {
	t.Parallel()
	sources, err := filepath.Glob(filepath.Join(repoRoot, "operator", "internal", "controller", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range rbacMarker.FindAllStringSubmatch(string(b), -1) {
			fields := map[string][]string{}
			for _, kv := range strings.Split(m[1], ",") {
				k, v, _ := strings.Cut(kv, "=")
				fields[k] = strings.Split(strings.Trim(v, `"`), ";")
			}
			for _, g := range fields["groups"] {
				for _, r := range fields["resources"] {
					for _, v := range fields["verbs"] {
						want[grant(g, r, v)] = true
					}
				}
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("no +kubebuilder:rbac markers in operator/internal/controller")
	}

	out, err := render(t, []string{ciValues("operator-default")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range parseObjects(t, out) {
		if str(o, "kind") != "ClusterRole" {
			continue
		}
		for _, rule := range list(o, "rules") {
			for _, g := range list(rule, "apiGroups") {
				for _, r := range list(rule, "resources") {
					for _, v := range list(rule, "verbs") {
						got[grant(g.(string), r.(string), v.(string))] = true
					}
				}
			}
		}
	}
	for g := range want {
		if !got[g] {
			t.Errorf("a marker asks for %q, which the chart's ClusterRole does not grant", g)
		}
	}
	for g := range got {
		if !want[g] && !slices.Contains(extraGrants, g) {
			t.Errorf("the chart's ClusterRole grants %q, which no marker asks for", g)
		}
	}
}

func grant(group, resource, verb string) string {
	if group == "" {
		group = "core"
	}
	return group + " " + resource + " " + verb
}
