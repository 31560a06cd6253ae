package accountsrpc

import (
	"context"

	"google.golang.org/grpc"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/rpc"
	"kradius.dev/services/store"
)

// Client is the accounts service seen from the edge. Errors come back as the
// service returned them: errors.Is(err, store.ErrNotFound) and
// accounts.ErrWrongPassword work as in-process; anything else is a failure.
type Client struct {
	c accountsv1.AccountServiceClient
}

// NewClient uses conn, which should carry rpc.RetryOnce.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{c: accountsv1.NewAccountServiceClient(conn)}
}

func (c *Client) Authenticate(ctx context.Context, name, password string) (store.Account, error) {
	r, err := c.c.Authenticate(ctx, &accountsv1.AuthenticateRequest{Name: name, Password: password})
	if err != nil {
		return store.Account{}, rpc.FromStatus(err)
	}
	return FromProto(r.GetAccount()), nil
}

func (c *Client) Get(ctx context.Context, name string) (store.Account, error) {
	r, err := c.c.GetAccount(ctx, &accountsv1.GetAccountRequest{Name: name})
	if err != nil {
		return store.Account{}, rpc.FromStatus(err)
	}
	return FromProto(r.GetAccount()), nil
}

func (c *Client) AccountBy(ctx context.Context, idx store.Index, value string) (store.Account, error) {
	r, err := c.c.GetAccountBy(ctx, &accountsv1.GetAccountByRequest{Index: indexToProto(idx), Value: value})
	if err != nil {
		return store.Account{}, rpc.FromStatus(err)
	}
	return FromProto(r.GetAccount()), nil
}
