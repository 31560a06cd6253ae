package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLint runs helm lint on the defaults and on each scenario: helm
// validates the values against values.schema.json and renders every
// template, as an install would.
func TestLint(t *testing.T) {
	t.Parallel()
	if out, err := runHelm(t, "lint", "--strict", chartDir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, s := range scenarios(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if out, err := runHelm(t, "lint", "--strict", chartDir, "--namespace", namespace, "--values", s.valuesFile); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestGolden holds each scenario's render to testdata/<scenario>.yaml, so
// that a change to the chart shows in review as a change to what it renders.
func TestGolden(t *testing.T) {
	t.Parallel()
	want := map[string]bool{}
	for _, s := range scenarios(t) {
		want[s.name+".yaml"] = true
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			out, err := render(t, []string{s.valuesFile})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, s.name+".yaml", out)
		})
	}
	checkNoStaleGolden(t, "*.yaml", want)
}

// TestNotes holds the NOTES.txt of each scenario to
// testdata/<scenario>.notes.txt, and checks the parts an operator relies on
// whatever the scenario: the edge's address and a radclient probe.
func TestNotes(t *testing.T) {
	t.Parallel()
	want := map[string]bool{}
	for _, s := range scenarios(t) {
		want[s.name+".notes.txt"] = true
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			n := notes(t, s.valuesFile)
			checkGolden(t, s.name+".notes.txt", n)
			if strings.Contains(n, "RadiusCluster yet") {
				return // the operator alone: no edge to reach
			}
			for _, part := range []string{"export EDGE_IP=", "radclient -x $EDGE_IP:$AUTH_PORT auth"} {
				if !strings.Contains(n, part) {
					t.Errorf("NOTES.txt lacks %q:\n%s", part, n)
				}
			}
		})
	}
	checkNoStaleGolden(t, "*.notes.txt", want)
}

// TestNotesServiceTypes: the notes find the edge's address for each type of
// Service, in each mode.
func TestNotesServiceTypes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, base string
		set        []string
		want       []string
	}{
		{"ClusterIP", "direct-minimal", []string{"edge.service.type=ClusterIP"},
			[]string{"is a ClusterIP", "get service prod-kradius-edge -o jsonpath='{.spec.clusterIP}'"}},
		{"NodePort, operator mode", "operator-with-cluster", []string{"edge.service.type=NodePort", "edge.service.loadBalancerIP="},
			[]string{"NodePort Service carrier-edge", "app.kubernetes.io/instance=carrier,app.kubernetes.io/component=edge", `{.spec.ports[?(@.name=="auth")].nodePort}`}},
		{"LoadBalancer", "direct-minimal", nil,
			[]string{"LoadBalancer Service prod-kradius-edge", "{.status.loadBalancer.ingress[0].ip}"}},
		{"hostNetwork", "direct-minimal", []string{"edge.hostNetwork=true"},
			[]string{"edge.hostNetwork", "{.items[*].status.hostIP}"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := notes(t, ciValues(c.base), c.set...)
			for _, w := range c.want {
				if !strings.Contains(n, w) {
					t.Errorf("NOTES.txt lacks %q:\n%s", w, n)
				}
			}
		})
	}
}

// checkNoStaleGolden fails on a golden file no scenario writes any more.
func checkNoStaleGolden(t *testing.T, pattern string, want map[string]bool) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if pattern == "*.yaml" && strings.HasSuffix(name, ".notes.txt") {
			continue
		}
		if want[name] {
			continue
		}
		if *update {
			if err := os.Remove(f); err != nil {
				t.Error(err)
			}
			continue
		}
		t.Errorf("%s is no scenario's: remove it, or run with -update", f)
	}
}
