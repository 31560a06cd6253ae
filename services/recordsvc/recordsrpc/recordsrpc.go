// Package recordsrpc puts the records service on gRPC: the RecordService
// that the accounts and dids targets serve to the edge, the admin API's
// record RPCs, and the edge's client, which asks each kind's target.
package recordsrpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/rpc"
	"kradius.dev/services/store/records"
)

// Server serves a recordsvc.Service as kradius.records.v1.RecordService.
type Server struct {
	recordsv1.UnimplementedRecordServiceServer
	svc *recordsvc.Service
}

// NewServer wraps svc.
func NewServer(svc *recordsvc.Service) *Server { return &Server{svc: svc} }

func (s *Server) GetRecord(ctx context.Context, r *recordsv1.GetRecordRequest) (*recordsv1.GetRecordResponse, error) {
	m, err := s.svc.Get(ctx, r.GetKind(), r.GetKey())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	rec, err := pack(r.GetKind(), r.GetKey(), m, s.svc)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &recordsv1.GetRecordResponse{Record: rec}, nil
}

func (s *Server) GetFirstRecord(ctx context.Context, r *recordsv1.GetFirstRecordRequest) (*recordsv1.GetFirstRecordResponse, error) {
	key, m, err := s.svc.GetFirst(ctx, r.GetKind(), r.GetKeys())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	rec, err := pack(r.GetKind(), key, m, s.svc)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &recordsv1.GetFirstRecordResponse{Record: rec}, nil
}

func (s *Server) VerifyRecord(ctx context.Context, r *recordsv1.VerifyRecordRequest) (*recordsv1.VerifyRecordResponse, error) {
	m, err := s.svc.Verify(ctx, r.GetKind(), r.GetKey(), r.GetCredential())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	rec, err := pack(r.GetKind(), r.GetKey(), m, s.svc)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &recordsv1.VerifyRecordResponse{Record: rec}, nil
}

func (s *Server) MergeRecord(ctx context.Context, r *recordsv1.MergeRecordRequest) (*recordsv1.MergeRecordResponse, error) {
	rec := r.GetRecord()
	if rec.GetValue() == nil {
		return nil, status.Error(codes.InvalidArgument, "record.value: required")
	}
	m, err := rec.GetValue().UnmarshalNew()
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "record.value: %v", err)
	}
	if err := s.svc.Merge(ctx, rec.GetKind(), rec.GetKey(), m); err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &recordsv1.MergeRecordResponse{}, nil
}

func (s *Server) ScanRecords(ctx context.Context, r *recordsv1.ScanRecordsRequest) (*recordsv1.ScanRecordsResponse, error) {
	page, err := listRecords(ctx, s.svc, &recordsv1.ListRecordsRequest{Kind: r.GetKind(), PageSize: r.GetPageSize(), PageToken: r.GetPageToken()})
	if err != nil {
		return nil, err
	}
	return &recordsv1.ScanRecordsResponse{Records: page.GetRecords(), NextPageToken: page.GetNextPageToken()}, nil
}

// WatchRecords relays the store's change feed, filtered to one kind. The
// feed's callback never waits for the client: changes the client has not
// been told of yet are one pending message.
func (s *Server) WatchRecords(r *recordsv1.WatchRecordsRequest, stream grpc.ServerStreamingServer[recordsv1.WatchRecordsResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	pending := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.svc.Watch(ctx, r.GetKind(), func() {
			select {
			case pending <- struct{}{}:
			default:
			}
		})
	}()
	for {
		select {
		case err := <-done:
			if err == nil {
				err = ctx.Err()
			}
			return rpc.ToStatus(err)
		case <-pending:
			if err := stream.Send(&recordsv1.WatchRecordsResponse{}); err != nil {
				return err
			}
		}
	}
}

// pack answers a lookup by key: the record's key is the key asked,
// folded.
func pack(kind, key string, m proto.Message, svc *recordsvc.Service) (*recordsv1.Record, error) {
	k, err := svc.Kind(kind)
	if err != nil {
		return nil, err
	}
	return packKeyed(kind, k.Fold(key), m)
}

// Pack makes a record to write: the key is the message's own.
func Pack(kind string, m proto.Message) (*recordsv1.Record, error) {
	return packKeyed(kind, "", m)
}

func packKeyed(kind, key string, m proto.Message) (*recordsv1.Record, error) {
	v, err := anypb.New(m)
	if err != nil {
		return nil, err
	}
	return &recordsv1.Record{Kind: kind, Key: key, Value: v}, nil
}

// Admin is the admin API's record RPCs, for admin.Server to serve.
type Admin struct {
	svc *recordsvc.Service
}

// NewAdmin wraps svc; with a nil svc, every call is UNIMPLEMENTED.
func NewAdmin(svc *recordsvc.Service) *Admin { return &Admin{svc: svc} }

var errNoRecords = status.Error(codes.Unimplemented, "this server keeps no records of the profiles' kinds")

// maxPut bounds one PutRecords, as the other batch RPCs are bounded.
const maxPut = 1024

// Writes unpacks records for recordsvc.Service.Put; an error is
// INVALID_ARGUMENT.
func Writes(recs []*recordsv1.Record) ([]recordsvc.Write, error) {
	out := make([]recordsvc.Write, len(recs))
	for i, r := range recs {
		if r.GetValue() == nil {
			return nil, fmt.Errorf("%w: records[%d] (%s): value: required", records.ErrInvalid, i, r.GetKind())
		}
		m, err := r.GetValue().UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("%w: records[%d] (%s): value: %w", records.ErrInvalid, i, r.GetKind(), err)
		}
		out[i] = recordsvc.Write{Kind: r.GetKind(), Value: m}
	}
	return out, nil
}

func (a *Admin) PutRecords(ctx context.Context, r *recordsv1.PutRecordsRequest) (*recordsv1.PutRecordsResponse, error) {
	if a.svc == nil {
		return nil, errNoRecords
	}
	if n := len(r.GetRecords()); n > maxPut {
		return nil, status.Errorf(codes.InvalidArgument, "%d records in one call; at most %d", n, maxPut)
	}
	writes, err := Writes(r.GetRecords())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	if err := a.svc.Put(ctx, writes); err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &recordsv1.PutRecordsResponse{Written: uint64(len(writes))}, nil
}

func (a *Admin) DeleteRecord(ctx context.Context, r *recordsv1.DeleteRecordRequest) (*recordsv1.DeleteRecordResponse, error) {
	if a.svc == nil {
		return nil, errNoRecords
	}
	if err := a.svc.Delete(ctx, r.GetKind(), r.GetKey()); err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &recordsv1.DeleteRecordResponse{}, nil
}

// Page sizes of ListRecords.
const (
	defaultPage = 100
	maxPage     = 1000
)

func (a *Admin) ListRecords(ctx context.Context, r *recordsv1.ListRecordsRequest) (*recordsv1.ListRecordsResponse, error) {
	if a.svc == nil {
		return nil, errNoRecords
	}
	return listRecords(ctx, a.svc, r)
}

// listRecords is one page of ListRecords, for the admin API and the
// RecordService alike.
func listRecords(ctx context.Context, svc *recordsvc.Service, r *recordsv1.ListRecordsRequest) (*recordsv1.ListRecordsResponse, error) {
	size := int(r.GetPageSize())
	switch {
	case size == 0:
		size = defaultPage
	case size > maxPage:
		return nil, status.Errorf(codes.InvalidArgument, "page_size %d: at most %d", size, maxPage)
	}
	// The token is the last key of the previous page: keys are the store's
	// own, so a page resumes exactly where the last one stopped.
	entries, err := svc.List(ctx, r.GetKind(), r.GetPageToken(), size+1)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	out := &recordsv1.ListRecordsResponse{}
	if len(entries) > size {
		entries = entries[:size]
		out.NextPageToken = entries[size-1].Key
	}
	for _, e := range entries {
		rec, err := packKeyed(r.GetKind(), e.Key, e.Value)
		if err != nil {
			return nil, rpc.ToStatus(err)
		}
		out.Records = append(out.Records, rec)
	}
	return out, nil
}

// Client is nas.Records on the RecordService of the accounts and dids
// targets: each kind is asked of the target its Schema names.
type Client struct {
	byService map[string]recordsv1.RecordServiceClient
	service   map[string]string // kind -> service
}

var _ nas.Records = (*Client)(nil)

// NewClient asks accounts for the kinds of nas.ServiceAccounts and dids for
// those of nas.ServiceDIDs.
func NewClient(accounts, dids grpc.ClientConnInterface, kinds []recordsvc.Kind) *Client {
	c := &Client{
		byService: map[string]recordsv1.RecordServiceClient{
			nas.ServiceAccounts: recordsv1.NewRecordServiceClient(accounts),
			nas.ServiceDIDs:     recordsv1.NewRecordServiceClient(dids),
		},
		service: map[string]string{},
	}
	for _, k := range kinds {
		c.service[k.Name] = k.Service
	}
	return c
}

func (c *Client) target(kind string) (recordsv1.RecordServiceClient, error) {
	svc, ok := c.byService[c.service[kind]]
	if !ok {
		return nil, fmt.Errorf("%w %q", records.ErrUnknownKind, kind)
	}
	return svc, nil
}

// Get implements nas.Records.
func (c *Client) Get(ctx context.Context, kind, key string) (proto.Message, error) {
	t, err := c.target(kind)
	if err != nil {
		return nil, err
	}
	r, err := t.GetRecord(ctx, &recordsv1.GetRecordRequest{Kind: kind, Key: key})
	if err != nil {
		return nil, rpc.FromStatus(err)
	}
	return unpack(kind, r.GetRecord())
}

// GetFirst implements nas.Records: the key returned is the store's, folded.
func (c *Client) GetFirst(ctx context.Context, kind string, keys []string) (string, proto.Message, error) {
	t, err := c.target(kind)
	if err != nil {
		return "", nil, err
	}
	r, err := t.GetFirstRecord(ctx, &recordsv1.GetFirstRecordRequest{Kind: kind, Keys: keys})
	if err != nil {
		return "", nil, rpc.FromStatus(err)
	}
	m, err := unpack(kind, r.GetRecord())
	if err != nil {
		return "", nil, err
	}
	return r.GetRecord().GetKey(), m, nil
}

// Verify implements nas.Records.
func (c *Client) Verify(ctx context.Context, kind, key string, cred *recordsv1.Credential) (proto.Message, error) {
	t, err := c.target(kind)
	if err != nil {
		return nil, err
	}
	r, err := t.VerifyRecord(ctx, &recordsv1.VerifyRecordRequest{Kind: kind, Key: key, Credential: cred})
	if err != nil {
		return nil, rpc.FromStatus(err)
	}
	return unpack(kind, r.GetRecord())
}

// Merge implements nas.Records.
func (c *Client) Merge(ctx context.Context, kind, key string, update proto.Message) error {
	t, err := c.target(kind)
	if err != nil {
		return err
	}
	rec, err := packKeyed(kind, key, update)
	if err != nil {
		return err
	}
	if _, err := t.MergeRecord(ctx, &recordsv1.MergeRecordRequest{Record: rec}); err != nil {
		return rpc.FromStatus(err)
	}
	return nil
}

// ListAll implements nas.Records.
func (c *Client) ListAll(ctx context.Context, kind string) ([]proto.Message, error) {
	t, err := c.target(kind)
	if err != nil {
		return nil, err
	}
	var out []proto.Message
	req := &recordsv1.ScanRecordsRequest{Kind: kind, PageSize: maxPage}
	for {
		page, err := t.ScanRecords(ctx, req)
		if err != nil {
			return nil, rpc.FromStatus(err)
		}
		for _, r := range page.GetRecords() {
			m, err := unpack(kind, r)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		if page.GetNextPageToken() == "" {
			return out, nil
		}
		req.PageToken = page.GetNextPageToken()
	}
}

// Watch implements nas.Records on WatchRecords.
func (c *Client) Watch(ctx context.Context, kind string, changed func()) error {
	t, err := c.target(kind)
	if err != nil {
		return err
	}
	stream, err := t.WatchRecords(ctx, &recordsv1.WatchRecordsRequest{Kind: kind})
	if err != nil {
		return rpc.FromStatus(err)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watching %s: %w", kind, rpc.FromStatus(err))
		}
		changed()
	}
}

// errBadReply is a reply that breaks the protocol: its answer is unknown.
var errBadReply = errors.New("malformed reply")

func unpack(kind string, r *recordsv1.Record) (proto.Message, error) {
	if r.GetKind() != kind || r.GetValue() == nil {
		return nil, fmt.Errorf("%w: asked for a %s record, got kind %q", errBadReply, kind, r.GetKind())
	}
	m, err := r.GetValue().UnmarshalNew()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadReply, err)
	}
	return m, nil
}
