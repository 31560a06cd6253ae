package rpc

import (
	"context"
	"errors"
	"fmt"

	"kradius.dev/services/batch"
	"kradius.dev/services/nas/faxback/fbdata"
)

// MaxBatchItems bounds the items of one batch call: each may cost the server
// a goroutine and, for a login, an argon2 run. The clients send far fewer.
const MaxBatchItems = 1024

// CheckBatchSize refuses a batch call of more than MaxBatchItems items of
// what, as INVALID_ARGUMENT: an answer about the call, never about an item.
func CheckBatchSize(n int, what string) error {
	if n > MaxBatchItems {
		return ToStatus(fmt.Errorf("%w: %d %s in one batch, at most %d", fbdata.ErrInvalid, n, what, MaxBatchItems))
	}
	return nil
}

// ItemResults is a batch call's answer, in request order: ok(vals[i]) where
// errs[i] is nil, otherwise failed with errs[i]'s ItemStatus.
func ItemResults[T, R any](vals []T, errs []error, ok func(T) R, failed func(code uint32, msg string) R) []R {
	out := make([]R, len(vals))
	for i, v := range vals {
		if errs[i] != nil {
			out[i] = failed(ItemStatus(errs[i]))
			continue
		}
		out[i] = ok(v)
	}
	return out
}

// ErrNoResult is a batch item answered with neither a response nor an error:
// a broken server, whose answer is unknown.
var ErrNoResult = errors.New("batch item answered with neither a response nor an error")

// BatchFunc is the client side of a batch RPC, for a batch.Batcher: call
// sends the requests in one call and item reads one result. Against a
// server without the batch RPC (UNIMPLEMENTED: an older pod mid-rollout)
// the requests go one by one to one, the unary RPC, and fb keeps them there
// for a while. A whole call failing reads as FromCallStatus says.
func BatchFunc[Req, Result, Res any](fb *BatchFallback, one func(context.Context, Req) (Res, error), call func(context.Context, []Req) ([]Result, error), item func(Result) (Res, error)) batch.Func[Req, Res] {
	return func(ctx context.Context, reqs []Req) ([]Res, []error, error) {
		if fb.Active() {
			// Queued before a call found the server without batches.
			return batch.Each(one)(ctx, reqs)
		}
		results, err := call(ctx, reqs)
		if fb.Notice(err) {
			return batch.Each(one)(ctx, reqs)
		}
		if err != nil {
			return nil, nil, FromCallStatus(err)
		}
		res := make([]Res, len(results))
		errs := make([]error, len(results))
		for i, r := range results {
			res[i], errs[i] = item(r)
		}
		return res, errs, nil
	}
}
