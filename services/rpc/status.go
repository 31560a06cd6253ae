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
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
	"kradius.dev/services/store/records"
)

// statuses are the status code each error travels as, the FaxBack
// services' and the records service's alike, and the errors a client gets
// back for the code: errors.Is then holds for any of them, in whichever
// package the caller tests.
var statuses = []struct {
	code codes.Code
	from []error // errors sent as code, tried in this order
	back []error // what code comes back as
}{
	{codes.NotFound, []error{fbdata.ErrNotFound, records.ErrNotFound}, nil},
	{codes.Unauthenticated, []error{accounts.ErrWrongPassword, nas.ErrWrongCredential}, nil},
	{codes.InvalidArgument, []error{fbdata.ErrInvalid, records.ErrInvalid, records.ErrUnknownKind}, []error{fbdata.ErrInvalid, records.ErrInvalid}},
	{codes.PermissionDenied, []error{records.ErrForbidden}, nil},
	{codes.FailedPrecondition, []error{fbdata.ErrConflict, records.ErrConflict}, nil},
	// Overload is load shed, not a failure: the edge drops the request as
	// such, and RetryOnce does not retry it.
	{codes.ResourceExhausted, []error{password.ErrOverloaded}, nil},
	{codes.DeadlineExceeded, []error{context.DeadlineExceeded}, nil},
	{codes.Canceled, []error{context.Canceled}, nil},
}

// ToStatus turns a service error into a gRPC status. NotFound and
// Unauthenticated carry the two answers that may become an Access-Reject;
// everything else tells the client the answer is unknown.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	for _, st := range statuses {
		for _, e := range st.from {
			if errors.Is(err, e) {
				return status.Error(st.code, err.Error())
			}
		}
	}
	return status.Error(codes.Unavailable, err.Error())
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
	for _, st := range statuses {
		if st.code == s.Code() {
			back := st.back
			if back == nil {
				back = st.from
			}
			return &remoteError{msg: s.Message(), sentinels: back}
		}
	}
	return err
}

// remoteError keeps the server's message and wraps the matching sentinels.
type remoteError struct {
	msg       string
	sentinels []error
}

func (e *remoteError) Error() string   { return e.msg }
func (e *remoteError) Unwrap() []error { return e.sentinels }
