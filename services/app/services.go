package app

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	didsv1 "kradius.dev/proto/kradius/dids/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/accounts"
	"kradius.dev/services/accounts/accountsrpc"
	"kradius.dev/services/admin"
	"kradius.dev/services/config"
	"kradius.dev/services/dids"
	"kradius.dev/services/dids/didsrpc"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/recordsvc/recordsrpc"
	"kradius.dev/services/settlement"
)

// runAccounts is -target=accounts: the AccountService, the RecordService
// for the kinds of who may log in, and, since it is the writer of
// accounts, the AdminService, on grpc.listen, over Redis. The AdminService
// reports the settlement totals the cdr consumers count beside the data
// set.
func runAccounts(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return runService(ctx, cfg, log, "accounts service", func(s *grpc.Server, b *base) {
		verifier := newVerifier(cfg.Password)
		recs := recordsvc.New(b.rs, schemaKinds, verifier, passwordParams(cfg.Password))
		accountsv1.RegisterAccountServiceServer(s, accountsrpc.NewServer(accounts.New(b.st, verifier, accounts.HashParams(passwordParams(cfg.Password)))))
		recordsv1.RegisterRecordServiceServer(s, recordsrpc.NewServer(recs))
		adm := admin.NewServer(b.st, recs, passwordParams(cfg.Password), log)
		if rs, ok := b.st.(*redisStore); ok {
			adm.WithSettlement(settlement.NewRedis(rs.client, rs.prefix, time.Duration(cfg.Accounting.DedupeTTL)))
		}
		adminv1.RegisterAdminServiceServer(s, adm)
	})
}

// runDIDs is -target=dids: the DIDService, and the RecordService for the
// kinds of where calls go, on grpc.listen, over Redis.
func runDIDs(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return runService(ctx, cfg, log, "dids service", func(s *grpc.Server, b *base) {
		didsv1.RegisterDIDServiceServer(s, didsrpc.NewServer(dids.New(b.st)))
		recordsv1.RegisterRecordServiceServer(s, recordsrpc.NewServer(recordsvc.New(b.rs, schemaKinds, newVerifier(cfg.Password), passwordParams(cfg.Password))))
	})
}

// runService is the shape both share: ops endpoint, store, gRPC server.
func runService(ctx context.Context, cfg config.Config, log *slog.Logger, what string, register func(*grpc.Server, *base)) error {
	b, err := startBase(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer b.close()
	b.ops.ready.Store(true)
	return serveGRPC(ctx, b, cfg.GRPC.Listen, cfg.GRPC.TLS, log, what, func(s *grpc.Server) { register(s, b) })
}
