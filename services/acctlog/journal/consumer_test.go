package journal

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kradius.dev/services/acctlog"
)

func TestConsumerResumesAfterCommit(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	appendRange(t, j, 0, 10)
	c := consumerT(t, j, "cdr")
	msgs := fetchN(t, c, 6)
	// Commit takes the highest offset, whatever the order given.
	if err := c.Commit(t.Context(), msgs[3], msgs[1]); err != nil {
		t.Fatal(err)
	}
	// Commits that would move backwards are ignored.
	if err := c.Commit(t.Context(), msgs[0]); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = openT(t, dir, Options{})
	c = consumerT(t, j, "cdr")
	// 4 and 5 were fetched but never committed: delivered again.
	checkRange(t, fetchN(t, c, 6), 4)
}

func TestConsumersAreIndependent(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	appendRange(t, j, 0, 20)
	a := consumerT(t, j, "a")
	b := consumerT(t, j, "b")
	if err := a.Commit(t.Context(), fetchN(t, a, 15)...); err != nil {
		t.Fatal(err)
	}
	checkRange(t, fetchN(t, b, 5), 0)
	if err := b.Commit(t.Context(), acctlog.Message{Offset: 2}); err != nil {
		t.Fatal(err)
	}
	checkRange(t, fetchN(t, a, 5), 15)
	a.Close()
	b.Close()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openT(t, dir, Options{})
	checkRange(t, fetchN(t, consumerT(t, j, "a"), 5), 15)
	checkRange(t, fetchN(t, consumerT(t, j, "b"), 17), 3)
}

func TestFetchWaitsForAppend(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	c := consumerT(t, j, "cdr")
	got := make(chan acctlog.Message, 1)
	errs := make(chan error, 1)
	go func() {
		m, err := c.Fetch(context.Background())
		errs <- err
		got <- m
	}()
	appendRange(t, j, 0, 1)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	checkRange(t, []acctlog.Message{<-got}, 0)
}

func TestFetchHonoursContext(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	appendRange(t, j, 0, 1)
	c := consumerT(t, j, "cdr")
	fetchN(t, c, 1)

	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx)
		errs <- err
	}()
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want context.Canceled", err)
	}
	// The consumer is still usable and has not skipped anything.
	appendRange(t, j, 1, 2)
	checkRange(t, fetchN(t, c, 1), 1)
}

func TestCloseUnblocksFetch(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	c := consumerT(t, j, "cdr")
	errs := make(chan error, 1)
	go func() {
		_, err := c.Fetch(context.Background())
		errs <- err
	}()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; !errors.Is(err, acctlog.ErrClosed) {
		t.Fatalf("Fetch = %v, want ErrClosed", err)
	}
	if err := c.Commit(t.Context(), acctlog.Message{Offset: 0}); !errors.Is(err, acctlog.ErrClosed) {
		t.Fatalf("Commit after Close = %v, want ErrClosed", err)
	}
}

func TestConsumerErrors(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	appendRange(t, j, 0, 3)
	c := consumerT(t, j, "cdr")
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"bad name", func() error { _, err := j.Consumer("../cdr"); return err }, "consumer name"},
		{"name in use", func() error { _, err := j.Consumer("cdr"); return err }, "already open"},
		{"commit past the end", func() error { return c.Commit(t.Context(), acctlog.Message{Offset: 3}) }, "beyond the end"},
		{"commit other partition", func() error { return c.Commit(t.Context(), acctlog.Message{Partition: 1}) }, "partition 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(t.Context()); !errors.Is(err, acctlog.ErrClosed) {
		t.Fatalf("Fetch on a closed consumer = %v, want ErrClosed", err)
	}
	// Closing frees the name.
	checkRange(t, fetchN(t, consumerT(t, j, "cdr"), 3), 0)
}

// TestLag: a consumer's lag is the durable records it has not committed.
func TestLag(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	if _, ok := j.Lag("cdr"); ok {
		t.Fatal("lag of a consumer never registered")
	}
	c := consumerT(t, j, "cdr")
	appendRange(t, j, 0, 10)
	if lag, ok := j.Lag("cdr"); !ok || lag != 10 {
		t.Fatalf("lag %d, %v; want 10", lag, ok)
	}
	if err := c.Commit(t.Context(), fetchN(t, c, 4)...); err != nil {
		t.Fatal(err)
	}
	if lag, _ := j.Lag("cdr"); lag != 6 {
		t.Fatalf("lag %d after committing 4 of 10, want 6", lag)
	}
}
