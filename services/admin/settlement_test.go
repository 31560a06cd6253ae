package admin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/settlement"
)

// serveSettlement serves the admin API with r as its settlement Reporter
// (none when nil); SettlementReport touches no serving store.
func serveSettlement(t *testing.T, r Reporter) adminv1.AdminServiceClient {
	t.Helper()
	srv := NewServer(nil, nil, cheap, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if r != nil {
		srv.WithSettlement(r)
	}
	ln := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(s, srv)
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return adminv1.NewAdminServiceClient(conn)
}

func ts(s string) *timestamppb.Timestamp {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return timestamppb.New(t)
}

func TestSettlementReport(t *testing.T) {
	store, err := settlement.OpenBolt(filepath.Join(t.TempDir(), "settlement.db"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := t.Context()
	for i, r := range []struct {
		orig, term, start string
		seconds           uint32
	}{
		{"alpha", "beta", "2026-12-01T23:10:00Z", 60},
		{"alpha", "beta", "2026-12-01T23:50:00Z", 30},
		{"unknown", "beta", "2026-12-02T00:05:00Z", 10},
	} {
		rec := &settlementv1.Record{SessionId: fmt.Sprintf("s%d", i), OriginatingCarrier: r.orig, TerminatingCarrier: r.term, Start: ts(r.start), Seconds: r.seconds}
		// Twice: counted once.
		if err := store.Add(ctx, []*settlementv1.Record{rec, rec}); err != nil {
			t.Fatal(err)
		}
	}
	c := serveSettlement(t, store)
	text := func(rows []*adminv1.SettlementRow) string {
		var lines []string
		for _, r := range rows {
			lines = append(lines, fmt.Sprintf("%s %s %s %d %d", r.GetPeriodStart().AsTime().Format(time.RFC3339), r.GetOriginatingCarrier(), r.GetTerminatingCarrier(), r.GetCalls(), r.GetSeconds()))
		}
		return strings.Join(lines, "\n")
	}
	for _, tc := range []struct {
		from, to, period string
		want             string
	}{
		{"2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z", "day", "2026-12-01T00:00:00Z alpha beta 2 90\n2026-12-02T00:00:00Z unknown beta 1 10"},
		{"2026-12-01T23:00:00Z", "2026-12-02T01:00:00Z", "hour", "2026-12-01T23:00:00Z alpha beta 2 90\n2026-12-02T00:00:00Z unknown beta 1 10"},
		{"2026-12-01T23:30:00Z", "2026-12-02T01:00:00Z", "hour", "2026-12-02T00:00:00Z unknown beta 1 10"},
		{"2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z", "day", ""},
	} {
		r, err := c.SettlementReport(ctx, &adminv1.SettlementReportRequest{From: ts(tc.from), To: ts(tc.to), Period: tc.period})
		if err != nil {
			t.Fatalf("[%s, %s) by %s: %v", tc.from, tc.to, tc.period, err)
		}
		if got := text(r.GetRows()); got != tc.want {
			t.Errorf("[%s, %s) by %s:\n%s\nwant:\n%s", tc.from, tc.to, tc.period, got, tc.want)
		}
	}

	for _, tc := range []struct {
		name string
		req  *adminv1.SettlementReportRequest
		want string
	}{
		{"no period", &adminv1.SettlementReportRequest{From: ts("2026-12-01T00:00:00Z"), To: ts("2026-12-02T00:00:00Z")}, `period "": want hour or day`},
		{"bad period", &adminv1.SettlementReportRequest{From: ts("2026-12-01T00:00:00Z"), To: ts("2026-12-02T00:00:00Z"), Period: "week"}, `period "week"`},
		{"from == to", &adminv1.SettlementReportRequest{From: ts("2026-12-01T00:00:00Z"), To: ts("2026-12-01T00:00:00Z"), Period: "day"}, "is not before to"},
		{"from > to", &adminv1.SettlementReportRequest{From: ts("2026-12-02T00:00:00Z"), To: ts("2026-12-01T00:00:00Z"), Period: "hour"}, "is not before to"},
		{"no from", &adminv1.SettlementReportRequest{To: ts("2026-12-01T00:00:00Z"), Period: "hour"}, "from: required"},
		{"no to", &adminv1.SettlementReportRequest{From: ts("2026-12-01T00:00:00Z"), Period: "hour"}, "to: required"},
		{"bad to", &adminv1.SettlementReportRequest{From: ts("2026-12-01T00:00:00Z"), To: &timestamppb.Timestamp{Nanos: -1}, Period: "hour"}, "to: "},
	} {
		_, err := c.SettlementReport(ctx, tc.req)
		if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want INVALID_ARGUMENT with %q", tc.name, err, tc.want)
		}
	}
}

func TestSettlementReportUnimplemented(t *testing.T) {
	c := serveSettlement(t, nil)
	_, err := c.SettlementReport(t.Context(), &adminv1.SettlementReportRequest{From: ts("2026-12-01T00:00:00Z"), To: ts("2026-12-02T00:00:00Z"), Period: "day"})
	if code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "keeps no settlement totals") {
		t.Errorf("SettlementReport without a Reporter: %v; want UNIMPLEMENTED saying so", err)
	}
}
