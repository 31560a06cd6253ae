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
	"kradius.dev/services/password"
	"kradius.dev/services/provision"
	"kradius.dev/services/store"
)

// runImport is `kradius import [-admin ADDR] FILE`: it checks the file, hashes
// its passwords here, and has the running server apply it atomically.
func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kradius import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("admin", "127.0.0.1:9813", "admin endpoint of the running kradius (admin.listen)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kradius import [-admin host:port] FILE   (YAML or JSON, see services/provision/README.md)")
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

	client := admin.NewClient(*addr)
	info, err := client.Info(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "kradius import: %v\n", err)
		return 1
	}
	start := time.Now()
	batch, err := provision.LoadFile(fs.Arg(0), password.DefaultParams, store.Options{LongNames: info.LongNames})
	if err != nil {
		fmt.Fprintf(stderr, "kradius import: nothing imported, %s has errors:\n%v\n", fs.Arg(0), err)
		return 1
	}
	res, err := client.Apply(ctx, batch)
	if err != nil {
		fmt.Fprintf(stderr, "kradius import: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported %d accounts and %d DIDs from %s in %s\n", res.Accounts, res.DIDs, fs.Arg(0), time.Since(start).Round(time.Millisecond))
	return 0
}
