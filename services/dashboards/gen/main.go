// Command gen writes kradius's Grafana dashboards as JSON, one file a board:
// go generate runs it, and hack/check-generated.sh fails when the files are
// stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"kradius.dev/services/dashboards"
)

func main() {
	out := flag.String("out", "", "directory to write the boards to")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gen: -out is required")
		os.Exit(2)
	}
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// write replaces the boards in dir, removing the JSON of a board no longer
// built, so that a renamed board leaves no stale copy to be provisioned.
func write(dir string) error {
	boards, err := dashboards.All()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	keep := make(map[string]bool, len(boards))
	for _, b := range boards {
		data, err := dashboards.Marshal(b)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, b.File), data, 0o644); err != nil {
			return err
		}
		keep[b.File] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && !keep[e.Name()] {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
