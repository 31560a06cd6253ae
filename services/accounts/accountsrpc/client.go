package accountsrpc

import (
	"context"

	"google.golang.org/grpc"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	"kradius.dev/services/batch"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/rpc"
)

// Batching of Authenticate and Get (see package batch). Under load the edge
// sends their requests many to a call, which the service answers with one
// Redis round trip: per-call costs, not per-item ones, dominate both sides.
const (
	// maxBatch bounds one call: its size (128 accounts are some 100 KiB,
	// far below gRPC's 4 MiB limit) and how many answers one slow item can
	// hold back.
	maxBatch = 128
	// maxInFlight is how many calls of one kind run at once: enough to keep
	// the service busy while a call is on the wire, few enough that requests
	// arriving meanwhile queue and leave together, rather than one per call.
	maxInFlight = 4
)

// Client is the accounts service seen from the edge. Errors come back as the
// service returned them: errors.Is(err, fbdata.ErrNotFound) and
// accounts.ErrWrongPassword work as in-process; anything else is a failure.
//
// Authenticate and Get are batched; against a server without the batch RPCs
// (an older pod during a rollout) they fall back to the unary ones for a
// while (rpc.BatchFallback).
type Client struct {
	c        accountsv1.AccountServiceClient
	fallback rpc.BatchFallback
	auths    *batch.Batcher[*accountsv1.AuthenticateRequest, fbdata.Account]
	gets     *batch.Batcher[*accountsv1.GetAccountRequest, fbdata.Account]
}

// NewClient uses conn, which should carry rpc.RetryOnce with
// accountsv1.AccountService_AuthenticateBatch_FullMethodName given
// Authenticate's budget.
func NewClient(conn grpc.ClientConnInterface) *Client {
	c := &Client{c: accountsv1.NewAccountServiceClient(conn)}
	c.auths = batch.New(rpc.BatchFunc(&c.fallback, c.authenticate, c.authenticateBatch, authenticateResult), maxBatch, maxInFlight)
	c.gets = batch.New(rpc.BatchFunc(&c.fallback, c.get, c.getBatch, getResult), maxBatch, maxInFlight)
	return c
}

func (c *Client) Authenticate(ctx context.Context, name, password string) (fbdata.Account, error) {
	req := &accountsv1.AuthenticateRequest{Name: name, Password: password}
	if c.fallback.Active() {
		return c.authenticate(ctx, req)
	}
	return c.auths.Do(ctx, req)
}

func (c *Client) Get(ctx context.Context, name string) (fbdata.Account, error) {
	req := &accountsv1.GetAccountRequest{Name: name}
	if c.fallback.Active() {
		return c.get(ctx, req)
	}
	return c.gets.Do(ctx, req)
}

func (c *Client) AccountBy(ctx context.Context, idx fbdata.Index, value string) (fbdata.Account, error) {
	r, err := c.c.GetAccountBy(ctx, &accountsv1.GetAccountByRequest{Index: indexToProto(idx), Value: value})
	if err != nil {
		return fbdata.Account{}, rpc.FromStatus(err)
	}
	return FromProto(r.GetAccount()), nil
}

// authenticate is the unary Authenticate.
func (c *Client) authenticate(ctx context.Context, req *accountsv1.AuthenticateRequest) (fbdata.Account, error) {
	r, err := c.c.Authenticate(ctx, req)
	if err != nil {
		return fbdata.Account{}, rpc.FromStatus(err)
	}
	return FromProto(r.GetAccount()), nil
}

// get is the unary GetAccount.
func (c *Client) get(ctx context.Context, req *accountsv1.GetAccountRequest) (fbdata.Account, error) {
	r, err := c.c.GetAccount(ctx, req)
	if err != nil {
		return fbdata.Account{}, rpc.FromStatus(err)
	}
	return FromProto(r.GetAccount()), nil
}

// authenticateBatch is AuthenticateBatch's call, for rpc.BatchFunc.
func (c *Client) authenticateBatch(ctx context.Context, reqs []*accountsv1.AuthenticateRequest) ([]*accountsv1.AuthenticateResult, error) {
	r, err := c.c.AuthenticateBatch(ctx, &accountsv1.AuthenticateBatchRequest{Items: reqs})
	return r.GetResults(), err
}

func authenticateResult(r *accountsv1.AuthenticateResult) (fbdata.Account, error) {
	switch x := r.GetResult().(type) {
	case *accountsv1.AuthenticateResult_Response:
		return FromProto(x.Response.GetAccount()), nil
	case *accountsv1.AuthenticateResult_Error:
		return fbdata.Account{}, rpc.FromItemStatus(x.Error.GetCode(), x.Error.GetMessage())
	}
	return fbdata.Account{}, rpc.ErrNoResult
}

// getBatch is GetAccountBatch's call, for rpc.BatchFunc.
func (c *Client) getBatch(ctx context.Context, reqs []*accountsv1.GetAccountRequest) ([]*accountsv1.GetAccountResult, error) {
	r, err := c.c.GetAccountBatch(ctx, &accountsv1.GetAccountBatchRequest{Items: reqs})
	return r.GetResults(), err
}

func getResult(r *accountsv1.GetAccountResult) (fbdata.Account, error) {
	switch x := r.GetResult().(type) {
	case *accountsv1.GetAccountResult_Response:
		return FromProto(x.Response.GetAccount()), nil
	case *accountsv1.GetAccountResult_Error:
		return fbdata.Account{}, rpc.FromItemStatus(x.Error.GetCode(), x.Error.GetMessage())
	}
	return fbdata.Account{}, rpc.ErrNoResult
}
