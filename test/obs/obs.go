// Package obs starts a real Prometheus and a real Jaeger v2 for tests that
// check what kradius exports: metrics and exemplars scraped the way
// production scrapes them, traces and span links stored the way production
// stores them. Both are built from the Go module proxy by
// hack/obs-assets.sh and cached outside the repo; every process a test starts
// listens on 127.0.0.1 only and is stopped by PID when the test ends.
package obs

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var assets struct {
	sync.Mutex
	dir string
}

// Assets returns the directory holding prometheus, promtool and jaeger,
// building them with hack/obs-assets.sh on a cold cache. That build takes
// many minutes, past go test's default 10m -timeout: run the script once
// before the tests (CI does) or give go test a longer -timeout. The script's
// stderr goes to the test's so that a long build is seen to progress.
func Assets(t testing.TB) string {
	t.Helper()
	assets.Lock()
	defer assets.Unlock()
	if assets.dir != "" {
		return assets.dir
	}
	script, err := findScript()
	if err != nil {
		t.Fatalf("obs: %v", err)
	}
	var out bytes.Buffer
	cmd := exec.Command(script)
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("obs: %s: %v", script, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	dir := lines[len(lines)-1]
	for _, bin := range []string{"prometheus", "promtool", "jaeger"} {
		if _, err := exec.LookPath(filepath.Join(dir, bin)); err != nil {
			t.Fatalf("obs: %s printed %q, which has no %s: %v", script, dir, bin, err)
		}
	}
	assets.dir = dir
	return dir
}

// findScript walks up from the working directory, which go test sets to the
// package directory of whichever test calls Assets.
func findScript() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		script := filepath.Join(dir, "hack", "obs-assets.sh")
		if _, err := os.Stat(script); err == nil {
			return script, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no hack/obs-assets.sh in " + wd + " or above it")
		}
		dir = parent
	}
}
