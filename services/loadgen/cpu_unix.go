//go:build unix

package loadgen

import (
	"syscall"
	"time"
)

// cpuTimes is this process's user and system CPU time so far, so a report
// can say how much of a shared box the generator itself used.
func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
