// Package faxback answers the FaxBack Port Server (vendor 30694): Access-Requests
// whose FB-Command and FB-Context say what to look up and why. README.md has
// the command table.
package faxback

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/accounting"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/nas/faxback/fbdata"
)

// Dictionary is dictionary.faxback, for tools and tests that decode by name.
//
//go:embed dictionary.faxback
var Dictionary []byte

// Options are a client's FaxBack settings: the client's `faxback:` block.
type Options struct {
	// UUIDFormat turns UUID mode on for the client (seed: "UUID Mode").
	UUIDFormat UUIDFormat `yaml:"uuid_format"`
}

// Profile is the FaxBack profile, shared by its clients.
type Profile struct {
	accounts nas.Accounts
	dids     nas.DIDs
	dict     *accounting.Dictionary
	edge     string // host name, recorded in accounting records
	requests *requestCounters
	unknown  prometheus.Counter
}

// NewProfile builds the profile and registers its metrics.
func NewProfile(accounts nas.Accounts, dids nas.DIDs, reg prometheus.Registerer) *Profile {
	dict, err := accounting.NewDictionary(Dictionary)
	if err != nil {
		panic(fmt.Sprintf("faxback: the embedded dictionary does not parse: %v", err)) // caught by every test
	}
	host, _ := os.Hostname()
	p := &Profile{
		accounts: accounts,
		dids:     dids,
		dict:     dict,
		edge:     host,
		requests: newRequestCounters(),
		unknown: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kradius_faxback_unknown_commands_total",
			Help: "Access-Requests whose FB-Command/FB-Context pair is not in the seed's table, or missing; each got a Reject.",
		}),
	}
	reg.MustRegister(p.requests.vec, p.unknown)
	return p
}

// ForClient returns the handler for one client's options.
func (p *Profile) ForClient(o Options) nas.Handler { return &handler{Profile: p, opts: o} }

type handler struct {
	*Profile
	opts Options
}

// query is one decoded request on its way through a route.
type query struct {
	pkt *radius.Packet
	fb  *Request
}

func (q *query) userName() string { return rfc2865.UserName_GetString(q.pkt) }

type command struct{ cmd, ctx uint32 }

type route func(h *handler, ctx context.Context, q *query) (*radius.Packet, error)

// routes is the seed's command table, by the numbers the port server sends.
// Where the manual's labels disagree with its packets, both readings are
// routed (README.md, "Where the manual disagrees with itself").
var routes = map[command]route{
	{1, 1}: (*handler).accountLogin,
	{1, 2}: (*handler).accountValidate,
	{1, 3}: (*handler).accountPreSend,
	{1, 4}: (*handler).accountPreReceive,
	{1, 5}: (*handler).accountExternal,
	{2, 4}: (*handler).fromDIDPreReceive,
	{2, 5}: (*handler).fromDIDExternal,
	{3, 5}: (*handler).fromSenderEmail,
	{4, 3}: (*handler).groupMembers, // labelled "Pre-Send-Session (4)"
	{4, 4}: (*handler).groupMembers,
	{5, 3}: (*handler).callAheadMode,
	{6, 5}: (*handler).fromSerialNumber,
	{7, 5}: (*handler).fromMACAddress,
	{8, 3}: (*handler).didPreSend, // For-External-Module is printed with context 3 too
	{8, 5}: (*handler).didExternal,
	{9, 5}: (*handler).didsForAccount,
}

// ServeAccounting implements nas.AccountingHandler: the record of one
// Start, Alive (Interim-Update) or Stop, with the FaxBack VSAs by name.
func (h *handler) ServeAccounting(_ context.Context, req *nas.AccountingRequest, dst []byte) (accounting.Record, error) {
	return nas.Record(dst, req, Plugin.Name, h.edge, h.dict)
}

// rejection is a route's "no": the edge sends an Access-Reject carrying msg
// as Reply-Message (none when empty).
type rejection struct{ msg string }

func (r *rejection) Error() string { return "reject: " + r.msg }

func reject(format string, args ...any) error { return &rejection{msg: fmt.Sprintf(format, args...)} }

// ServeAccess implements nas.Handler.
func (h *handler) ServeAccess(ctx context.Context, req *nas.Request) (*radius.Packet, error) {
	fb, err := Decode(req.Packet)
	req.Kind = "unknown"
	if fb != nil {
		req.Kind = kindOf(fb.Command, fb.Context)
	}
	if errors.Is(err, errNoCommand) || errors.Is(err, errNoContext) {
		h.unknown.Inc()
		h.requests.inc(0, 0, rejected)
		return rejectPacket(req.Packet, "FaxBack request without "+map[bool]string{true: "FB-Command", false: "FB-Context"}[errors.Is(err, errNoCommand)])
	}
	if err != nil {
		h.requests.inc(0, 0, dropped)
		return nil, err
	}
	route, ok := routes[command{fb.Command, fb.Context}]
	if !ok {
		h.unknown.Inc()
		h.requests.inc(fb.Command, fb.Context, rejected)
		return rejectPacket(req.Packet, fmt.Sprintf("unknown FB-Command/FB-Context %d/%d", fb.Command, fb.Context))
	}
	reply, err := route(h, ctx, &query{pkt: req.Packet, fb: fb})
	var no *rejection
	switch {
	case errors.As(err, &no):
		h.requests.inc(fb.Command, fb.Context, rejected)
		return rejectPacket(req.Packet, no.msg)
	case err != nil:
		h.requests.inc(fb.Command, fb.Context, dropped)
		return nil, fmt.Errorf("%s/%s: %w", commandName(fb.Command), contextName(fb.Context), err)
	}
	h.requests.inc(fb.Command, fb.Context, accepted)
	return reply, nil
}

func rejectPacket(req *radius.Packet, msg string) (*radius.Packet, error) {
	r := newReply(req, radius.CodeAccessReject)
	r.str(rfc2865.ReplyMessage_SetString, msg)
	return r.done()
}

// identify finds the account a request is about: by FB-Account-UUID when
// present (UUID mode; the port server never sends both), else by User-Name.
func (h *handler) identify(ctx context.Context, q *query) (fbdata.Account, error) {
	raw, ok, err := q.fb.Lookup(attrAccountUUID)
	if err != nil {
		return fbdata.Account{}, err
	}
	if ok {
		u, err := decodeUUID(raw)
		if err != nil {
			return fbdata.Account{}, malformed(fmt.Errorf("FB-Account-UUID: %w", err))
		}
		a, err := h.accounts.AccountBy(ctx, fbdata.IndexUUID, u)
		if errors.Is(err, fbdata.ErrNotFound) {
			return a, reject("unknown account UUID %s", u)
		}
		return a, err
	}
	name := q.userName()
	if name == "" {
		return fbdata.Account{}, reject("User-Name missing")
	}
	a, err := h.accounts.Get(ctx, name)
	if errors.Is(err, fbdata.ErrNotFound) {
		return a, reject("unknown account %q", name)
	}
	return a, err
}

// uuidMode reports whether the client runs UUID mode.
func (h *handler) uuidMode() bool { return h.opts.UUIDFormat != UUIDOff }

// addUUID adds an account's UUID in the client's format with add.
func (h *handler) addUUID(r *reply, add func(*radius.Packet, []byte) error, canonical string) {
	if canonical == "" {
		r.add(errors.New("account has no UUID"))
		return
	}
	b, err := encodeUUID(canonical, h.opts.UUIDFormat)
	if err != nil {
		r.add(fmt.Errorf("stored UUID %q: %w", canonical, err))
		return
	}
	r.add(add(r.p, b))
}

// addFailoverUUID adds FB-Rcv-Failover-Account-UUID for a's failover account.
// A failover account that no longer exists has no UUID to give: it is left
// out, as the name is still sent.
func (h *handler) addFailoverUUID(ctx context.Context, r *reply, a fbdata.Account) {
	if a.RcvFailoverAccount == "" {
		return
	}
	f, err := h.accounts.Get(ctx, a.RcvFailoverAccount)
	switch {
	case errors.Is(err, fbdata.ErrNotFound):
	case err != nil:
		r.add(fmt.Errorf("failover account %q: %w", a.RcvFailoverAccount, err))
	default:
		h.addUUID(r, fbattr.FBRcvFailoverAccountUUID_Add, f.UUID)
	}
}

// commandName and contextName are bounded metric labels.
// routeKinds are the request kinds (nas.Request.Kind) of the routed
// commands, "command/context", made once: every other pair is "unknown".
var routeKinds = func() map[command]string {
	m := make(map[command]string, len(routes))
	for c := range routes {
		m[c] = commandName(c.cmd) + "/" + contextName(c.ctx)
	}
	return m
}()

func kindOf(cmd, ctx uint32) string {
	if k, ok := routeKinds[command{cmd, ctx}]; ok {
		return k
	}
	return "unknown"
}

func commandName(v uint32) string {
	if s, ok := fbattr.FBCommand_Strings[fbattr.FBCommand(v)]; ok {
		return s
	}
	return "unknown"
}

func contextName(v uint32) string {
	if s, ok := fbattr.FBContext_Strings[fbattr.FBContext(v)]; ok {
		return s
	}
	return "unknown"
}
