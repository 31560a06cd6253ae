//go:build !linux

package loadgen

// machineCPU reports nothing where /proc/stat does not exist.
func machineCPU() (steal, total uint64) { return 0, 0 }
