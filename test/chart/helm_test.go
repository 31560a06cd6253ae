package chart

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the chart")

// The chart under test, and where its copies come from: this package is
// test/chart.
var (
	repoRoot = mustAbs("../..")
	chartDir = filepath.Join(repoRoot, "charts", "kradius")
)

// The release every render uses: a name unlike the chart's shows the
// names built from both.
const (
	releaseName = "prod"
	namespace   = "kradius"
)

// helmHome keeps helm's cache, config and data out of the user's home, so
// that a test run neither reads nor writes their repositories.
var helmHome string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "kradius-chart-helm-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helmHome = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return abs
}

const howToGetHelm = `
helm v4.3.2 is needed. Either
  - set KRADIUS_HELM to a helm binary, or
  - run hack/cluster-assets.sh helm, which builds it once (about 5 minutes) and prints its directory, or
  - build it: (cd "$(mktemp -d)" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN=$HOME/.cache/kradius/helm-dev go install helm.sh/helm/v4/cmd/helm@v4.3.2)
    and set KRADIUS_HELM=$HOME/.cache/kradius/helm-dev/helm`

// helmPath finds helm once for the whole run: building it can take minutes.
var helmPath = sync.OnceValues(func() (string, error) {
	if p := os.Getenv("KRADIUS_HELM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("KRADIUS_HELM: %w%s", err, howToGetHelm)
		}
		return p, nil
	}
	script := filepath.Join(repoRoot, "hack", "cluster-assets.sh")
	if _, err := os.Stat(script); err != nil {
		return "", errors.New("helm not found: KRADIUS_HELM is unset and there is no hack/cluster-assets.sh" + howToGetHelm)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(script, "helm")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/cluster-assets.sh helm: %v\n%s%s", err, stderr.String(), howToGetHelm)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	p := filepath.Join(lines[len(lines)-1], "helm")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("hack/cluster-assets.sh helm printed %q, which holds no helm: %w%s", lines[len(lines)-1], err, howToGetHelm)
	}
	return p, nil
})

// runHelm runs helm and returns its stdout; err carries its stderr.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := helmPath()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"),
		// helm template and lint never need a cluster; a kubeconfig that
		// is not there makes sure none is asked.
		"KUBECONFIG="+filepath.Join(helmHome, "no-kubeconfig"),
	)
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// scenario is one ci/<name>-values.yaml.
type scenario struct {
	name, valuesFile string
}

func scenarios(t *testing.T) []scenario {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no ci/*-values.yaml in the chart")
	}
	sort.Strings(files)
	var out []scenario
	for _, f := range files {
		out = append(out, scenario{name: strings.TrimSuffix(filepath.Base(f), "-values.yaml"), valuesFile: f})
	}
	return out
}

// render is `helm template` of the chart with the values files and YAML
// documents given, in order.
func render(t *testing.T, valuesFiles []string, values ...string) (string, error) {
	t.Helper()
	args := []string{"template", releaseName, chartDir, "--namespace", namespace}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	for _, v := range values {
		// Not in t.TempDir: its name comes from the test's, and helm splits
		// --values at commas.
		f, err := os.CreateTemp(helmHome, "values-*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Remove(f.Name()) })
		if _, err := f.WriteString(v); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--values", f.Name())
	}
	return runHelm(t, args...)
}

// notes is the NOTES.txt helm prints after an install, from a client-side
// dry run (which needs no cluster), without the run's timestamp above it.
func notes(t *testing.T, valuesFile string, set ...string) string {
	t.Helper()
	args := []string{"install", releaseName, chartDir, "--namespace", namespace, "--dry-run=client", "--values", valuesFile}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	_, n, ok := strings.Cut(out, "\nNOTES:\n")
	if !ok {
		t.Fatalf("no NOTES in helm install --dry-run's output:\n%s", out)
	}
	return n
}

// checkGolden compares got with testdata/name, or writes it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with go test ./chart -run 'Golden|Notes' -update)", err)
	}
	if string(want) != got {
		t.Errorf("the render differs from %s at %s\nrewrite it after a meant change: go test ./chart -run 'Golden|Notes' -update", path, firstDifference(string(want), got))
	}
}

// firstDifference names the first line where two texts differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, wl, gl)
		}
	}
	return "no line (the texts are equal)"
}

// docSeparator splits a multi-document YAML stream.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)
