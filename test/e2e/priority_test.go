package e2e

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// measuredNice is the priority the tests that compare latencies
// (TestOverload, TestTimingRevealsNoAccount) give the server and
// themselves: a weight about nine times a neighbour's at nice 0.
const measuredNice = -10

// prioritize gives every thread of the processes pids (0: the test's own)
// the CPU share measuredNice stands for, the share a pod's CPU request gets
// it beside the other pods of a node. A box running other test packages
// beside has no such thing, and its scheduler shares a core unevenly
// between the states a comparison needs alike: a thread that sleeps half
// the time, as a server at half its capacity does, is credited on waking
// and runs ahead of a busy neighbour, and one always busy, as under
// overload, gets only its fair share. The comparison would then measure
// the neighbours. Linux keeps a nice value per thread, and a new thread
// inherits its creator's, so setting every thread that exists now covers
// those to come: the test binary keeps it for the tests after, and the
// processes they start inherit it, which only makes them compete as
// this one does. Lowering it takes root (CAP_SYS_NICE); without, the test
// goes on at the default share, and says so.
func prioritize(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		dir := "/proc/self/task"
		if pid != 0 {
			dir = fmt.Sprintf("/proc/%d/task", pid)
		}
		tasks, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil {
				continue
			}
			// A thread may end between the listing and here: ESRCH.
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, measuredNice); err != nil && err != syscall.ESRCH {
				t.Logf("no nice %d for thread %d of %s (%v): measuring at the default CPU share", measuredNice, tid, dir, err)
				return
			}
		}
	}
}
