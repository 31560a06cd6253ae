package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
)

// Target is the new store a helper restores into and then closes.
type Target interface {
	Restorer
	Close() error
}

// BackupPath is where Embedded keeps the file of today's layout.
func BackupPath(path string) string { return path + ".v2" }

// partialPath is the new store while Embedded fills it: never at path
// before it is complete, so a crash leaves path as it was.
func partialPath(path string) string { return path + ".v3-partial" }

// Embedded migrates the bbolt file at path if it holds today's layout
// (fbstore/legacy/embedded's layout 2, or layout 1, which embedded.Open
// brings to 2 first): it opens the new store at a temporary path beside it
// through open, copies every record into it, closes both, keeps the old file
// at BackupPath(path) and puts the new one at path. Nothing is logged; the
// caller reports the counts.
//
// A missing file, or a file of any other layout (the new store's included),
// is left alone and migrated is false: today's layout is recognised by its
// meta bucket's schema "2", or by an accounts bucket without a meta bucket.
// An existing backup that is not the same file as path (a migration
// interrupted between its last two steps leaves both names on the old file)
// is refused, so that no backup is overwritten.
//
// path always holds either the old file or the complete new one: the backup
// is a hard link made once the copy is complete, and the new file replaces
// path by rename. A failed copy removes the partial new file.
func Embedded(ctx context.Context, path string, opts fbdata.Options, open func(path string) (Target, error)) (c Counts, migrated bool, err error) {
	today, err := todaysLayout(path)
	if err != nil || !today {
		return c, false, err
	}
	backup := BackupPath(path)
	if bi, err := os.Stat(backup); err == nil {
		pi, perr := os.Stat(path)
		if perr != nil || !os.SameFile(pi, bi) {
			return c, false, fmt.Errorf("migrate store %s: backup %s already exists; move it away to migrate", path, backup)
		}
		if err := os.Remove(backup); err != nil {
			return c, false, fmt.Errorf("migrate store %s: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return c, false, fmt.Errorf("migrate store %s: %w", path, err)
	}

	partial := partialPath(path)
	// Only an earlier failed or interrupted run of this function writes
	// there, so what it left is incomplete by definition.
	if err := os.Remove(partial); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return c, false, fmt.Errorf("migrate store %s: %w", path, err)
	}
	if c, err = copyFile(ctx, path, partial, opts, open); err != nil {
		return c, false, errors.Join(fmt.Errorf("migrate store %s: %w", path, err), removeMissing(partial))
	}
	if err := os.Link(path, backup); err != nil {
		return c, false, errors.Join(fmt.Errorf("migrate store %s: keep backup: %w", path, err), removeMissing(partial))
	}
	if err := os.Rename(partial, path); err != nil {
		return c, false, fmt.Errorf("migrate store %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return c, true, fmt.Errorf("migrate store %s: %w", path, err)
	}
	return c, true, nil
}

func copyFile(ctx context.Context, path, partial string, opts fbdata.Options, open func(path string) (Target, error)) (Counts, error) {
	old, err := embedded.Open(path, opts)
	if err != nil {
		return Counts{}, err
	}
	to, err := open(partial)
	if err != nil {
		return Counts{}, errors.Join(fmt.Errorf("open new store %s: %w", partial, err), old.Close())
	}
	c, err := Copy(ctx, old, to, 0)
	return c, errors.Join(err, to.Close(), old.Close())
}

func removeMissing(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// syncDir makes the renames durable before the new store is served.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// todaysLayout reports whether path is a bbolt file that legacy/embedded
// wrote; a missing or empty file is not.
func todaysLayout(path string) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("migrate store %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return false, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return false, fmt.Errorf("migrate store %s: %w", path, err)
	}
	today := false
	err = db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket([]byte("meta")); meta != nil {
			today = string(meta.Get([]byte("schema"))) == "2"
			return nil
		}
		today = tx.Bucket([]byte("accounts")) != nil
		return nil
	})
	return today, errors.Join(err, db.Close())
}
