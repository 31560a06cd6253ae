package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"kradius.dev/services/admin"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/password"
	"kradius.dev/services/provision"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/rpc"
)

// runImport is `kradius import [flags] FILE`: it checks the whole file,
// hashes its passwords here (clear text never crosses the wire), and streams
// it to the admin service of a running kradius.
func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kradius import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr, tlsCfg := adminFlags(fs)
	longNames := fs.Bool("long-names", false, "accept names of up to 64 characters (a server with store.long_names)")
	chunk := fs.Int("chunk", admin.DefaultChunk, "records per atomic write; a file that fits one chunk is written all or nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kradius import [flags] FILE   (YAML or JSON, see services/provision/README.md)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	start := time.Now()
	data, err := provision.LoadFile(fs.Arg(0), password.DefaultParams, fbdata.Options{LongNames: *longNames}, recordsvc.Kinds(profiles.All)...)
	if err != nil {
		fmt.Fprintf(stderr, "kradius import: nothing imported, %s has errors:\n%v\n", fs.Arg(0), err)
		return 1
	}
	loaded := time.Since(start)
	conn, err := rpc.Dial(*addr, *tlsCfg)
	if err != nil {
		fmt.Fprintf(stderr, "kradius import: %v\n", err)
		return 1
	}
	defer conn.Close()
	res, err := admin.Import(ctx, conn, data.Batch, data.Records, *chunk)
	if err != nil {
		fmt.Fprintf(stderr, "kradius import: %v\n", err)
		return 1
	}
	what := fmt.Sprintf("%d accounts and %d DIDs", res.GetAccounts(), res.GetDids())
	switch c, r := res.GetCalledNumbers(), res.GetRecords(); {
	case r > 0:
		what = fmt.Sprintf("%d accounts, %d DIDs, %d called numbers and %d records of other kinds", res.GetAccounts(), res.GetDids(), c, r)
	case c > 0:
		what = fmt.Sprintf("%d accounts, %d DIDs and %d called numbers", res.GetAccounts(), res.GetDids(), c)
	}
	fmt.Fprintf(stdout, "imported %s from %s in %d chunks, %s (reading and hashing %s)\n",
		what, fs.Arg(0), res.GetChunks(), time.Since(start).Round(time.Millisecond), loaded.Round(time.Millisecond))
	return 0
}

// adminFlags are the flags of every subcommand that talks to the admin
// service: where it is, and the TLS to reach it with.
func adminFlags(fs *flag.FlagSet) (addr *string, tlsCfg *rpc.TLSConfig) {
	addr = fs.String("admin", "127.0.0.1:9813", "admin service: admin.listen of -target=all, or grpc.listen of -target=accounts")
	tlsCfg = new(rpc.TLSConfig)
	fs.StringVar(&tlsCfg.CAFile, "tls.ca-file", "", "CA that signed the server's certificate (turns TLS on)")
	fs.StringVar(&tlsCfg.CertFile, "tls.cert-file", "", "client certificate, for mutual TLS")
	fs.StringVar(&tlsCfg.KeyFile, "tls.key-file", "", "client key, for mutual TLS")
	fs.StringVar(&tlsCfg.ServerName, "tls.server-name", "", "name to verify in the server's certificate")
	return addr, tlsCfg
}
