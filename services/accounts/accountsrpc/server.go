package accountsrpc

import (
	"context"
	"fmt"
	"time"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/accounts"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/rpc"
)

// Server serves accounts.Service as kradius.accounts.v1.AccountService.
type Server struct {
	accountsv1.UnimplementedAccountServiceServer
	svc *accounts.Service
}

// NewServer wraps svc.
func NewServer(svc *accounts.Service) *Server { return &Server{svc: svc} }

func (s *Server) Authenticate(ctx context.Context, r *accountsv1.AuthenticateRequest) (*accountsv1.AuthenticateResponse, error) {
	a, err := s.svc.Authenticate(ctx, r.GetName(), r.GetPassword())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &accountsv1.AuthenticateResponse{Account: ToProto(a)}, nil
}

func (s *Server) GetAccount(ctx context.Context, r *accountsv1.GetAccountRequest) (*accountsv1.GetAccountResponse, error) {
	a, err := s.svc.Get(ctx, r.GetName())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &accountsv1.GetAccountResponse{Account: ToProto(a)}, nil
}

func (s *Server) GetAccountBy(ctx context.Context, r *accountsv1.GetAccountByRequest) (*accountsv1.GetAccountByResponse, error) {
	idx, ok := indexes[r.GetIndex()]
	if !ok {
		return nil, rpc.ToStatus(fmt.Errorf("%w: index %v", fbdata.ErrInvalid, r.GetIndex()))
	}
	a, err := s.svc.AccountBy(ctx, idx, r.GetValue())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &accountsv1.GetAccountByResponse{Account: ToProto(a)}, nil
}

func (s *Server) AuthenticateBatch(ctx context.Context, r *accountsv1.AuthenticateBatchRequest) (*accountsv1.AuthenticateBatchResponse, error) {
	items := r.GetItems()
	if err := rpc.CheckBatchSize(len(items), "logins"); err != nil {
		return nil, err
	}
	ctx, cancel := replyBy(ctx)
	defer cancel()
	logins := make([]accounts.Login, len(items))
	for i, it := range items {
		logins[i] = accounts.Login{Name: it.GetName(), Password: it.GetPassword()}
	}
	found, errs := s.svc.AuthenticateMany(ctx, logins)
	return &accountsv1.AuthenticateBatchResponse{Results: rpc.ItemResults(found, errs,
		func(a fbdata.Account) *accountsv1.AuthenticateResult {
			return &accountsv1.AuthenticateResult{Result: &accountsv1.AuthenticateResult_Response{Response: &accountsv1.AuthenticateResponse{Account: ToProto(a)}}}
		},
		func(code uint32, msg string) *accountsv1.AuthenticateResult {
			return &accountsv1.AuthenticateResult{Result: &accountsv1.AuthenticateResult_Error{Error: &accountsv1.ItemError{Code: code, Message: msg}}}
		})}, nil
}

func (s *Server) GetAccountBatch(ctx context.Context, r *accountsv1.GetAccountBatchRequest) (*accountsv1.GetAccountBatchResponse, error) {
	items := r.GetItems()
	if err := rpc.CheckBatchSize(len(items), "names"); err != nil {
		return nil, err
	}
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.GetName()
	}
	found, errs := s.svc.GetMany(ctx, names)
	return &accountsv1.GetAccountBatchResponse{Results: rpc.ItemResults(found, errs,
		func(a fbdata.Account) *accountsv1.GetAccountResult {
			return &accountsv1.GetAccountResult{Result: &accountsv1.GetAccountResult_Response{Response: &accountsv1.GetAccountResponse{Account: ToProto(a)}}}
		},
		func(code uint32, msg string) *accountsv1.GetAccountResult {
			return &accountsv1.GetAccountResult{Result: &accountsv1.GetAccountResult_Error{Error: &accountsv1.ItemError{Code: code, Message: msg}}}
		})}, nil
}

// replyShare is the share of a batch call's remaining time kept for the
// reply: the password checks still running when only that is left are
// answered with ctx's error, so that one slow argon2 run does not make the
// whole reply late, and so lost, for the items already answered.
const replyShare = 10

// replyBy is ctx ending replyShare of its remaining time early, if it has a
// deadline.
func replyBy(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, d.Add(-time.Until(d)/replyShare))
}
