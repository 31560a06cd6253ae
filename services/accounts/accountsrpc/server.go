package accountsrpc

import (
	"context"
	"fmt"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/accounts"
	"kradius.dev/services/rpc"
	"kradius.dev/services/store"
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
		return nil, rpc.ToStatus(fmt.Errorf("%w: index %v", store.ErrInvalid, r.GetIndex()))
	}
	a, err := s.svc.AccountBy(ctx, idx, r.GetValue())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &accountsv1.GetAccountByResponse{Account: ToProto(a)}, nil
}
