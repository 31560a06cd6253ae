package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	"kradius.dev/services/rpc"
	"kradius.dev/services/settlement"
)

const settlementUsage = `usage:
  kradius settlement report -from TIME -to TIME [-period hour|day] [-format csv|json] [-admin HOST:PORT]

Inter-carrier settlement totals (Dialogic IMG): calls and seconds by
originating and terminating carrier, per UTC hour or UTC day, for the
periods that start in [from, to) (RFC 3339 times; a period is reported
whole or not at all). Each Stop's settlement record counts once per
session while the consumer remembers it (accounting.dedupe_ttl).

Output, on stdout: csv (the default) under the header
period_start,originating_carrier,terminating_carrier,calls,seconds
(printed even with no rows), or json, one object a row with the same
names; period_start is RFC 3339 UTC. Rows are sorted by period, then
originating, then terminating carrier.

-admin is the admin endpoint: admin.listen of -target=all, or grpc.listen
of -target=accounts. Exit codes: 0; 1 when the call fails; 2 for a usage
error.
`

// runSettlement is `kradius settlement report`.
func runSettlement(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, settlementUsage)
		return 2
	}
	switch args[0] {
	case "report":
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, settlementUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "kradius settlement: unknown command %q\n\n%s", args[0], settlementUsage)
		return 2
	}
	const prog = "kradius settlement report"
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, settlementUsage); fs.PrintDefaults() }
	addr, tlsCfg := adminFlags(fs)
	fromText := fs.String("from", "", "the first period's start, RFC 3339: periods that start at or after it")
	toText := fs.String("to", "", "the end, RFC 3339, excluded: periods that start before it")
	periodText := fs.String("period", "day", "hour or day (UTC)")
	format := fs.String("format", "csv", "output: csv (with a header) or json (one object a line)")
	pos, err := parseInterleaved(fs, args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	case len(pos) > 0:
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", prog, pos)
		return 2
	}
	from, err := time.Parse(time.RFC3339, *fromText)
	if err != nil {
		fmt.Fprintf(stderr, "%s: -from %q: want an RFC 3339 time such as 2026-12-01T00:00:00Z\n", prog, *fromText)
		return 2
	}
	to, err := time.Parse(time.RFC3339, *toText)
	if err != nil || !to.After(from) {
		fmt.Fprintf(stderr, "%s: -to %q: want an RFC 3339 time after -from\n", prog, *toText)
		return 2
	}
	if _, err := settlement.ParsePeriod(*periodText); err != nil {
		fmt.Fprintf(stderr, "%s: -period %q: want hour or day\n", prog, *periodText)
		return 2
	}
	write := settlement.WriteCSV
	switch *format {
	case "csv":
	case "json":
		write = settlement.WriteJSON
	default:
		fmt.Fprintf(stderr, "%s: -format %q: want csv or json\n", prog, *format)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	conn, err := rpc.Dial(*addr, *tlsCfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	r, err := adminv1.NewAdminServiceClient(conn).SettlementReport(cctx, &adminv1.SettlementReportRequest{
		From: timestamppb.New(from), To: timestamppb.New(to), Period: *periodText,
	})
	if err != nil {
		if status.Code(err) == codes.Unimplemented {
			fmt.Fprintf(stderr, "%s: the admin service at %s keeps no settlement totals: %s\n", prog, *addr, status.Convert(err).Message())
		} else {
			fmt.Fprintf(stderr, "%s: admin service at %s: %v\n", prog, *addr, err)
		}
		return 1
	}
	rows := make([]settlement.Row, len(r.GetRows()))
	for i, row := range r.GetRows() {
		rows[i] = settlement.Row{
			PeriodStart: row.GetPeriodStart().AsTime(), Originating: row.GetOriginatingCarrier(), Terminating: row.GetTerminatingCarrier(),
			Calls: row.GetCalls(), Seconds: row.GetSeconds(),
		}
	}
	if err := write(stdout, rows); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	return 0
}
