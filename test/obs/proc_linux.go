package obs

import "syscall"

// sysProcAttr has the kernel kill a server whose test binary dies without
// running its cleanups: a go test -timeout panic must not leave one behind.
// Pdeathsig follows the thread that started the process, and the Go
// runtime keeps its threads, except one locked by a goroutine that exits
// locked, which nothing here does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
