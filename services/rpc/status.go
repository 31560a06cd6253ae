// Package rpc is the gRPC plumbing shared by kradius's services: how store
// errors travel as status codes and come back as the same errors, TLS, server
// and client construction, and the edge's deadline-and-retry policy.
package rpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"kradius.dev/services/accounts"
	"kradius.dev/services/nas/faxback/fbdata"
)

// ToStatus turns a service error into a gRPC status. NotFound and
// Unauthenticated carry the two answers that may become an Access-Reject;
// everything else tells the client the answer is unknown.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	code := codes.Unavailable
	switch {
	case errors.Is(err, fbdata.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, accounts.ErrWrongPassword):
		code = codes.Unauthenticated
	case errors.Is(err, fbdata.ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, fbdata.ErrConflict):
		code = codes.FailedPrecondition
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}

// FromStatus turns a gRPC status back into the error the service returned,
// so that callers test it with errors.Is exactly as in-process.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	var sentinel error
	switch s.Code() {
	case codes.NotFound:
		sentinel = fbdata.ErrNotFound
	case codes.Unauthenticated:
		sentinel = accounts.ErrWrongPassword
	case codes.InvalidArgument:
		sentinel = fbdata.ErrInvalid
	case codes.FailedPrecondition:
		sentinel = fbdata.ErrConflict
	case codes.DeadlineExceeded:
		sentinel = context.DeadlineExceeded
	case codes.Canceled:
		sentinel = context.Canceled
	default:
		return err
	}
	return &remoteError{msg: s.Message(), sentinel: sentinel}
}

// remoteError keeps the server's message and wraps the matching sentinel.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }
