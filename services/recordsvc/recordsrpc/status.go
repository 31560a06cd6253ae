package recordsrpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"kradius.dev/services/nas"
	"kradius.dev/services/store/records"
)

// ToStatus gives a records service error its status. Only NOT_FOUND and
// UNAUTHENTICATED are definite answers; anything not known here is
// UNAVAILABLE, which the edge answers with silence, never a Reject.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Unavailable
	switch {
	case errors.Is(err, records.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, nas.ErrWrongCredential):
		code = codes.Unauthenticated
	case errors.Is(err, records.ErrInvalid), errors.Is(err, records.ErrUnknownKind):
		code = codes.InvalidArgument
	case errors.Is(err, records.ErrConflict):
		code = codes.FailedPrecondition
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}

// FromStatus is ToStatus's inverse on the client: the error wraps the
// sentinel its code stands for, and keeps the server's message.
func FromStatus(err error) error {
	s, ok := status.FromError(err)
	if !ok || err == nil {
		return err
	}
	var sentinel error
	switch s.Code() {
	case codes.NotFound:
		sentinel = records.ErrNotFound
	case codes.Unauthenticated:
		sentinel = nas.ErrWrongCredential
	case codes.InvalidArgument:
		sentinel = records.ErrInvalid
	case codes.FailedPrecondition:
		sentinel = records.ErrConflict
	case codes.DeadlineExceeded:
		sentinel = context.DeadlineExceeded
	case codes.Canceled:
		sentinel = context.Canceled
	default:
		return err
	}
	return &remoteError{msg: s.Message(), sentinel: sentinel}
}

type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }
