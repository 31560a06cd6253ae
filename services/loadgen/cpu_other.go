//go:build !unix

package loadgen

import "time"

// cpuTimes reports nothing where getrusage does not exist: kradius targets
// Linux, but the binary should still build elsewhere.
func cpuTimes() (user, sys time.Duration) { return 0, 0 }
