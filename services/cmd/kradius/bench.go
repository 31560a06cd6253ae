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

	"kradius.dev/services/loadgen"
)

// The demo data's (deploy/examples/demo-data.yaml), so that `kradius bench`
// works against `make run` with no flags (with -source 127.0.0.3, the demo
// FireBrick's address, for the register and invite mixes, and -source
// 127.0.0.5, the demo Dialogic IMG's, for the dialogic mix).
const (
	demoAccounts = "account:password"
	demoDIDs     = "5551231234"
	demoSIPUsers = "office1:s3cret"
	demoRealm    = "sip.example"
	demoDialled  = "201"
)

// runBench is `kradius bench [flags]`, the load generator (services/loadgen).
// It returns 0 when the run completed, timeouts or not; 1 on a runtime error,
// an interrupted run, or with -fail-on-timeouts any timeout or bad
// authenticator; 2 on a usage error.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kradius bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.Config
	fs.StringVar(&cfg.Server, "server", "127.0.0.1:1812", "RADIUS authentication server `host:port`")
	fs.StringVar(&cfg.AcctServer, "acct-server", "", "RADIUS accounting server `host:port` for the acct and dialogic mixes (default: -server's host, port 1813)")
	fs.StringVar(&cfg.Secret, "secret", "testing123", "shared secret")
	fs.IntVar(&cfg.Concurrency, "concurrency", 16, "requests in flight, at most 256 × -sockets")
	fs.IntVar(&cfg.Sockets, "sockets", 4, "UDP sockets, each with its own 256 Identifiers")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to send (0: until -count)")
	fs.Int64Var(&cfg.Count, "count", 0, "requests to send; the run ends at -count or -duration, whichever comes first (0: no limit)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop: `N` requests per second on a schedule, whatever the replies (0: closed loop, as fast as replies come)")
	fs.DurationVar(&cfg.Timeout, "timeout", time.Second, "wait for each reply this long; there are no retransmits")
	var pf poolFlags
	fs.StringVar(&pf.mix, "mix", "login", "`spec`: login, did, acct, register, invite, dialogic, or weighted such as login=80,did=20")
	fs.StringVar(&pf.accounts, "accounts", "", "accounts as `name:password,...` (default: "+demoAccounts+" unless -pool-size)")
	fs.IntVar(&pf.poolSize, "pool-size", 0, "add `N` generated accounts, <pool-prefix>0 … <pool-prefix>N-1")
	fs.StringVar(&pf.poolPrefix, "pool-prefix", "user", "name prefix of generated accounts")
	fs.StringVar(&pf.poolPassword, "pool-password", "password", "password of generated accounts")
	fs.StringVar(&pf.dids, "dids", "", "DIDs as `number,...` (default: "+demoDIDs+" unless -did-pool-size)")
	fs.IntVar(&pf.didPoolSize, "did-pool-size", 0, "add `N` generated DIDs: <did-pool-prefix> then the index, 10 digits in all")
	fs.StringVar(&pf.didPoolPrefix, "did-pool-prefix", "555", "prefix of generated DIDs")
	fs.StringVar(&pf.sipUsers, "sip-users", "", "FireBrick SIP users as `name:password,...` (default: "+demoSIPUsers+" unless -sip-pool-size)")
	fs.IntVar(&pf.sipPoolSize, "sip-pool-size", 0, "add `N` generated SIP users, <sip-pool-prefix>0 … <sip-pool-prefix>N-1")
	fs.StringVar(&pf.sipPoolPrefix, "sip-pool-prefix", "sip", "name prefix of generated SIP users")
	fs.StringVar(&pf.sipPoolPassword, "sip-pool-password", "password", "password of generated SIP users")
	fs.StringVar(&cfg.Realm, "sip-realm", demoRealm, "the register mix's Digest-Realm; its Digest-URI is sip:<realm>")
	fs.StringVar(&pf.dialled, "dialled", "", "numbers the invite and dialogic mixes call, as `number,...` (default: "+demoDialled+" unless -dialled-pool-size)")
	fs.IntVar(&pf.dialledPoolSize, "dialled-pool-size", 0, "add `N` generated dialled numbers: <dialled-pool-prefix> then the index, 10 digits in all")
	fs.StringVar(&pf.dialledPoolPrefix, "dialled-pool-prefix", "44", "prefix of generated dialled numbers")
	fs.StringVar(&cfg.Source, "source", "", "send from this `address` (default: the system's choice); the server knows its clients by address")
	fs.StringVar(&pf.pick, "pick", "rr", "how requests draw from the pools: rr (round-robin) or random")
	asJSON := fs.Bool("json", false, "print the report as JSON (fields in services/loadgen/README.md)")
	failOnTimeouts := fs.Bool("fail-on-timeouts", false, "exit 1 if any request timed out or any reply had a bad authenticator")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kradius bench [flags]   (load generator, see services/loadgen/README.md)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has printed the error and the usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kradius bench: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if err := pf.apply(&cfg); err != nil {
		fmt.Fprintf(stderr, "kradius bench: %v\n", err)
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "kradius bench: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil && res.Sent == 0 {
		fmt.Fprintf(stderr, "kradius bench: %v\n", err)
		return 1
	}
	write := res.WriteText
	if *asJSON {
		write = res.WriteJSON
	}
	if werr := write(stdout); werr != nil {
		fmt.Fprintf(stderr, "kradius bench: writing the report: %v\n", werr)
		return 1
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "kradius bench: the run failed: %v\n", err)
		return 1
	case res.Interrupted:
		return 1
	case *failOnTimeouts && (res.Timeouts > 0 || res.BadAuthenticator > 0):
		fmt.Fprintf(stderr, "kradius bench: %d timeouts, %d bad authenticators\n", res.Timeouts, res.BadAuthenticator)
		return 1
	}
	return 0
}

// poolFlags are the flags that become the mix and the pools.
type poolFlags struct {
	mix, accounts, poolPrefix, poolPassword, dids, didPoolPrefix, pick string
	poolSize, didPoolSize                                              int

	sipUsers, sipPoolPrefix, sipPoolPassword, dialled, dialledPoolPrefix string
	sipPoolSize, dialledPoolSize                                         int
}

func (f poolFlags) apply(cfg *loadgen.Config) error {
	var err error
	if cfg.Mix, err = loadgen.ParseMix(f.mix); err != nil {
		return err
	}
	switch f.pick {
	case "rr":
	case "random":
		cfg.Random = true
	default:
		return fmt.Errorf("-pick %q: want rr or random", f.pick)
	}
	if f.poolSize < 0 || f.didPoolSize < 0 || f.sipPoolSize < 0 || f.dialledPoolSize < 0 {
		return errors.New("-pool-size, -did-pool-size, -sip-pool-size and -dialled-pool-size cannot be negative")
	}
	accounts := f.accounts
	if accounts == "" && f.poolSize == 0 {
		accounts = demoAccounts
	}
	if cfg.Accounts, err = loadgen.ParseAccounts(accounts); err != nil {
		return err
	}
	cfg.Accounts = append(cfg.Accounts, loadgen.PoolAccounts(f.poolPrefix, f.poolSize, f.poolPassword)...)
	dids := f.dids
	if dids == "" && f.didPoolSize == 0 {
		dids = demoDIDs
	}
	if cfg.DIDs, err = loadgen.ParseDIDs(dids); err != nil {
		return err
	}
	cfg.DIDs = append(cfg.DIDs, loadgen.PoolDIDs(f.didPoolPrefix, f.didPoolSize)...)
	sipUsers := f.sipUsers
	if sipUsers == "" && f.sipPoolSize == 0 {
		sipUsers = demoSIPUsers
	}
	if cfg.SIPUsers, err = loadgen.ParseAccounts(sipUsers); err != nil {
		return fmt.Errorf("-sip-users: %w", err)
	}
	cfg.SIPUsers = append(cfg.SIPUsers, loadgen.PoolAccounts(f.sipPoolPrefix, f.sipPoolSize, f.sipPoolPassword)...)
	dialled := f.dialled
	if dialled == "" && f.dialledPoolSize == 0 {
		dialled = demoDialled
	}
	if cfg.Dialled, err = loadgen.ParseDIDs(dialled); err != nil {
		return fmt.Errorf("-dialled: %w", err)
	}
	cfg.Dialled = append(cfg.Dialled, loadgen.PoolDIDs(f.dialledPoolPrefix, f.dialledPoolSize)...)
	return nil
}
