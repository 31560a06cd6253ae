package rpc

import (
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ItemStatus is the code and message ToStatus gives err, for the ItemError
// of one item of a batch answer: an item fails with exactly the status the
// unary RPC would have failed with.
func ItemStatus(err error) (code uint32, msg string) {
	s := status.Convert(ToStatus(err))
	return uint32(s.Code()), s.Message()
}

// FromItemStatus is FromStatus for the ItemError of one item of a batch
// answer, so that callers test it with errors.Is as for a unary call. An
// ItemError with code OK is a broken server, not a success: its answer is
// unknown.
func FromItemStatus(code uint32, msg string) error {
	if codes.Code(code) == codes.OK {
		return status.Errorf(codes.Unknown, "batch item failed with code OK: %s", msg)
	}
	return FromStatus(status.Error(codes.Code(code), msg))
}

// FromCallStatus is FromStatus for the status of a whole batch call. Only an
// item's own ItemError may say not found or wrong password: a whole call
// failing so (a proxy, a broken server) says nothing about any one account,
// and must not become a Reject for every item in it.
func FromCallStatus(err error) error {
	switch status.Code(err) {
	case codes.NotFound, codes.Unauthenticated:
		return fmt.Errorf("batch call failed as a whole: %s", status.Convert(err).Message())
	}
	return FromStatus(err)
}

// DefaultFallbackPeriod is how long a client keeps to the unary RPCs after a
// server answered a batch RPC UNIMPLEMENTED: long enough not to ask an older
// pod again for every request, short enough to batch again soon after the
// rollout replaced it.
const DefaultFallbackPeriod = time.Minute

// BatchFallback remembers that a server lacks the batch RPCs, as a pod of an
// older version does during a rollout. The zero value is ready, with
// DefaultFallbackPeriod; it is safe for concurrent use.
type BatchFallback struct {
	// Period is how long Active stays true after Notice; 0 means
	// DefaultFallbackPeriod.
	Period time.Duration

	until atomic.Int64 // Unix nanoseconds
}

// Active reports whether to use the unary RPCs.
func (f *BatchFallback) Active() bool { return time.Now().UnixNano() < f.until.Load() }

// Notice reports whether err from a batch RPC is UNIMPLEMENTED, and if so
// makes Active true for the next Period.
func (f *BatchFallback) Notice(err error) bool {
	if status.Code(err) != codes.Unimplemented {
		return false
	}
	period := f.Period
	if period == 0 {
		period = DefaultFallbackPeriod
	}
	f.until.Store(time.Now().Add(period).UnixNano())
	return true
}
