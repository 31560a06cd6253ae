// Package admin is the provisioning API, kradius.admin.v1.AdminService: the
// operator, GitOps tooling and `kradius import` write the store through it.
// It is served by -target=accounts, and by -target=all on admin.listen.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/accounts/accountsrpc"
	"kradius.dev/services/acctlog/journal"
	"kradius.dev/services/cdr"
	"kradius.dev/services/dids/didsrpc"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/recordsvc/recordsrpc"
	"kradius.dev/services/rpc"
	"kradius.dev/services/settlement"
	"kradius.dev/services/store/records"
)

// Server implements adminv1.AdminServiceServer over a store.
type Server struct {
	adminv1.UnimplementedAdminServiceServer
	store   fbdata.Store
	records *recordsvc.Service
	cdrs    CDRReaders      // nil but in -target=all
	settle  Reporter        // nil where no settlement totals are kept
	params  password.Params // for clear-text passwords sent by PutAccount
	log     *slog.Logger
}

// NewServer serves the FaxBack kinds of st and the other profiles' kinds of
// recs, which share st's records backend; clear-text passwords are hashed
// with params.
func NewServer(st fbdata.Store, recs *recordsvc.Service, params password.Params, log *slog.Logger) *Server {
	return &Server{store: st, records: recs, params: params, log: log}
}

// batchWriter is a store that writes a FaxBack batch and other kinds'
// records in one transaction: fbstore.Store, and so every serving store.
type batchWriter interface {
	ApplyWith(ctx context.Context, b fbdata.Batch, more func(records.Txn) error) error
}

func (s *Server) PutRecords(ctx context.Context, r *recordsv1.PutRecordsRequest) (*recordsv1.PutRecordsResponse, error) {
	return recordsrpc.NewAdmin(s.records).PutRecords(ctx, r)
}

func (s *Server) DeleteRecord(ctx context.Context, r *recordsv1.DeleteRecordRequest) (*recordsv1.DeleteRecordResponse, error) {
	return recordsrpc.NewAdmin(s.records).DeleteRecord(ctx, r)
}

func (s *Server) ListRecords(ctx context.Context, r *recordsv1.ListRecordsRequest) (*recordsv1.ListRecordsResponse, error) {
	return recordsrpc.NewAdmin(s.records).ListRecords(ctx, r)
}

// apply writes one import chunk, all or nothing.
func (s *Server) apply(ctx context.Context, b fbdata.Batch, recs []*recordsv1.Record) error {
	writes, err := recordsrpc.Writes(recs)
	if err != nil {
		return fmt.Errorf("%w: %w", fbdata.ErrInvalid, err)
	}
	return Apply(ctx, s.store, s.records, b, writes)
}

// Apply writes a FaxBack batch and other kinds' records in one
// transaction: what one import chunk or one bootstrap file holds.
func Apply(ctx context.Context, st fbdata.Store, recs *recordsvc.Service, b fbdata.Batch, writes []recordsvc.Write) error {
	if len(writes) == 0 {
		return st.Apply(ctx, b)
	}
	w, ok := st.(batchWriter)
	if !ok || recs == nil {
		return fmt.Errorf("%w: this store keeps no records but FaxBack's", fbdata.ErrInvalid)
	}
	return w.ApplyWith(ctx, b, func(txn records.Txn) error {
		for i, wr := range writes {
			if err := recs.PutTxn(txn, wr); err != nil {
				return fmt.Errorf("records[%d] (%s): %w", i, wr.Kind, err)
			}
		}
		return nil
	})
}

// accountFromRecord turns a written record into a store account, hashing a
// clear-text password.
func (s *Server) accountFromRecord(r *adminv1.AccountRecord) (fbdata.Account, error) {
	a := accountsrpc.FromProto(r.GetAccount())
	switch {
	case r.GetPassword() != "" && r.GetPasswordHash() != "":
		return a, fmt.Errorf("%w: account %q: set password or password_hash, not both", fbdata.ErrInvalid, a.Name)
	case r.GetPasswordHash() != "":
		if _, err := password.ParseParams(r.GetPasswordHash()); err != nil {
			return a, fmt.Errorf("%w: account %q: password_hash: %v", fbdata.ErrInvalid, a.Name, err)
		}
		a.PasswordHash = r.GetPasswordHash()
	case r.GetPassword() != "":
		h, err := password.Hash(r.GetPassword(), s.params)
		if err != nil {
			return a, err
		}
		a.PasswordHash = h
	}
	return a, nil
}

func (s *Server) PutAccount(ctx context.Context, r *adminv1.PutAccountRequest) (*adminv1.PutAccountResponse, error) {
	a, err := s.accountFromRecord(r.GetRecord())
	if err == nil {
		err = s.store.PutAccount(ctx, a)
	}
	if err == nil {
		a, err = s.store.GetAccount(ctx, a.Name)
	}
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.PutAccountResponse{Account: accountsrpc.ToProto(a)}, nil
}

func (s *Server) GetAccount(ctx context.Context, r *adminv1.GetAccountRequest) (*adminv1.GetAccountResponse, error) {
	a, err := s.store.GetAccount(ctx, r.GetName())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.GetAccountResponse{Account: accountsrpc.ToProto(a)}, nil
}

func (s *Server) DeleteAccount(ctx context.Context, r *adminv1.DeleteAccountRequest) (*adminv1.DeleteAccountResponse, error) {
	if err := s.store.DeleteAccount(ctx, r.GetName()); err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.DeleteAccountResponse{}, nil
}

func (s *Server) PutDID(ctx context.Context, r *adminv1.PutDIDRequest) (*adminv1.PutDIDResponse, error) {
	if err := s.store.PutDID(ctx, didsrpc.FromProto(r.GetDid())); err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.PutDIDResponse{}, nil
}

func (s *Server) GetDID(ctx context.Context, r *adminv1.GetDIDRequest) (*adminv1.GetDIDResponse, error) {
	d, err := s.store.GetDID(ctx, r.GetNumber())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.GetDIDResponse{Did: didsrpc.ToProto(d)}, nil
}

func (s *Server) DeleteDID(ctx context.Context, r *adminv1.DeleteDIDRequest) (*adminv1.DeleteDIDResponse, error) {
	if err := s.store.DeleteDID(ctx, r.GetNumber()); err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.DeleteDIDResponse{}, nil
}

// PutGroup sets a group's type and members, keeping the rest of its account.
func (s *Server) PutGroup(ctx context.Context, r *adminv1.PutGroupRequest) (*adminv1.PutGroupResponse, error) {
	g := r.GetGroup()
	a, err := s.store.GetAccount(ctx, g.GetName())
	switch {
	case errors.Is(err, fbdata.ErrNotFound):
		a = fbdata.Account{Name: g.GetName(), UUID: g.GetUuid()}
	case err != nil:
		return nil, rpc.ToStatus(err)
	}
	a.Type = g.GetType()
	if a.Type == 0 {
		a.Type = 8
	}
	if !a.IsGroup() {
		return nil, rpc.ToStatus(fmt.Errorf("%w: group %q: type %d is not a load-balance group (8, 9, 10)", fbdata.ErrInvalid, g.GetName(), a.Type))
	}
	a.Members = g.GetMembers()
	err = s.store.PutAccount(ctx, a)
	if err == nil {
		a, err = s.store.GetAccount(ctx, a.Name) // with the UUID the store assigned
	}
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.PutGroupResponse{Group: groupOf(a)}, nil
}

func (s *Server) GetGroup(ctx context.Context, r *adminv1.GetGroupRequest) (*adminv1.GetGroupResponse, error) {
	a, err := s.group(ctx, r.GetName())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.GetGroupResponse{Group: groupOf(a)}, nil
}

func (s *Server) DeleteGroup(ctx context.Context, r *adminv1.DeleteGroupRequest) (*adminv1.DeleteGroupResponse, error) {
	if _, err := s.group(ctx, r.GetName()); err != nil {
		return nil, rpc.ToStatus(err)
	}
	if err := s.store.DeleteAccount(ctx, r.GetName()); err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.DeleteGroupResponse{}, nil
}

// group reads an account that must be a load-balance group.
func (s *Server) group(ctx context.Context, name string) (fbdata.Account, error) {
	a, err := s.store.GetAccount(ctx, name)
	if err == nil && !a.IsGroup() {
		err = fmt.Errorf("account %q is not a load-balance group: %w", name, fbdata.ErrNotFound)
	}
	return a, err
}

func groupOf(a fbdata.Account) *adminv1.Group {
	return &adminv1.Group{Name: a.Name, Type: a.Type, Members: a.Members, Uuid: a.UUID}
}

// Import applies each streamed chunk atomically, in order. A failing chunk
// stops the import; the error names it, and the chunks before it stay.
func (s *Server) Import(stream adminv1.AdminService_ImportServer) error {
	var res adminv1.ImportResponse
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			s.log.Info("import finished", "accounts", res.Accounts, "dids", res.Dids, "called_numbers", res.CalledNumbers, "records", res.Records, "chunks", res.Chunks)
			return stream.SendAndClose(&res)
		}
		if err != nil {
			return err
		}
		var b fbdata.Batch
		for _, r := range chunk.GetAccounts() {
			a, err := s.accountFromRecord(r)
			if err != nil {
				return rpc.ToStatus(fmt.Errorf("chunk %d: %w", res.Chunks+1, err))
			}
			b.Accounts = append(b.Accounts, a)
		}
		for _, d := range chunk.GetDids() {
			b.DIDs = append(b.DIDs, didsrpc.FromProto(d))
		}
		for _, c := range chunk.GetCalledNumbers() {
			b.CalledNumbers = append(b.CalledNumbers, didsrpc.CalledFromProto(c))
		}
		if err := s.apply(stream.Context(), b, chunk.GetRecords()); err != nil {
			s.log.Warn("import stopped", "chunk", res.Chunks+1, "applied_chunks", res.Chunks, "err", err)
			return rpc.ToStatus(fmt.Errorf("chunk %d (after %d applied): %w", res.Chunks+1, res.Chunks, err))
		}
		res.Chunks++
		res.Accounts += uint64(len(b.Accounts))
		res.Dids += uint64(len(b.DIDs))
		res.CalledNumbers += uint64(len(b.CalledNumbers))
		res.Records += uint64(len(chunk.GetRecords()))
	}
}

var callResults = map[adminv1.CallResult]fbdata.CallResult{
	adminv1.CallResult_CALL_RESULT_SUCCESS:     fbdata.CallSuccess,
	adminv1.CallResult_CALL_RESULT_FAX_ERROR:   fbdata.CallFaxError,
	adminv1.CallResult_CALL_RESULT_VOICE_ERROR: fbdata.CallVoiceError,
}

func (s *Server) RecordCalledNumber(ctx context.Context, r *adminv1.RecordCalledNumberRequest) (*adminv1.RecordCalledNumberResponse, error) {
	result, ok := callResults[r.GetResult()]
	if !ok {
		return nil, rpc.ToStatus(fmt.Errorf("%w: result %v", fbdata.ErrInvalid, r.GetResult()))
	}
	if err := s.store.RecordCalledNumber(ctx, r.GetNumber(), result); err != nil {
		return nil, rpc.ToStatus(err)
	}
	c, err := s.store.GetCalledNumber(ctx, r.GetNumber())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.RecordCalledNumberResponse{CalledNumber: didsrpc.CalledToProto(c)}, nil
}

func (s *Server) GetCalledNumber(ctx context.Context, r *adminv1.GetCalledNumberRequest) (*adminv1.GetCalledNumberResponse, error) {
	c, err := s.store.GetCalledNumber(ctx, r.GetNumber())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.GetCalledNumberResponse{CalledNumber: didsrpc.CalledToProto(c)}, nil
}

func (s *Server) DeleteCalledNumber(ctx context.Context, r *adminv1.DeleteCalledNumberRequest) (*adminv1.DeleteCalledNumberResponse, error) {
	if err := s.store.DeleteCalledNumber(ctx, r.GetNumber()); err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &adminv1.DeleteCalledNumberResponse{}, nil
}

// CDRReaders are the named readers of -target=all's CDR journal.
type CDRReaders interface {
	Read(ctx context.Context, name string, resume bool, max int, wait time.Duration) ([]cdr.JournalCDR, int64, error)
	Commit(ctx context.Context, name string, offset int64) error
}

// WithCDRs serves the CDR journal's readers (-target=all).
func (s *Server) WithCDRs(r CDRReaders) *Server {
	s.cdrs = r
	return s
}

// Bounds of ReadCDRs.
const (
	defaultCDRRead = 1000
	maxCDRRead     = 10000
	maxCDRWait     = time.Minute
)

func (s *Server) ReadCDRs(ctx context.Context, r *adminv1.ReadCDRsRequest) (*adminv1.ReadCDRsResponse, error) {
	if s.cdrs == nil {
		return nil, status.Error(codes.FailedPrecondition, "this server keeps no CDR journal: distributed, read kradius.cdr.v1 from Kafka (kradius cdr -brokers)")
	}
	if err := checkReader(r.GetReader()); err != nil {
		return nil, err
	}
	n := int(r.GetMax())
	switch {
	case n == 0:
		n = defaultCDRRead
	case n > maxCDRRead:
		return nil, status.Errorf(codes.InvalidArgument, "max %d: at most %d", n, maxCDRRead)
	}
	wait := r.GetWait().AsDuration()
	if wait < 0 || wait > maxCDRWait {
		return nil, status.Errorf(codes.InvalidArgument, "wait %s: 0 to %s", wait, maxCDRWait)
	}
	cdrs, end, err := s.cdrs.Read(ctx, r.GetReader(), r.GetResume(), n, wait)
	if err != nil {
		return nil, cdrStatus(err)
	}
	out := &adminv1.ReadCDRsResponse{End: end}
	for _, c := range cdrs {
		out.Cdrs = append(out.Cdrs, &adminv1.JournalCDR{Offset: c.Offset, Appended: timestamppb.New(c.Appended), Cdr: c.CDR})
	}
	return out, nil
}

func (s *Server) CommitCDRs(ctx context.Context, r *adminv1.CommitCDRsRequest) (*adminv1.CommitCDRsResponse, error) {
	if s.cdrs == nil {
		return nil, status.Error(codes.FailedPrecondition, "this server keeps no CDR journal")
	}
	if err := checkReader(r.GetReader()); err != nil {
		return nil, err
	}
	if r.GetOffset() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "offset %d: must not be negative", r.GetOffset())
	}
	if err := s.cdrs.Commit(ctx, r.GetReader(), r.GetOffset()); err != nil {
		return nil, cdrStatus(err)
	}
	return &adminv1.CommitCDRsResponse{}, nil
}

// readerName is what the journal takes as a consumer name.
var readerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkReader(name string) error {
	if !readerName.MatchString(name) {
		return status.Errorf(codes.InvalidArgument, "reader %q: 1 to 128 letters, digits and, after the first, . _ -", name)
	}
	return nil
}

// cdrStatus gives a CDR reader's error its status: a reserved name or an
// offset past the end is the caller's; anything else is the server's.
func cdrStatus(err error) error {
	switch {
	case errors.Is(err, cdr.ErrReservedReader), errors.Is(err, journal.ErrBeyondEnd):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, journal.ErrConsumerOpen):
		return status.Error(codes.FailedPrecondition, err.Error())
	}
	return status.Error(codes.Unavailable, err.Error())
}

// Reporter reports the settlement totals: settlement.Bolt in -target=all,
// settlement.Redis in -target=accounts.
type Reporter interface {
	Report(ctx context.Context, from, to time.Time, p settlement.Period) ([]settlement.Row, error)
}

// WithSettlement serves SettlementReport from r.
func (s *Server) WithSettlement(r Reporter) *Server {
	s.settle = r
	return s
}

func (s *Server) SettlementReport(ctx context.Context, r *adminv1.SettlementReportRequest) (*adminv1.SettlementReportResponse, error) {
	if s.settle == nil {
		return nil, status.Error(codes.Unimplemented, "this server keeps no settlement totals: ask -target=all's admin endpoint, or distributed -target=accounts")
	}
	p, err := settlement.ParsePeriod(r.GetPeriod())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	var from, to time.Time
	for _, ts := range []struct {
		name string
		ts   *timestamppb.Timestamp
		to   *time.Time
	}{{"from", r.GetFrom(), &from}, {"to", r.GetTo(), &to}} {
		if ts.ts == nil {
			return nil, status.Errorf(codes.InvalidArgument, "%s: required", ts.name)
		}
		if err := ts.ts.CheckValid(); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "%s: %v", ts.name, err)
		}
		*ts.to = ts.ts.AsTime()
	}
	if !from.Before(to) {
		return nil, status.Errorf(codes.InvalidArgument, "from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	rows, err := s.settle.Report(ctx, from, to, p)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, status.FromContextError(ctx.Err()).Err()
	case errors.Is(err, settlement.ErrInvalid):
		return nil, status.Error(codes.InvalidArgument, err.Error())
	case err != nil:
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	out := &adminv1.SettlementReportResponse{Rows: make([]*adminv1.SettlementRow, len(rows))}
	for i, row := range rows {
		out.Rows[i] = &adminv1.SettlementRow{
			PeriodStart: timestamppb.New(row.PeriodStart), OriginatingCarrier: row.Originating, TerminatingCarrier: row.Terminating,
			Calls: row.Calls, Seconds: row.Seconds,
		}
	}
	return out, nil
}
