package accountsrpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/accounts"
	"kradius.dev/services/nas/faxback/fbdata"
)

// watchBuffer is how many notices may wait for a slow watcher. A watcher
// further behind has its stream ended, and starts over, rather than hold up
// the store's feed, which serves no one while it waits.
const watchBuffer = 1024

var errWatcherBehind = errors.New("watcher fell behind")

// WatchChanges streams the store's changes. The stream ends with
// UNAVAILABLE when the feed breaks or the client falls behind, and with
// UNIMPLEMENTED when the store cannot report changes.
func (s *Server) WatchChanges(_ *accountsv1.WatchChangesRequest, stream grpc.ServerStreamingServer[accountsv1.WatchChangesResponse]) error {
	ctx, cancel := context.WithCancelCause(stream.Context())
	defer cancel(nil)
	notices := make(chan fbdata.Change, watchBuffer)
	ended := make(chan error, 1)
	go func() {
		ended <- s.svc.WatchChanges(ctx, func(c fbdata.Change) {
			select {
			case notices <- c:
			default:
				cancel(errWatcherBehind)
			}
		})
	}()
	// Sends run on their own goroutine: one blocks on flow control for as
	// long as the client does not read, and the stream must still end when
	// the feed does. Returning unblocks it.
	sendFailed := make(chan error, 1)
	go func() {
		for {
			select {
			case c := <-notices:
				if err := stream.Send(&accountsv1.WatchChangesResponse{All: c.All, Accounts: c.Accounts, Dids: c.DIDs}); err != nil {
					sendFailed <- err
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	select {
	case err := <-sendFailed:
		return err
	case err := <-ended:
		switch {
		case errors.Is(err, accounts.ErrCannotWatch):
			return status.Error(codes.Unimplemented, err.Error())
		case context.Cause(ctx) == errWatcherBehind:
			return status.Errorf(codes.Unavailable, "changes: %v", errWatcherBehind)
		case stream.Context().Err() != nil:
			return status.FromContextError(stream.Context().Err()).Err()
		}
		return status.Errorf(codes.Unavailable, "changes: %v", err)
	}
}

// WatchChanges watches the service's changes (see edgecache.Watch): it
// calls fn for each notice until the stream ends, and returns why. A server
// that cannot report changes, or predates the RPC, yields an error wrapping
// accounts.ErrCannotWatch.
func (c *Client) WatchChanges(ctx context.Context, fn func(fbdata.Change)) error {
	stream, err := c.c.WatchChanges(ctx, &accountsv1.WatchChangesRequest{})
	if err != nil {
		return watchError(err)
	}
	for {
		n, err := stream.Recv()
		if err != nil {
			return watchError(err)
		}
		fn(fbdata.Change{All: n.GetAll(), Accounts: n.GetAccounts(), DIDs: n.GetDids()})
	}
}

func watchError(err error) error {
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("%w: %v", accounts.ErrCannotWatch, err)
	}
	return fmt.Errorf("watch changes: %w", err)
}
