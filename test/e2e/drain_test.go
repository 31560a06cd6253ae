package e2e

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"kradius.dev/services/eventually"
)

// TestKafkaConsumerSIGTERMUnderLoad stops the cdr process with SIGTERM, as a
// rolling update does, twice, while Stops keep arriving: it finishes the
// batch in hand before leaving, so its successor publishes no CDR again and
// none is lost.
func TestKafkaConsumerSIGTERMUnderLoad(t *testing.T) {
	k := startKafkaCluster(t)
	acct := k.edge.addr("acct")
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Limit)
	defer cancel()

	const n, perSecond = 600, 200
	sessions := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []error
	tick := time.NewTicker(time.Second / perSecond)
	defer tick.Stop()
	for i := range n {
		sessions[i] = fmt.Sprintf("term-%03d", i)
		wg.Go(func() {
			if err := nasStop(ctx, acct, sessions[i], fmt.Sprintf("5557%06d", i), "Success"); err != nil {
				mu.Lock()
				failed = append(failed, err)
				mu.Unlock()
			}
		})
		// SIGTERM the consumer a third and two thirds of the way through,
		// once it has applied what came before, and start another.
		if i == n/3 || i == 2*n/3 {
			const applied = `kradius_cdr_effects_total{effect="cdr",result="applied"}`
			k.cdr.waitMetricFunc(applied, "> 0", func(v float64) bool { return v > 0 })
			if err := k.cdr.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-k.cdr.exited:
			case <-time.After(eventually.Limit):
				t.Fatal("cdr did not exit after SIGTERM")
			}
			if k.cdr.exitCode != 0 {
				t.Fatalf("cdr exited %d after SIGTERM:\n%s", k.cdr.exitCode, k.cdr.logText())
			}
			k.cdr = k.startCDR()
		}
		<-tick.C
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d Stops not acknowledged: %v", len(failed), failed[0])
	}
	checkExactlyOnce(t, readCDRsWithin(t, k.broker.Addr(), n, 90*time.Second), sessions)
}
