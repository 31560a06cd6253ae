package admin

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	didsv1 "kradius.dev/proto/kradius/dids/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/accounts/accountsrpc"
	"kradius.dev/services/dids/didsrpc"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/recordsvc/recordsrpc"
	"kradius.dev/services/rpc"
)

// DefaultChunk is the records per Import message: each is one store
// transaction, small enough not to stall Redis, large enough to amortise
// the round trip.
const DefaultChunk = 5000

// Import streams a batch to the admin service. A batch that fits one chunk
// is applied atomically. A larger one goes in four passes, each chunk
// atomic: the accounts without their references (members, failover
// account), then the accounts that have references, whole, then the DIDs —
// so that every reference names an account already written — then the
// called numbers, which name nothing, then the other profiles' records.
func Import(ctx context.Context, conn grpc.ClientConnInterface, b fbdata.Batch, recs []recordsvc.Write, chunk int) (*adminv1.ImportResponse, error) {
	reqs, err := Chunks(b, recs, chunk)
	if err != nil {
		return nil, err
	}
	stream, err := adminv1.NewAdminServiceClient(conn).Import(ctx)
	if err != nil {
		return nil, rpc.FromStatus(err)
	}
	for _, req := range reqs {
		if err := stream.Send(req); err != nil {
			// The server ended the stream; CloseAndRecv returns its reason.
			break
		}
	}
	res, err := stream.CloseAndRecv()
	if err != nil {
		return nil, fmt.Errorf("import: %w", rpc.FromStatus(err))
	}
	return res, nil
}

// Chunks splits a batch and records into Import messages as Import
// describes.
func Chunks(b fbdata.Batch, recs []recordsvc.Write, size int) ([]*adminv1.ImportRequest, error) {
	if size <= 0 {
		size = DefaultChunk
	}
	packed := make([]*recordsv1.Record, len(recs))
	for i, w := range recs {
		var err error
		if packed[i], err = recordsrpc.Pack(w.Kind, w.Value); err != nil {
			return nil, fmt.Errorf("%s record %d: %w", w.Kind, i, err)
		}
	}
	if len(b.Accounts)+len(b.DIDs)+len(b.CalledNumbers)+len(recs) <= size {
		return []*adminv1.ImportRequest{{Accounts: accountRecords(b.Accounts), Dids: dids(b.DIDs), CalledNumbers: calledNumbers(b.CalledNumbers), Records: packed}}, nil
	}
	var bare, referring []fbdata.Account
	for _, a := range b.Accounts {
		if len(a.Members) > 0 || a.RcvFailoverAccount != "" {
			referring = append(referring, a)
			a.Members, a.RcvFailoverAccount, a.RcvFailoverMode = nil, "", ""
		}
		bare = append(bare, a)
	}
	var out []*adminv1.ImportRequest
	for _, part := range [][]fbdata.Account{bare, referring} {
		for i := 0; i < len(part); i += size {
			out = append(out, &adminv1.ImportRequest{Accounts: accountRecords(part[i:min(i+size, len(part))])})
		}
	}
	for i := 0; i < len(b.DIDs); i += size {
		out = append(out, &adminv1.ImportRequest{Dids: dids(b.DIDs[i:min(i+size, len(b.DIDs))])})
	}
	for i := 0; i < len(b.CalledNumbers); i += size {
		out = append(out, &adminv1.ImportRequest{CalledNumbers: calledNumbers(b.CalledNumbers[i:min(i+size, len(b.CalledNumbers))])})
	}
	for i := 0; i < len(packed); i += size {
		out = append(out, &adminv1.ImportRequest{Records: packed[i:min(i+size, len(packed))]})
	}
	return out, nil
}

// ToRecord converts an account for writing through the AdminService, with
// its password hash, which ToProto leaves behind: a client that hashed the
// password sends the hash, never the clear text.
func ToRecord(a fbdata.Account) *adminv1.AccountRecord {
	return &adminv1.AccountRecord{Account: accountsrpc.ToProto(a), PasswordHash: a.PasswordHash}
}

func accountRecords(as []fbdata.Account) []*adminv1.AccountRecord {
	out := make([]*adminv1.AccountRecord, len(as))
	for i, a := range as {
		out[i] = ToRecord(a)
	}
	return out
}

func dids(ds []fbdata.DID) []*didsv1.DID {
	out := make([]*didsv1.DID, len(ds))
	for i, d := range ds {
		out[i] = didsrpc.ToProto(d)
	}
	return out
}

func calledNumbers(cs []fbdata.CalledNumber) []*didsv1.CalledNumber {
	out := make([]*didsv1.CalledNumber, len(cs))
	for i, c := range cs {
		out[i] = didsrpc.CalledToProto(c)
	}
	return out
}
