package loadgen

import "testing"

// TestMachineCPU: the machine's CPU time can be read, and steal is part of
// it.
func TestMachineCPU(t *testing.T) {
	steal, total := machineCPU()
	if total == 0 || steal > total {
		t.Fatalf("machineCPU() = steal %d, total %d", steal, total)
	}
}
