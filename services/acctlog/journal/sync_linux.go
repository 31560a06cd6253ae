package journal

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data and the metadata needed to read it back, but
// not its timestamps: for a segment made from a spare, just the records.
func fdatasync(f *os.File) error {
	return os.NewSyscallError("fdatasync", syscall.Fdatasync(int(f.Fd())))
}
