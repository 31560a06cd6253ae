package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOffsetFiles(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // under consumers/
		wantErr string
		want    map[string]int64
	}{
		{"empty", nil, "", map[string]int64{}},
		{"committed", map[string]string{"cdr.offset": "42\n", "audit.offset": "7\n"}, "", map[string]int64{"cdr": 42, "audit": 7}},
		// A crash between writing the temp file and the rename: the old
		// offset stands and the leftover goes.
		{"leftover temp", map[string]string{"cdr.offset": "5\n", "cdr.offset.tmp": "9\n"}, "", map[string]int64{"cdr": 5}},
		{"foreign file", map[string]string{"README": "notes"}, "", map[string]int64{}},
		{"garbage offset", map[string]string{"cdr.offset": "forty-two"}, "not an offset", nil},
		{"negative offset", map[string]string{"cdr.offset": "-1\n"}, "not an offset", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, offsetsDir)
			if err := os.Mkdir(dir, 0o750); err != nil {
				t.Fatal(err)
			}
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			_, got, err := openOffsetStore(root, (*os.File).Sync)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("openOffsetStore = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("offsets = %v, want %v", got, tt.want)
			}
			for name, off := range tt.want {
				if got[name] != off {
					t.Fatalf("offsets = %v, want %v", got, tt.want)
				}
			}
			if leftovers, _ := filepath.Glob(filepath.Join(dir, "*"+offsetTmpSufx)); len(leftovers) != 0 {
				t.Fatalf("temp files left: %v", leftovers)
			}
		})
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "journal")
	j := openT(t, dir, Options{})
	appendRange(t, j, 0, 1)
	for _, name := range []string{lockName, offsetsDir, segName(0)} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}
