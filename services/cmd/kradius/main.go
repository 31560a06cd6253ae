// Command kradius runs any kradius component, chosen with -target;
// `kradius import FILE` provisions a running one, `kradius get|list|delete
// KIND [NAME]` reads and deletes its records, `kradius cdr` reads its CDRs,
// `kradius settlement report` its inter-carrier settlement totals, and
// `kradius bench` loads one with RADIUS traffic and measures it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"kradius.dev/services/app"
	"kradius.dev/services/config"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "import":
			os.Exit(runImport(os.Args[2:], os.Stdout, os.Stderr))
		case "bench":
			os.Exit(runBench(os.Args[2:], os.Stdout, os.Stderr))
		case "cdr":
			os.Exit(runCDR(os.Args[2:], os.Stdout, os.Stderr))
		case "settlement":
			os.Exit(runSettlement(os.Args[2:], os.Stdout, os.Stderr))
		case "get", "list", "delete":
			os.Exit(runRecords(os.Args[1], os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

// defaultGCPercent replaces Go's GOGC=100 when the environment sets none. A
// kradius server allocates a few hundred bytes per packet and keeps little,
// so at tens of thousands of packets a second the collector runs several
// times a second over a small heap: at 400 its marking takes a fraction of
// the CPU it takes at 100 (pprof: docs/performance.md, "Garbage
// collector"), for a heap up to five times the live data. GOMEMLIMIT, when
// set (the operator sets it from the container's memory limit), still
// bounds it.
const defaultGCPercent = 400

// run returns the exit code: 0 after a clean shutdown, 1 on a runtime or
// configuration error, 2 on a usage error.
func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("kradius", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := config.Load(args, fs)
	var invalid *config.Error
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &invalid):
		fmt.Fprintf(stderr, "kradius: invalid configuration:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 1
	case err != nil:
		return 2 // the flag package has printed the usage error
	}

	log := app.NewLogger(cfg.Log, stderr)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := app.Run(ctx, cfg, log); err != nil {
		log.Error("stopped", "err", err)
		return 1
	}
	log.Info("shut down cleanly")
	return 0
}
