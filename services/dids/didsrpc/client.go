package didsrpc

import (
	"context"

	"google.golang.org/grpc"

	didsv1 "kradius.dev/proto/kradius/dids/v1"
	"kradius.dev/services/accounts/accountsrpc"
	"kradius.dev/services/batch"
	"kradius.dev/services/dids"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/rpc"
)

// Batching of Route, for the reasons and with the bounds of accountsrpc's.
const (
	// maxBatch bounds one call: its size and how many answers one slow item
	// can hold back.
	maxBatch = 128
	// maxInFlight is how many calls run at once: enough to keep the service
	// busy while a call is on the wire, few enough that requests arriving
	// meanwhile queue and leave together.
	maxInFlight = 4
)

// Client is the dids service seen from the edge; see accountsrpc.Client.
// Route is batched, falling back to the unary GetDID against a server
// without GetDIDBatch.
type Client struct {
	c        didsv1.DIDServiceClient
	fallback rpc.BatchFallback
	routes   *batch.Batcher[*didsv1.GetDIDRequest, dids.Route]
}

// NewClient uses conn, which should carry rpc.RetryOnce.
func NewClient(conn grpc.ClientConnInterface) *Client {
	c := &Client{c: didsv1.NewDIDServiceClient(conn)}
	c.routes = batch.New(rpc.BatchFunc(&c.fallback, c.getRoute, c.getBatch, routeResult), maxBatch, maxInFlight)
	return c
}

// Route returns a DID and the account it routes to, read by the dids
// service in one request. From a service older than with_account the
// account is missing: HasAccount is false, and the caller asks the
// accounts service.
func (c *Client) Route(ctx context.Context, number string) (dids.Route, error) {
	req := &didsv1.GetDIDRequest{Number: number, WithAccount: true}
	if c.fallback.Active() {
		return c.getRoute(ctx, req)
	}
	return c.routes.Do(ctx, req)
}

func (c *Client) DIDsForAccount(ctx context.Context, name string) ([]fbdata.DID, error) {
	r, err := c.c.ListAccountDIDs(ctx, &didsv1.ListAccountDIDsRequest{Account: name})
	if err != nil {
		return nil, rpc.FromStatus(err)
	}
	out := make([]fbdata.DID, len(r.GetDids()))
	for i, d := range r.GetDids() {
		out[i] = FromProto(d)
	}
	return out, nil
}

func (c *Client) CalledNumber(ctx context.Context, number string) (fbdata.CalledNumber, error) {
	r, err := c.c.GetCalledNumber(ctx, &didsv1.GetCalledNumberRequest{Number: number})
	if err != nil {
		return fbdata.CalledNumber{}, rpc.FromStatus(err)
	}
	return CalledFromProto(r.GetCalledNumber()), nil
}

// getBatch is GetDIDBatch's call, for rpc.BatchFunc.
func (c *Client) getBatch(ctx context.Context, reqs []*didsv1.GetDIDRequest) ([]*didsv1.GetDIDResult, error) {
	r, err := c.c.GetDIDBatch(ctx, &didsv1.GetDIDBatchRequest{Items: reqs})
	return r.GetResults(), err
}

// getRoute is the unary GetDID asking for the account too.
func (c *Client) getRoute(ctx context.Context, req *didsv1.GetDIDRequest) (dids.Route, error) {
	r, err := c.c.GetDID(ctx, req)
	if err != nil {
		return dids.Route{}, rpc.FromStatus(err)
	}
	return routeFromProto(r), nil
}

func routeFromProto(r *didsv1.GetDIDResponse) dids.Route {
	route := dids.Route{DID: FromProto(r.GetDid())}
	if a := r.GetAccount(); a != nil {
		route.Account, route.HasAccount = accountsrpc.FromProto(a), true
	}
	return route
}

func routeResult(r *didsv1.GetDIDResult) (dids.Route, error) {
	switch x := r.GetResult().(type) {
	case *didsv1.GetDIDResult_Response:
		return routeFromProto(x.Response), nil
	case *didsv1.GetDIDResult_Error:
		return dids.Route{}, rpc.FromItemStatus(x.Error.GetCode(), x.Error.GetMessage())
	}
	return dids.Route{}, rpc.ErrNoResult
}
