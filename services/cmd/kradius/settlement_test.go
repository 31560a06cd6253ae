package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "kradius.dev/proto/kradius/admin/v1"
	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/admin"
	"kradius.dev/services/password"
	"kradius.dev/services/settlement"
)

// startSettlementAdmin serves the admin service on a loopback port with
// settlement totals kept in a bbolt file, as -target=all does; with no
// records, it keeps none (the RPC is unimplemented).
func startSettlementAdmin(t *testing.T, recs []*settlementv1.Record) string {
	t.Helper()
	srv := admin.NewServer(nil, nil, password.Params{Memory: 64, Time: 1, Threads: 1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if recs != nil {
		b, err := settlement.OpenBolt(filepath.Join(t.TempDir(), "settlement.db"), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		if err := b.Add(t.Context(), recs); err != nil {
			t.Fatal(err)
		}
		srv.WithSettlement(b)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	adminv1.RegisterAdminServiceServer(s, srv)
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	return ln.Addr().String()
}

func settlementRec(session, orig, term, start string, seconds uint32) *settlementv1.Record {
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		panic(err)
	}
	return &settlementv1.Record{SessionId: session, OriginatingCarrier: orig, TerminatingCarrier: term, Start: timestamppb.New(t), Seconds: seconds}
}

func settlementCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runSettlement(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSettlementReport(t *testing.T) {
	addr := startSettlementAdmin(t, []*settlementv1.Record{
		settlementRec("s1", "alpha", "beta", "2026-12-01T23:10:00Z", 60),
		settlementRec("s1", "alpha", "beta", "2026-12-01T23:10:00Z", 60), // a copy: counted once
		settlementRec("s2", "alpha", "beta", "2026-12-01T23:50:00Z", 30),
		settlementRec("s3", "unknown", "beta", "2026-12-02T00:05:00Z", 10),
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-from", "2026-12-01T00:00:00Z", "-to", "2026-12-03T00:00:00Z"}, `
period_start,originating_carrier,terminating_carrier,calls,seconds
2026-12-01T00:00:00Z,alpha,beta,2,90
2026-12-02T00:00:00Z,unknown,beta,1,10
`},
		{[]string{"-from", "2026-12-01T23:30:00Z", "-to", "2026-12-02T01:00:00Z", "-period", "hour"}, `
period_start,originating_carrier,terminating_carrier,calls,seconds
2026-12-02T00:00:00Z,unknown,beta,1,10
`},
		{[]string{"-period", "hour", "-format", "json", "-from", "2026-12-01T18:00:00-05:00", "-to", "2026-12-02T01:00:00Z"}, `
{"period_start":"2026-12-01T23:00:00Z","originating_carrier":"alpha","terminating_carrier":"beta","calls":2,"seconds":90}
{"period_start":"2026-12-02T00:00:00Z","originating_carrier":"unknown","terminating_carrier":"beta","calls":1,"seconds":10}
`},
		// No rows: the header alone, or nothing as JSON.
		{[]string{"-from", "2027-01-01T00:00:00Z", "-to", "2027-02-01T00:00:00Z"}, `
period_start,originating_carrier,terminating_carrier,calls,seconds
`},
		{[]string{"-from", "2027-01-01T00:00:00Z", "-to", "2027-02-01T00:00:00Z", "-format", "json"}, "\n"},
	} {
		code, out, errOut := settlementCmd(append([]string{"report", "-admin", addr}, tc.args...)...)
		if code != 0 || out != tc.want[1:] || errOut != "" {
			t.Errorf("kradius settlement report %s: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", strings.Join(tc.args, " "), code, errOut, out, tc.want[1:])
		}
	}
}

func TestSettlementErrors(t *testing.T) {
	none := startSettlementAdmin(t, nil)
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	month := []string{"-from", "2026-12-01T00:00:00Z", "-to", "2027-01-01T00:00:00Z"}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "usage:"},
		{[]string{"export"}, 2, `unknown command "export"`},
		{[]string{"report"}, 2, `-from "": want an RFC 3339 time`},
		{[]string{"report", "-from", "2026-12-01", "-to", "2027-01-01T00:00:00Z"}, 2, `-from "2026-12-01"`},
		{[]string{"report", "-from", "2026-12-01T00:00:00Z", "-to", "2026-12-01T00:00:00Z"}, 2, "want an RFC 3339 time after -from"},
		{append([]string{"report", "-period", "week"}, month...), 2, `-period "week": want hour or day`},
		{append([]string{"report", "-format", "xml"}, month...), 2, `-format "xml": want csv or json`},
		{append([]string{"report", "extra"}, month...), 2, "unexpected arguments"},
		{append([]string{"report", "-nosuchflag"}, month...), 2, "flag provided but not defined"},
		{append([]string{"report", "-admin", none}, month...), 1, "keeps no settlement totals"},
		{append([]string{"report", "-admin", closed}, month...), 1, "admin service at " + closed},
	} {
		code, out, errOut := settlementCmd(tc.args...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("kradius settlement %s: exit %d, stdout %q, stderr %q; want exit %d, stderr with %q", strings.Join(tc.args, " "), code, out, errOut, tc.code, tc.stderr)
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"report", "-h"}} {
		code, out, errOut := settlementCmd(args...)
		if code != 0 || !strings.Contains(out+errOut, "kradius settlement report -from TIME -to TIME") {
			t.Errorf("kradius settlement %s: exit %d, stdout %q, stderr %q; want the usage and exit 0", strings.Join(args, " "), code, out, errOut)
		}
	}
}
