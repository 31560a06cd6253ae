package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrLocked is returned by Open when another process (or another Journal in
// this one) has the directory open: two writers would interleave frames and
// assign the same offsets twice.
var ErrLocked = errors.New("journal directory is locked by another user")

const lockName = "LOCK"

// lockDir takes an exclusive flock on dir/LOCK. flock locks belong to the
// open file description, so the lock is released by closing the file, and by
// the kernel if the process dies: no stale lock to clean up after a crash.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("journal %s: %w (flock %s)", dir, ErrLocked, path)
		}
		return nil, fmt.Errorf("journal %s: flock %s: %w", dir, path, err)
	}
	// The pid is only a hint for an operator wondering who holds the lock;
	// failing to write it is not a reason to refuse to open.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func unlockDir(f *os.File) error {
	// Closing releases the flock.
	if err := f.Close(); err != nil {
		return fmt.Errorf("release lock %s: %w", f.Name(), err)
	}
	return nil
}
