package journal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"kradius.dev/services/acctlog"
)

func openT(t testing.TB, dir string, o Options) *Journal {
	t.Helper()
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	j, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func key(i int) []byte   { return fmt.Appendf(nil, "session-%06d", i) }
func value(i int) []byte { return fmt.Appendf(nil, "Acct-Status-Type=Stop;Acct-Session-Time=%d", i) }

// appendRange appends records from..to-1 in order.
func appendRange(t testing.TB, j *Journal, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := j.Append(context.Background(), key(i), value(i)); err != nil {
			t.Fatalf("Append(%d): %v", i, err)
		}
	}
}

func consumerT(t testing.TB, j *Journal, name string) acctlog.Consumer {
	t.Helper()
	c, err := j.Consumer(name)
	if err != nil {
		t.Fatalf("Consumer(%q): %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func fetchN(t testing.TB, c acctlog.Consumer, n int) []acctlog.Message {
	t.Helper()
	msgs := make([]acctlog.Message, 0, n)
	for range n {
		m, err := c.Fetch(context.Background())
		if err != nil {
			t.Fatalf("Fetch after %d messages: %v", len(msgs), err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// checkRange asserts msgs are exactly the records from..from+len-1 as
// appendRange wrote them, in offset order.
func checkRange(t testing.TB, msgs []acctlog.Message, from int) {
	t.Helper()
	for i, m := range msgs {
		want := from + i
		if m.Offset != int64(want) || string(m.Key) != string(key(want)) || string(m.Value) != string(value(want)) || m.Partition != 0 {
			t.Fatalf("message %d = {offset %d, key %q, value %q, partition %d}, want offset %d key %q", i, m.Offset, m.Key, m.Value, m.Partition, want, key(want))
		}
	}
}

// waitQueued waits until n appends sit in the queue, behind a writer that a
// test hook holds inside an fsync. It waits on a condition, not a clock.
func waitQueued(j *Journal, n int) {
	for {
		j.qmu.Lock()
		l := len(j.queue)
		j.qmu.Unlock()
		if l >= n {
			return
		}
		runtime.Gosched()
	}
}

// gate holds the first fsync of a segment that happens after arm() until
// release() is called, so a test can line appenders up behind it.
type gate struct {
	armed   chan struct{}
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{armed: make(chan struct{}, 1), entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) arm() { g.armed <- struct{}{} }

func (g *gate) wait() {
	select {
	case <-g.armed:
		close(g.entered)
		<-g.release
	default:
	}
}

func segSize(t testing.TB, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// recordBytes is the bytes of records in a segment file: the active segment
// may be a spare, longer than its records; any other must be exactly its
// records.
func recordBytes(t testing.TB, path string) int64 {
	t.Helper()
	size := segSize(t, path)
	base, _ := parseSegName(filepath.Base(path))
	res, err := scanSegment(path, base)
	if err != nil {
		t.Fatal(err)
	}
	if res.bad != nil {
		if free, err := zeroTail(path, res.valid); err != nil || !free {
			t.Fatalf("%s: %v after %d bytes of records, and the rest is not free space", path, res.bad, res.valid)
		}
	} else if res.valid != size {
		t.Fatalf("%s: %d bytes of records in a %d-byte file", path, res.valid, size)
	}
	return res.valid
}
