// Package loadgen is the RADIUS load generator behind `kradius bench`: it
// keeps a fixed number of FaxBack, FireBrick or Dialogic IMG requests in
// flight over a few UDP sockets, verifies every reply's Response
// Authenticator, and reports counts, throughput and latency. See README.md.
package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// idsPerSocket is the RADIUS Identifier space: one byte, per source port.
const idsPerSocket = 256

// Limits of RFC 2865 that a request template must respect.
const (
	maxNameLen     = 253 // one attribute's value
	maxPasswordLen = 128 // User-Password, §5.2
	// The Digest-URI is "sip:" and the realm, in one attribute.
	maxRealmLen = maxNameLen - len("sip:")
)

// Kind is one component of a mix.
type Kind int

// The mixes, named as on the command line.
const (
	KindLogin    Kind = iota // Get-Account / Account-Login
	KindDID                  // Get-Account-From-DID / Pre-Receive-Session
	KindAcct                 // Accounting-Request Start, then Stop, per session
	KindRegister             // FireBrick REGISTER with a digest response
	KindInvite               // FireBrick INVITE from a local phone, to be routed
	KindDialogic             // Dialogic IMG Accounting-Request Start, then Stop, per call
	numKinds
)

var kindNames = [numKinds]string{"login", "did", "acct", "register", "invite", "dialogic"}

func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Weight is a Kind's share of a mix.
type Weight struct {
	Kind   Kind
	Weight int
}

// Account is a port server login.
type Account struct {
	Name     string
	Password string
}

// Config is one run. Zero values are invalid rather than defaulted (except
// AcctServer), so that the caller states every choice: `kradius bench` holds
// the defaults.
type Config struct {
	Server      string // Access-Requests, host:port
	AcctServer  string // Accounting-Requests (acct, dialogic); empty: Server's host, port 1813
	Secret      string
	Concurrency int           // requests in flight, at most 256 per socket
	Sockets     int           // UDP sockets, each with its own Identifiers
	Duration    time.Duration // 0: until Count
	Count       int64         // 0: until Duration
	Rate        float64       // requests per second, open loop; 0: closed loop
	Timeout     time.Duration // per request; no retransmits
	Mix         []Weight
	Accounts    []Account // login and acct draw from these
	DIDs        []string  // did draws from these; acct dials them
	Random      bool      // draw from the pools at random instead of round-robin

	// SIPUsers are the FireBrick's SIP users: register draws from them,
	// invite calls from them.
	SIPUsers []Account
	Realm    string   // register's Digest-Realm, its URI sip:<Realm>
	Dialled  []string // invite and dialogic draw their Called-Station-Id from these
	// Source is the address requests are sent from; empty: the system's
	// choice. A server tells its clients apart by address, so a FireBrick
	// and a FaxBack port server on one box need different ones.
	Source string
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if _, err := resolve(c.Server); err != nil {
		bad("server: %w", err)
	}
	if c.AcctServer != "" {
		if _, err := resolve(c.AcctServer); err != nil {
			bad("acct server: %w", err)
		}
	}
	if c.Secret == "" {
		bad("secret: empty")
	}
	if c.Source != "" {
		src, err := netip.ParseAddr(c.Source)
		server, serr := resolve(c.Server)
		switch {
		case err != nil:
			bad("source: %w", err)
		case serr == nil && src.Unmap().Is4() != server.Addr().Is4():
			bad("source %s and server %s: one is IPv4, the other IPv6", c.Source, c.Server)
		}
	}
	if c.Concurrency < 1 {
		bad("concurrency: %d, want at least 1", c.Concurrency)
	}
	if c.Sockets < 1 {
		bad("sockets: %d, want at least 1", c.Sockets)
	}
	if c.Sockets >= 1 && c.Concurrency > idsPerSocket*c.Sockets {
		bad("concurrency %d exceeds the %d Identifiers of %d sockets: use at least %d sockets",
			c.Concurrency, idsPerSocket*c.Sockets, c.Sockets, (c.Concurrency+idsPerSocket-1)/idsPerSocket)
	}
	if c.Duration < 0 || c.Count < 0 || (c.Duration == 0 && c.Count == 0) {
		bad("duration %s and count %d: want a positive duration, a positive count, or both", c.Duration, c.Count)
	}
	if c.Rate < 0 {
		bad("rate: %g, want 0 (closed loop) or more", c.Rate)
	}
	if c.Timeout <= 0 {
		bad("timeout: %s, want more than 0", c.Timeout)
	}
	errs = append(errs, c.validateMix()...)
	if errs != nil {
		return fmt.Errorf("loadgen: invalid configuration: %w", errors.Join(errs...))
	}
	return nil
}

func (c Config) validateMix() []error {
	var errs []error
	if len(c.Mix) == 0 {
		errs = append(errs, errors.New("mix: empty"))
	}
	seen := map[Kind]bool{}
	for _, w := range c.Mix {
		switch {
		case w.Kind < 0 || w.Kind >= numKinds:
			errs = append(errs, fmt.Errorf("mix: unknown %s", w.Kind))
		case w.Weight < 1:
			errs = append(errs, fmt.Errorf("mix: %s has weight %d, want at least 1", w.Kind, w.Weight))
		case seen[w.Kind]:
			errs = append(errs, fmt.Errorf("mix: %s twice", w.Kind))
		}
		seen[w.Kind] = true
	}
	if (seen[KindLogin] || seen[KindAcct]) && len(c.Accounts) == 0 {
		errs = append(errs, errors.New("accounts: the login and acct mixes need at least one"))
	}
	if seen[KindDID] && len(c.DIDs) == 0 {
		errs = append(errs, errors.New("dids: the did mix needs at least one"))
	}
	for i, a := range c.Accounts {
		if a.Name == "" || len(a.Name) > maxNameLen {
			errs = append(errs, fmt.Errorf("accounts[%d]: name of %d bytes, want 1 to %d", i, len(a.Name), maxNameLen))
		}
		if len(a.Password) > maxPasswordLen {
			errs = append(errs, fmt.Errorf("accounts[%d] (%s): password of %d bytes, want at most %d", i, a.Name, len(a.Password), maxPasswordLen))
		}
	}
	for i, d := range c.DIDs {
		if d == "" || len(d) > maxNameLen {
			errs = append(errs, fmt.Errorf("dids[%d]: %d bytes, want 1 to %d", i, len(d), maxNameLen))
		}
	}
	return append(errs, c.validateSIP(seen)...)
}

func (c Config) validateSIP(seen map[Kind]bool) []error {
	var errs []error
	if (seen[KindRegister] || seen[KindInvite]) && len(c.SIPUsers) == 0 {
		errs = append(errs, errors.New("sip users: the register and invite mixes need at least one"))
	}
	if seen[KindRegister] && (c.Realm == "" || len(c.Realm) > maxRealmLen) {
		errs = append(errs, fmt.Errorf("realm: %d bytes, want 1 to %d for the register mix", len(c.Realm), maxRealmLen))
	}
	if (seen[KindInvite] || seen[KindDialogic]) && len(c.Dialled) == 0 {
		errs = append(errs, errors.New("dialled: the invite and dialogic mixes need at least one number"))
	}
	for i, u := range c.SIPUsers {
		// The invite mix's Chargeable-User-Identity is cuiPrefix + name.
		if u.Name == "" || len(cuiPrefix)+len(u.Name) > maxNameLen {
			errs = append(errs, fmt.Errorf("sip users[%d]: name of %d bytes, want 1 to %d", i, len(u.Name), maxNameLen-len(cuiPrefix)))
		}
	}
	for i, d := range c.Dialled {
		if d == "" || len(d) > maxNameLen {
			errs = append(errs, fmt.Errorf("dialled[%d]: %d bytes, want 1 to %d", i, len(d), maxNameLen))
		}
	}
	return errs
}

// has reports whether the mix includes k.
func (c Config) has(k Kind) bool {
	for _, w := range c.Mix {
		if w.Kind == k {
			return true
		}
	}
	return false
}

// accounting reports whether the mix sends Accounting-Requests, to the
// accounting server.
func (c Config) accounting() bool { return c.has(KindAcct) || c.has(KindDialogic) }

// acctServer is AcctServer, or the accounting port beside Server.
func (c Config) acctServer() string {
	if c.AcctServer != "" {
		return c.AcctServer
	}
	host, _, err := net.SplitHostPort(c.Server)
	if err != nil {
		return c.Server
	}
	return net.JoinHostPort(host, "1813")
}

// resolve turns host:port into the address replies are compared with,
// unmapped, because a UDP socket reports IPv4 sources as plain IPv4.
func resolve(hostport string) (netip.AddrPort, error) {
	ua, err := net.ResolveUDPAddr("udp", hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
	if !ap.Addr().IsValid() || ap.Addr().IsUnspecified() || ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("%q: want a host and a port", hostport)
	}
	return ap, nil
}
