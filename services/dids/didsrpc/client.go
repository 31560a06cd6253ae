package didsrpc

import (
	"context"

	"google.golang.org/grpc"

	didsv1 "kradius.dev/proto/kradius/dids/v1"
	"kradius.dev/services/rpc"
	"kradius.dev/services/store"
)

// Client is the dids service seen from the edge; see accountsrpc.Client.
type Client struct {
	c didsv1.DIDServiceClient
}

// NewClient uses conn, which should carry rpc.RetryOnce.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{c: didsv1.NewDIDServiceClient(conn)}
}

func (c *Client) GetDID(ctx context.Context, number string) (store.DID, error) {
	r, err := c.c.GetDID(ctx, &didsv1.GetDIDRequest{Number: number})
	if err != nil {
		return store.DID{}, rpc.FromStatus(err)
	}
	return FromProto(r.GetDid()), nil
}

func (c *Client) DIDsForAccount(ctx context.Context, name string) ([]store.DID, error) {
	r, err := c.c.ListAccountDIDs(ctx, &didsv1.ListAccountDIDsRequest{Account: name})
	if err != nil {
		return nil, rpc.FromStatus(err)
	}
	out := make([]store.DID, len(r.GetDids()))
	for i, d := range r.GetDids() {
		out[i] = FromProto(d)
	}
	return out, nil
}

func (c *Client) CalledNumber(ctx context.Context, number string) (store.CalledNumber, error) {
	r, err := c.c.GetCalledNumber(ctx, &didsv1.GetCalledNumberRequest{Number: number})
	if err != nil {
		return store.CalledNumber{}, rpc.FromStatus(err)
	}
	return CalledFromProto(r.GetCalledNumber()), nil
}
