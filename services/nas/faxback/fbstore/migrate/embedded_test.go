package migrate

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
)

var update = flag.Bool("update", false, "rewrite testdata/v2.db with today's embedded store")

// fixturePath is a bbolt file of layout 2 written by today's code, kept so
// that the migration stays tested once that code is gone.
const fixturePath = "testdata/v2.db"

// writeToday writes fixtureBatch with today's embedded store.
func writeToday(t *testing.T, path string) {
	t.Helper()
	st, err := embedded.Open(path, fbdata.Options{LongNames: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Apply(context.Background(), fixtureBatch()); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFixture regenerates the fixture with -update, and otherwise checks
// that it is still there.
func TestFixture(t *testing.T) {
	if !*update {
		if _, err := os.Stat(fixturePath); err != nil {
			t.Fatalf("%v: run go test -run TestFixture -update", err)
		}
		return
	}
	if err := os.Remove(fixturePath); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	writeToday(t, fixturePath)
}

// readToday dumps a file of today's layout, through a copy so that the file
// itself is not opened for writing.
func readToday(t *testing.T, path string) dump {
	t.Helper()
	cp := filepath.Join(t.TempDir(), "read.db")
	copyFileForTest(t, path, cp)
	st, err := embedded.Open(cp, fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return dumpStore(t, st)
}

func copyFileForTest(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// newLayout stands in for the new store's file: a bbolt file whose meta
// bucket says schema "3", as records/embedded writes it.
func newLayout(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("schema"), []byte("3"))
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
}

// applierTarget opens the applier and leaves a file of the new layout at
// the path Embedded asks for, so that a second run sees a migrated file.
type applierTarget struct{ *applier }

func (applierTarget) Close() error { return nil }

func opener(t *testing.T, a *applier, opened *[]string) func(string) (Target, error) {
	return func(path string) (Target, error) {
		*opened = append(*opened, path)
		newLayout(t, path)
		return applierTarget{a}, nil
	}
}

func migrateFile(t *testing.T, path string) {
	t.Helper()
	source := readToday(t, path)
	target := newApplier(t)
	var opened []string
	c, migrated, err := Embedded(context.Background(), path, fbdata.Options{}, opener(t, target, &opened))
	if err != nil || !migrated {
		t.Fatalf("Embedded = %v, %v", migrated, err)
	}
	if want := (Counts{Accounts: 6, DIDs: 4, CalledNumbers: 3}); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	compare(t, source, target)

	// The old file is the backup, unchanged in content; path is the new one.
	if got := readToday(t, BackupPath(path)); len(got.Accounts) != len(source.Accounts) {
		t.Errorf("backup holds %d accounts, want %d", len(got.Accounts), len(source.Accounts))
	}
	if today, err := todaysLayout(path); err != nil || today {
		t.Errorf("after migration, path in today's layout = %v, %v", today, err)
	}
	if _, err := os.Stat(partialPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial file left behind: %v", err)
	}

	// A second run leaves the migrated file alone.
	c, migrated, err = Embedded(context.Background(), path, fbdata.Options{}, opener(t, target, &opened))
	if err != nil || migrated || c != (Counts{}) || len(opened) != 1 {
		t.Errorf("second run = %+v, %v, %v, opened %q", c, migrated, err, opened)
	}
}

func TestEmbeddedFixture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	copyFileForTest(t, fixturePath, path)
	migrateFile(t, path)
}

func TestEmbeddedWrittenNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	writeToday(t, path)
	migrateFile(t, path)
}

func TestEmbeddedLeavesOthersAlone(t *testing.T) {
	dir := t.TempDir()
	fail := func(string) (Target, error) {
		t.Fatal("opened a target")
		return nil, nil
	}
	for name, prepare := range map[string]func(string){
		"missing": func(string) {},
		"empty": func(p string) {
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"new layout": func(p string) { newLayout(t, p) },
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
		prepare(path)
		c, migrated, err := Embedded(context.Background(), path, fbdata.Options{}, fail)
		if err != nil || migrated || c != (Counts{}) {
			t.Errorf("%s: Embedded = %+v, %v, %v", name, c, migrated, err)
		}
		if _, err := os.Stat(BackupPath(path)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: backup made: %v", name, err)
		}
	}
}

func TestEmbeddedRefusesExistingBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	writeToday(t, path)
	if err := os.WriteFile(BackupPath(path), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, migrated, err := Embedded(context.Background(), path, fbdata.Options{}, func(string) (Target, error) {
		t.Fatal("opened a target")
		return nil, nil
	})
	if err == nil || migrated || !strings.Contains(err.Error(), BackupPath(path)) {
		t.Fatalf("Embedded = %v, %v; want an error naming the backup", migrated, err)
	}
	if b, _ := os.ReadFile(BackupPath(path)); string(b) != "keep me" {
		t.Errorf("backup overwritten")
	}
}

// A migration interrupted after the backup link and before the rename
// leaves path and the backup on one file; the next run finishes the job.
func TestEmbeddedResumesInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	writeToday(t, path)
	if err := os.Link(path, BackupPath(path)); err != nil {
		t.Fatal(err)
	}
	migrateFile(t, path)
}

type failingTarget struct{}

func (failingTarget) Restore(context.Context, fbdata.Batch) error { return errors.New("disk full") }
func (failingTarget) Close() error                                { return nil }

func TestEmbeddedFailedCopyLeavesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kradius.db")
	writeToday(t, path)
	_, migrated, err := Embedded(context.Background(), path, fbdata.Options{}, func(p string) (Target, error) {
		newLayout(t, p)
		return failingTarget{}, nil
	})
	if err == nil || migrated || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Embedded = %v, %v; want the target's error", migrated, err)
	}
	if today, err := todaysLayout(path); err != nil || !today {
		t.Errorf("path in today's layout = %v, %v", today, err)
	}
	for _, p := range []string{BackupPath(path), partialPath(path)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
}
