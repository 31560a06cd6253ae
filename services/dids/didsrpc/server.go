package didsrpc

import (
	"context"

	didsv1 "kradius.dev/proto/kradius/dids/v1"
	"kradius.dev/services/dids"
	"kradius.dev/services/rpc"
	"kradius.dev/services/store"
)

// Server serves dids.Service as kradius.dids.v1.DIDService.
type Server struct {
	didsv1.UnimplementedDIDServiceServer
	svc *dids.Service
}

// NewServer wraps svc.
func NewServer(svc *dids.Service) *Server { return &Server{svc: svc} }

func (s *Server) GetDID(ctx context.Context, r *didsv1.GetDIDRequest) (*didsv1.GetDIDResponse, error) {
	d, err := s.svc.GetDID(ctx, r.GetNumber())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &didsv1.GetDIDResponse{Did: ToProto(d)}, nil
}

func (s *Server) ListAccountDIDs(ctx context.Context, r *didsv1.ListAccountDIDsRequest) (*didsv1.ListAccountDIDsResponse, error) {
	ds, err := s.svc.DIDsForAccount(ctx, r.GetAccount())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	out := &didsv1.ListAccountDIDsResponse{Dids: make([]*didsv1.DID, len(ds))}
	for i, d := range ds {
		out.Dids[i] = ToProto(d)
	}
	return out, nil
}

func (s *Server) GetCalledNumber(ctx context.Context, r *didsv1.GetCalledNumberRequest) (*didsv1.GetCalledNumberResponse, error) {
	c, err := s.svc.CalledNumber(ctx, r.GetNumber())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &didsv1.GetCalledNumberResponse{CalledNumber: CalledToProto(c)}, nil
}

func (s *Server) GetDIDBatch(ctx context.Context, r *didsv1.GetDIDBatchRequest) (*didsv1.GetDIDBatchResponse, error) {
	items := r.GetItems()
	if err := rpc.CheckBatchSize(len(items), "numbers"); err != nil {
		return nil, err
	}
	numbers := make([]string, len(items))
	for i, it := range items {
		numbers[i] = it.GetNumber()
	}
	found, errs := s.svc.GetMany(ctx, numbers)
	return &didsv1.GetDIDBatchResponse{Results: rpc.ItemResults(found, errs,
		func(d store.DID) *didsv1.GetDIDResult {
			return &didsv1.GetDIDResult{Result: &didsv1.GetDIDResult_Response{Response: &didsv1.GetDIDResponse{Did: ToProto(d)}}}
		},
		func(code uint32, msg string) *didsv1.GetDIDResult {
			return &didsv1.GetDIDResult{Result: &didsv1.GetDIDResult_Error{Error: &didsv1.ItemError{Code: code, Message: msg}}}
		})}, nil
}
