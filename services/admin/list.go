package admin

import (
	"context"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	didsv1 "kradius.dev/proto/kradius/dids/v1"
	"kradius.dev/services/accounts/accountsrpc"
	"kradius.dev/services/dids/didsrpc"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/rpc"
)

// pageSize turns a request's page_size into a limit: 0 means 100, at most 1000.
func pageSize(n int32) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return int(n)
}

// The page token is the last key of the previous page (a folded name or a
// number): opaque to clients, stable across writes between pages.

func (s *Server) ListAccounts(ctx context.Context, r *adminv1.ListAccountsRequest) (*adminv1.ListAccountsResponse, error) {
	limit := pageSize(r.GetPageSize())
	as, err := s.store.ListAccounts(ctx, r.GetPageToken(), limit)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	out := &adminv1.ListAccountsResponse{Accounts: make([]*accountsv1.Account, len(as))}
	for i, a := range as {
		out.Accounts[i] = accountsrpc.ToProto(a)
	}
	if len(as) == limit {
		out.NextPageToken = fbdata.Fold(as[len(as)-1].Name)
	}
	return out, nil
}

func (s *Server) ListDIDs(ctx context.Context, r *adminv1.ListDIDsRequest) (*adminv1.ListDIDsResponse, error) {
	limit := pageSize(r.GetPageSize())
	ds, err := s.store.ListDIDs(ctx, r.GetPageToken(), limit)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	out := &adminv1.ListDIDsResponse{Dids: make([]*didsv1.DID, len(ds))}
	for i, d := range ds {
		out.Dids[i] = didsrpc.ToProto(d)
	}
	if len(ds) == limit {
		out.NextPageToken = ds[len(ds)-1].Number
	}
	return out, nil
}

func (s *Server) ListCalledNumbers(ctx context.Context, r *adminv1.ListCalledNumbersRequest) (*adminv1.ListCalledNumbersResponse, error) {
	limit := pageSize(r.GetPageSize())
	cs, err := s.store.ListCalledNumbers(ctx, r.GetPageToken(), limit)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	out := &adminv1.ListCalledNumbersResponse{CalledNumbers: make([]*didsv1.CalledNumber, len(cs))}
	for i, c := range cs {
		out.CalledNumbers[i] = didsrpc.CalledToProto(c)
	}
	if len(cs) == limit {
		out.NextPageToken = cs[len(cs)-1].Number
	}
	return out, nil
}

// ListGroups pages through the accounts, keeping the groups. A page may hold
// fewer groups than asked, or none, while next_page_token goes on.
func (s *Server) ListGroups(ctx context.Context, r *adminv1.ListGroupsRequest) (*adminv1.ListGroupsResponse, error) {
	limit := pageSize(r.GetPageSize())
	as, err := s.store.ListAccounts(ctx, r.GetPageToken(), limit)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	out := &adminv1.ListGroupsResponse{}
	for _, a := range as {
		if a.IsGroup() {
			out.Groups = append(out.Groups, groupOf(a))
		}
	}
	if len(as) == limit {
		out.NextPageToken = fbdata.Fold(as[len(as)-1].Name)
	}
	return out, nil
}
