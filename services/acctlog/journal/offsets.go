package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	offsetsDir    = "consumers"
	offsetSuffix  = ".offset"
	offsetTmpSufx = ".tmp"
)

// offsetStore keeps each consumer's committed offset in its own small text
// file, consumers/<name>.offset, holding the next offset to deliver. A file's
// existence is also the consumer's registration: retention never deletes
// records a registered consumer has not committed.
type offsetStore struct {
	dir  string
	sync func(*os.File) error
}

// openOffsetStore creates the consumers directory if needed, clears temp
// files left by a crash mid-commit (the rename never happened, so the old
// offset stands) and loads every committed offset.
func openOffsetStore(root string, sync func(*os.File) error) (*offsetStore, map[string]int64, error) {
	s := &offsetStore{dir: filepath.Join(root, offsetsDir), sync: sync}
	if err := os.Mkdir(s.dir, 0o750); err == nil {
		if err := syncDir(root, sync); err != nil {
			return nil, nil, err
		}
	} else if !errors.Is(err, os.ErrExist) {
		return nil, nil, fmt.Errorf("create consumer offsets directory: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("list consumer offsets: %w", err)
	}
	committed := make(map[string]int64)
	for _, e := range entries {
		path := filepath.Join(s.dir, e.Name())
		if strings.HasSuffix(e.Name(), offsetTmpSufx) {
			if err := os.Remove(path); err != nil {
				return nil, nil, fmt.Errorf("remove leftover %s: %w", path, err)
			}
			continue
		}
		name, ok := strings.CutSuffix(e.Name(), offsetSuffix)
		if !ok || validConsumerName(name) != nil {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("read consumer offset: %w", err)
		}
		off, err := strconv.ParseInt(strings.TrimSuffix(string(data), "\n"), 10, 64)
		if err != nil || off < 0 {
			return nil, nil, fmt.Errorf("consumer offset file %s holds %q, not an offset", path, data)
		}
		committed[name] = off
	}
	return s, committed, nil
}

// store replaces a consumer's offset atomically: a crash leaves either the
// old file or the new one, never a torn number. The directory fsync makes
// the rename itself durable.
func (s *offsetStore) store(name string, off int64) error {
	path := filepath.Join(s.dir, name+offsetSuffix)
	tmp := path + offsetTmpSufx
	if err := writeFileSynced(tmp, []byte(strconv.FormatInt(off, 10)+"\n"), s.sync); err != nil {
		return fmt.Errorf("write consumer %q offset: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install consumer %q offset: %w", name, err)
	}
	return syncDir(s.dir, s.sync)
}

// validConsumerName keeps names safe to use as file names.
func validConsumerName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("consumer name %q: must be 1 to 128 characters", name)
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return fmt.Errorf("consumer name %q: only letters, digits and, after the first character, . _ -", name)
		}
	}
	return nil
}
