package journal

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// fdatasync flushes f's data and the metadata needed to read it back, but
// not its timestamps: for a segment made from a spare, just the records.
func fdatasync(f *os.File) error {
	return os.NewSyscallError("fdatasync", syscall.Fdatasync(int(f.Fd())))
}

// pushToDisk writes a range of f out and waits for it, without a cache
// flush or any metadata: the work an fsync would otherwise do all at once.
func pushToDisk(f *os.File, off, n int64) error {
	const how = unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
	return os.NewSyscallError("sync_file_range", unix.SyncFileRange(int(f.Fd()), off, n, how))
}
