package didsrpc

import (
	"context"

	didsv1 "kradius.dev/proto/kradius/dids/v1"
	"kradius.dev/services/accounts/accountsrpc"
	"kradius.dev/services/dids"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/rpc"
)

// Server serves dids.Service as kradius.dids.v1.DIDService.
type Server struct {
	didsv1.UnimplementedDIDServiceServer
	svc *dids.Service
}

// NewServer wraps svc.
func NewServer(svc *dids.Service) *Server { return &Server{svc: svc} }

func (s *Server) GetDID(ctx context.Context, r *didsv1.GetDIDRequest) (*didsv1.GetDIDResponse, error) {
	if r.GetWithAccount() {
		route, err := s.svc.Route(ctx, r.GetNumber())
		if err != nil {
			return nil, rpc.ToStatus(err)
		}
		return routeToProto(route), nil
	}
	d, err := s.svc.GetDID(ctx, r.GetNumber())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &didsv1.GetDIDResponse{Did: ToProto(d)}, nil
}

func routeToProto(r dids.Route) *didsv1.GetDIDResponse {
	return &didsv1.GetDIDResponse{Did: ToProto(r.DID), Account: accountsrpc.ToProto(r.Account)}
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
	// Items asking for their account and the others are read apart, each
	// kind in one go, and answered in the request's order.
	var plain, routed []int
	for i, it := range items {
		if it.GetWithAccount() {
			routed = append(routed, i)
		} else {
			plain = append(plain, i)
		}
	}
	numbers := func(at []int) []string {
		out := make([]string, len(at))
		for j, i := range at {
			out[j] = items[i].GetNumber()
		}
		return out
	}
	results := make([]*didsv1.GetDIDResult, len(items))
	scatter := func(at []int, answered []*didsv1.GetDIDResult) {
		for j, i := range at {
			results[i] = answered[j]
		}
	}
	if len(plain) > 0 {
		found, errs := s.svc.GetMany(ctx, numbers(plain))
		scatter(plain, rpc.ItemResults(found, errs, func(d fbdata.DID) *didsv1.GetDIDResult {
			return &didsv1.GetDIDResult{Result: &didsv1.GetDIDResult_Response{Response: &didsv1.GetDIDResponse{Did: ToProto(d)}}}
		}, itemError))
	}
	if len(routed) > 0 {
		routes, errs := s.svc.RouteMany(ctx, numbers(routed))
		scatter(routed, rpc.ItemResults(routes, errs, func(r dids.Route) *didsv1.GetDIDResult {
			return &didsv1.GetDIDResult{Result: &didsv1.GetDIDResult_Response{Response: routeToProto(r)}}
		}, itemError))
	}
	return &didsv1.GetDIDBatchResponse{Results: results}, nil
}

func itemError(code uint32, msg string) *didsv1.GetDIDResult {
	return &didsv1.GetDIDResult{Result: &didsv1.GetDIDResult_Error{Error: &didsv1.ItemError{Code: code, Message: msg}}}
}
