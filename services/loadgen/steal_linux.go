package loadgen

import (
	"bytes"
	"os"
	"strconv"
)

// machineCPU reads the machine's CPU time so far from /proc/stat, in clock
// ticks: the time the hypervisor gave other guests (steal), and all of it.
// On a shared virtual machine a run that lost a fifth of its CPU to steal
// measures the host's neighbours, not the server; the report says so.
func machineCPU() (steal, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fields := bytes.Fields(line)
	if len(fields) < 9 || string(fields[0]) != "cpu" {
		return 0, 0
	}
	// user nice system idle iowait irq softirq steal [guest guest_nice],
	// the guest times being counted in user and nice already.
	for i, f := range fields[1:min(len(fields), 9)] {
		n, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return 0, 0
		}
		total += n
		if i == 7 {
			steal = n
		}
	}
	return steal, total
}
