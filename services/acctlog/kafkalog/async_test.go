package kafkalog

import (
	"errors"
	"fmt"
	"testing"

	"kradius.dev/services/acctlog"
	"kradius.dev/services/acctlog/acctlogtest"
	"kradius.dev/services/acctlog/kafkalog/kafkatest"
	"kradius.dev/services/eventually"
)

var _ acctlog.AsyncAppender = (*Appender)(nil)

// AppendAsync records are acknowledged each once, and are in the log.
func TestAppendAsync(t *testing.T) {
	_, cfg := startBroker(t, kafkatest.Options{}, 4)
	a := newAppender(t, cfg)
	const n = 500
	o := acctlogtest.NewOutcomes(n)
	for i := range n {
		v := fmt.Sprintf("v%d", i)
		a.AppendAsync(testContext(t), fmt.Appendf(nil, "k%d", i%37), []byte(v), o.Done(v))
	}
	for v, err := range o.Wait(t) {
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
	}
	seen := map[string]int{}
	for _, m := range fetchN(t, newConsumer(t, cfg), n) {
		seen[string(m.Value)]++
	}
	for i := range n {
		if v := fmt.Sprintf("v%d", i); seen[v] != 1 {
			t.Errorf("%s in the log %d times", v, seen[v])
		}
	}
}

// Close tells every AppendAsync still waiting, once; later ones are refused
// at once.
func TestAppendAsyncClose(t *testing.T) {
	b, cfg := startBroker(t, kafkatest.Options{}, 2)
	a := newAppender(t, cfg)
	appendAll(t, a, records(2, 1))
	b.Stop()
	const n = 20
	o := acctlogtest.NewOutcomes(n)
	for i := range n {
		v := fmt.Sprintf("v%d", i)
		a.AppendAsync(testContext(t), fmt.Appendf(nil, "k%d", i), []byte(v), o.Done(v))
	}
	eventually.True(t, "a produce failed, its records waiting on a retry", func() bool { return a.stats.errors.Load() > 0 })
	if err := a.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
	for v, err := range o.Wait(t) {
		if err == nil {
			t.Errorf("%s acknowledged with the broker down", v)
		}
	}
	var refused error
	a.AppendAsync(testContext(t), []byte("k"), []byte("late"), func(err error) { refused = err })
	if !errors.Is(refused, acctlog.ErrClosed) {
		t.Errorf("AppendAsync after Close: done(%v) before returning, want ErrClosed", refused)
	}
}
