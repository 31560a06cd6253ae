// Package faxback answers the FaxBack Port Server (vendor 30694): Access-Requests
// whose FB-Command and FB-Context say what to look up and why. See README.md
// for the command table.
package faxback

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"kradius.dev/services/accounts"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbattr"
	"kradius.dev/services/store"
)

// Dictionary is dictionary.faxback, for tools and tests that decode by name.
//
//go:embed dictionary.faxback
var Dictionary []byte

// Accounts is what the profile needs from the accounts service.
type Accounts interface {
	// Authenticate checks a PAP password. It returns an error wrapping
	// store.ErrNotFound for an unknown account and accounts.ErrWrongPassword
	// for a wrong password; any other error means the answer is unknown.
	Authenticate(ctx context.Context, name, password string) (store.Account, error)
}

// Handler is the FaxBack profile.
type Handler struct {
	accounts Accounts
	requests *prometheus.CounterVec
}

// New builds the profile.
func New(accounts Accounts, reg prometheus.Registerer) *Handler {
	h := &Handler{
		accounts: accounts,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kradius_faxback_requests_total",
			Help: "FaxBack Access-Requests by FB-Command, FB-Context and result (accept, reject, dropped).",
		}, []string{"command", "context", "result"}),
	}
	reg.MustRegister(h.requests)
	return h
}

type command struct{ cmd, ctx uint32 }

// ServeAccess implements nas.Handler.
func (h *Handler) ServeAccess(ctx context.Context, req *nas.Request) (*radius.Packet, error) {
	r, err := Decode(req.Packet)
	if errors.Is(err, errNoCommand) || errors.Is(err, errNoContext) {
		h.count(0, 0, "reject")
		return reject(req.Packet, "FaxBack request without "+map[bool]string{true: "FB-Command", false: "FB-Context"}[errors.Is(err, errNoCommand)])
	}
	if err != nil {
		h.count(0, 0, "dropped")
		return nil, err
	}
	reply, err := h.dispatch(ctx, req, r)
	switch {
	case err != nil:
		h.count(r.Command, r.Context, "dropped")
	case reply.Code == radius.CodeAccessAccept:
		h.count(r.Command, r.Context, "accept")
	default:
		h.count(r.Command, r.Context, "reject")
	}
	return reply, err
}

func (h *Handler) dispatch(ctx context.Context, req *nas.Request, r *Request) (*radius.Packet, error) {
	switch (command{r.Command, r.Context}) {
	case command{uint32(fbattr.FBCommand_Value_GetAccount), uint32(fbattr.FBContext_Value_AccountLogin)}:
		return h.login(ctx, req, true)
	case command{uint32(fbattr.FBCommand_Value_GetAccount), uint32(fbattr.FBContext_Value_AccountValidate)}:
		return h.login(ctx, req, false)
	}
	if known(r.Command, r.Context) {
		// A command the seed defines but this build does not answer yet: silence
		// lets the port server fail over, where a Reject would be false.
		return nil, &nas.Drop{Reason: nas.ReasonUnsupported, Err: fmt.Errorf("%s / %s is not implemented yet", commandName(r.Command), contextName(r.Context))}
	}
	return reject(req.Packet, fmt.Sprintf("unknown FB-Command/FB-Context %d/%d", r.Command, r.Context))
}

// login answers Get-Account / Account-Login and Account-Validate: Accept for
// the right password, with FB-Account-Type (required by fax ATAs) and, on
// login, FB-Account-Login-Group.
func (h *Handler) login(ctx context.Context, req *nas.Request, withGroup bool) (*radius.Packet, error) {
	name, err := rfc2865.UserName_LookupString(req.Packet)
	if err != nil || name == "" {
		return reject(req.Packet, "User-Name missing")
	}
	password, err := nas.PAPPassword(req.Packet)
	if errors.Is(err, nas.ErrNoPassword) {
		return reject(req.Packet, "User-Password missing")
	}
	if err != nil {
		return nil, err
	}
	acct, err := h.accounts.Authenticate(ctx, name, password)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, accounts.ErrWrongPassword):
		return reject(req.Packet, "")
	case err != nil:
		return nil, fmt.Errorf("authenticating %q: %w", name, err)
	}
	reply := req.Packet.Response(radius.CodeAccessAccept)
	if err := fbattr.FBAccountType_Add(reply, fbattr.FBAccountType(acct.Type)); err != nil {
		return nil, err
	}
	if withGroup && acct.LoginGroup != "" {
		if err := fbattr.FBAccountLoginGroup_AddString(reply, acct.LoginGroup); err != nil {
			return nil, err
		}
	}
	return reply, nil
}

// reject builds an Access-Reject, with a Reply-Message saying why when there
// is something to say. A wrong password gets none, so as not to tell an
// attacker which of name and password was wrong.
func reject(req *radius.Packet, why string) (*radius.Packet, error) {
	reply := req.Response(radius.CodeAccessReject)
	if why != "" {
		if err := rfc2865.ReplyMessage_SetString(reply, why); err != nil {
			return nil, err
		}
	}
	return reply, nil
}

func (h *Handler) count(cmd, ctx uint32, result string) {
	h.requests.WithLabelValues(commandName(cmd), contextName(ctx), result).Inc()
}

// seedTable is every FB-Command / FB-Context pair the seed lists, by the
// numbers the port server sends (README.md explains the seed's mislabels).
var seedTable = map[command]bool{
	{1, 1}: true, {1, 2}: true, {1, 3}: true, {1, 4}: true, {1, 5}: true, // Get-Account
	{2, 4}: true, {2, 5}: true, // Get-Account-From-DID
	{3, 5}: true,               // Get-Account-From-Sender-Email-Address
	{4, 4}: true,               // Get-Load-Balance-Group-Members (labelled "Pre-Send-Session (4)")
	{5, 3}: true,               // Get-Call-Ahead-Mode
	{6, 5}: true,               // Get-Account-From-Serial-Number
	{7, 5}: true,               // Get-Account-From-MAC-Address
	{8, 3}: true, {8, 5}: true, // Get-DID
	{9, 5}: true, // Get-DIDs-For-Account (the table says 8, the packet 9)
}

// known reports whether the seed's command table lists cmd/ctx.
func known(cmd, ctx uint32) bool { return seedTable[command{cmd, ctx}] }

// commandName and contextName are bounded metric labels.
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
