package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFileWatchSeesAChangeBeforeItRuns: a file changed after the watch was
// made, while it was being loaded or before the watch's goroutine ran, is
// a change, and so is each one after.
func TestFileWatchSeesAChangeBeforeItRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clients.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	w := watchFiles(path)
	write("second")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := make(chan struct{})
	go w.run(ctx, func() { changes <- struct{}{} })
	// The test's own limit: a few of the watch's intervals.
	wait := func(what string) {
		t.Helper()
		select {
		case <-changes:
		case <-time.After(10 * clientsWatchInterval):
			t.Fatalf("%s: no change seen", what)
		}
	}
	wait("a change made before the watch ran")
	write("third")
	wait("a change made while it runs")
}
