package rpc

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"kradius.dev/services/accounts"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbdata"
)

// TestItemStatusRoundTrip: an item error comes back as the same sentinel a
// unary status would, and only the sentinels that may become a Reject do.
func TestItemStatusRoundTrip(t *testing.T) {
	for _, want := range []error{fbdata.ErrNotFound, accounts.ErrWrongPassword, fbdata.ErrInvalid, errors.New("redis: connection refused")} {
		got := FromItemStatus(ItemStatus(want))
		unary := FromStatus(ToStatus(want))
		if got == nil || got.Error() != unary.Error() {
			t.Errorf("%v: item error %v, unary %v", want, got, unary)
		}
		for _, sentinel := range []error{fbdata.ErrNotFound, accounts.ErrWrongPassword} {
			if errors.Is(got, sentinel) != errors.Is(want, sentinel) {
				t.Errorf("%v came back as %v: errors.Is(%v) = %t", want, got, sentinel, errors.Is(got, sentinel))
			}
		}
	}
}

func TestFromItemStatusOKIsNoSuccess(t *testing.T) {
	err := FromItemStatus(uint32(codes.OK), "")
	if err == nil || errors.Is(err, fbdata.ErrNotFound) || errors.Is(err, accounts.ErrWrongPassword) {
		t.Errorf("FromItemStatus(OK) = %v, want an unknown answer", err)
	}
}

func TestBatchFallback(t *testing.T) {
	unimplemented := status.Error(codes.Unimplemented, "unknown method AuthenticateBatch")
	// A period no test run outlasts, so that Active is checked within it.
	f := BatchFallback{Period: time.Hour}
	if f.Active() {
		t.Fatal("a new BatchFallback is active")
	}
	for _, err := range []error{nil, status.Error(codes.Unavailable, "down"), errors.New("plain")} {
		if f.Notice(err) || f.Active() {
			t.Errorf("Notice(%v) started the fallback", err)
		}
	}
	if !f.Notice(unimplemented) || !f.Active() {
		t.Fatal("UNIMPLEMENTED did not start the fallback")
	}
	// And one that ends.
	short := BatchFallback{Period: time.Millisecond}
	short.Notice(unimplemented)
	eventually.True(t, "the fallback over after its period", func() bool { return !short.Active() })
}

// TestFromCallStatusNeverRejects: a whole batch call failing NOT_FOUND or
// UNAUTHENTICATED reads as unknown, never as an answer about an account.
func TestFromCallStatusNeverRejects(t *testing.T) {
	for _, code := range []codes.Code{codes.NotFound, codes.Unauthenticated} {
		err := FromCallStatus(status.Error(code, "no such route"))
		if errors.Is(err, fbdata.ErrNotFound) || errors.Is(err, accounts.ErrWrongPassword) {
			t.Errorf("%v: %v reads as a Reject", code, err)
		}
	}
	if err := FromCallStatus(status.Error(codes.DeadlineExceeded, "slow")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DeadlineExceeded: %v", err)
	}
}
