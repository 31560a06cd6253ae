package accountsrpc

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/accounts"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbdata/fbdatatest"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
)

func TestWatchChangesOverGRPC(t *testing.T) {
	b := startBackend(t)
	c, _ := dial(t, serve(t, NewServer(b.svc)))
	w := fbdatatest.Watch(t.Context(), c.WatchChanges)
	w.Live(t)
	if err := b.store.PutAccount(t.Context(), fbdata.Account{Name: "User0", Type: 4}); err != nil {
		t.Fatal(err)
	}
	if n := w.Next(t); n.All || !slices.Equal(n.Accounts, []string{"user0"}) || n.DIDs != nil {
		t.Errorf("notice of PutAccount(User0) = %+v, want account user0", n)
	}
	if err := b.store.PutDID(t.Context(), fbdata.DID{Number: "5035550100", Account: "user0"}); err != nil {
		t.Fatal(err)
	}
	if n := w.Next(t); n.All || n.Accounts != nil || !slices.Equal(n.DIDs, []string{"5035550100"}) {
		t.Errorf("notice of PutDID = %+v, want DID 5035550100", n)
	}
	b.redis.Stop()
	err := w.End(t, 10*time.Second)
	if errors.Is(err, accounts.ErrCannotWatch) {
		t.Errorf("a broken feed reads as ErrCannotWatch: %v", err)
	}
	t.Logf("ended: %v", err)
}

// TestWatchChangesCannotWatch: a store that cannot report changes (the
// embedded one) is UNIMPLEMENTED on the wire and ErrCannotWatch to the
// client, which then knows to keep nothing rather than retry at once.
func TestWatchChangesCannotWatch(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, _ := dial(t, serve(t, NewServer(accounts.New(st, nil))))
	w := fbdatatest.Watch(t.Context(), c.WatchChanges)
	if err := w.End(t, 10*time.Second); !errors.Is(err, accounts.ErrCannotWatch) {
		t.Errorf("WatchChanges against an embedded store = %v, want ErrCannotWatch", err)
	}
}

// stalledStream is a WatchChanges stream whose client reads nothing: Send
// blocks until the stream's context ends.
type stalledStream struct {
	grpc.ServerStream
	ctx  context.Context
	sent chan struct{}
}

func (s *stalledStream) Context() context.Context { return s.ctx }

func (s *stalledStream) Send(*accountsv1.WatchChangesResponse) error {
	select {
	case s.sent <- struct{}{}:
	default:
	}
	<-s.ctx.Done()
	return s.ctx.Err()
}

// TestWatchChangesWatcherBehind: a client that stops reading has its watch
// ended once watchBuffer notices wait for it, rather than hold the store's
// feed up; it starts over, forgetting what it kept.
func TestWatchChangesWatcherBehind(t *testing.T) {
	b := startBackend(t)
	srv := NewServer(b.svc)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stream := &stalledStream{ctx: ctx, sent: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- srv.WatchChanges(&accountsv1.WatchChangesRequest{}, stream) }()
	<-stream.sent // the first notice, All, is stuck in Send
	for i := 0; ; i++ {
		if err := b.store.PutAccount(t.Context(), fbdata.Account{Name: fmt.Sprintf("flood%d", i), Type: 4}); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("WatchChanges for a stalled client = %v, want UNAVAILABLE", err)
			}
			if i < watchBuffer {
				t.Fatalf("the watch ended after %d writes, before its buffer of %d was full", i+1, watchBuffer)
			}
			t.Logf("ended after %d writes: %v", i+1, err)
			return
		default:
		}
		if i > 10*watchBuffer {
			t.Fatalf("%d writes and the stalled watch still runs", i)
		}
	}
}
