package nas

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	accountingv1 "kradius.dev/proto/kradius/accounting/v1"
	settlementv1 "kradius.dev/proto/kradius/settlement/v1"
	"kradius.dev/services/dids"
	"kradius.dev/services/nas/faxback/fbdata"
)

// Plugin is one NAS family as the machinery sees it: everything the edge,
// the config, the consumer and the docs need to know, declared in one value
// that the profile's package exports and services/nas/profiles lists. The
// edge, the services and the consumer never name a profile; they look its
// plugin up by the client's or the record's profile name.
type Plugin struct {
	// Name is the value of a client's `profile` key, the Record's and the
	// CDR's profile field, the label of the profile's metrics, and the key of
	// its per-client options block.
	Name string
	// Summary is one line for the docs and the CRD.
	Summary string
	// Options decodes and validates one client's options block: the YAML
	// under the client's key named Name, nil when the client has none. It
	// returns the value New's Profile.Client takes. Errors name the key under
	// the block (see OptionError), so the config reports
	// edge.clients[2].faxback.uuid_format.
	Options func(block *yaml.Node) (any, error)
	// New builds the profile once per process, from the backends of the
	// target it runs in. It registers the profile's metrics on Metrics.
	New func(Deps) (Profile, error)
	// Sessions builds the profile's part of the accounting consumer: its CDR
	// block and the effects of a finished session. Nil: its CDRs carry the
	// common fields only, and a finished session has no other effect.
	Sessions func(SessionDeps) Sessions
	// Kinds are the data kinds the profile owns, for the docs and the admin
	// tools; each is provisioned by import, the admin API and its CRD.
	Kinds []Kind
	// MessageAuthenticator is the Message-Authenticator policy of a client
	// that sets none ("require", "auto" or "off"); empty is "auto". A NAS
	// family that always signs its requests takes "require".
	MessageAuthenticator string
}

// Kind is a kind of record a profile owns.
type Kind struct {
	// Name is the kind's name in the import format and the CLI
	// ("accounts", "dids").
	Name string
	// Shared kinds are named without their profile ("carriers"): several
	// profiles list the same one and read the same records.
	Shared bool
	// Key is the field that names a record of the kind.
	Key string
	// Unique lists the other fields whose values no two records share.
	Unique []string
	// Refs lists the fields that name records of another kind, as
	// "field -> kind"; a write that breaks one is refused.
	Refs []string
	// Schema, when set, lets the profile-neutral machinery carry the
	// kind's records: the records service, the admin API, the import
	// format and the CLI, under the name "<profile>.<Name>". The FaxBack
	// kinds have none: they keep the typed RPCs of the accounts and dids
	// services, which their batching and edge cache are built on.
	Schema *Schema
}

// FullName is the kind's name in the records service, the import format
// and the CLI, when profile lists it: "<profile>.<Name>", or Name alone for
// a shared kind.
func (k Kind) FullName(profile string) string {
	if k.Shared {
		return k.Name
	}
	return profile + "." + k.Name
}

// Profile is a plugin built for one process.
type Profile interface {
	// Client returns the handler for one client, given the options its
	// Plugin.Options decoded. The handler answers Access-Requests, and
	// Accounting-Requests when it also implements AccountingHandler.
	Client(options any) (Handler, error)
}

// Accounts is the accounts service as the profiles see it: in-process in
// -target=all, a gRPC client (with the edge cache) otherwise. Lookups return
// an error wrapping fbdata.ErrNotFound for what does not exist, and
// Authenticate one wrapping accounts.ErrWrongPassword for a wrong password;
// any other error means the answer is unknown, and the request gets no reply.
type Accounts interface {
	Authenticate(ctx context.Context, name, password string) (fbdata.Account, error)
	Get(ctx context.Context, name string) (fbdata.Account, error)
	AccountBy(ctx context.Context, idx fbdata.Index, value string) (fbdata.Account, error)
}

// DIDs is the dids service as the profiles see it: see Accounts.
type DIDs interface {
	// Route is a DID with the account it routes to, read together.
	Route(ctx context.Context, number string) (dids.Route, error)
	DIDsForAccount(ctx context.Context, name string) ([]fbdata.DID, error)
	CalledNumber(ctx context.Context, number string) (fbdata.CalledNumber, error)
}

// Deps are what a target gives the profiles it serves.
type Deps struct {
	// Accounts and DIDs are the FaxBack kinds' typed services.
	Accounts Accounts
	DIDs     DIDs
	// Records reads and verifies the records of kinds with a Schema.
	Records Records
	// Metrics takes the profile's collectors; their names start with
	// kradius_<profile>_.
	Metrics prometheus.Registerer
	Log     *slog.Logger
	// Host is the edge's host name, recorded in accounting records.
	Host string
}

// SessionDeps are what the accounting consumer gives the profiles.
type SessionDeps struct {
	// Store is the serving store, for effects that update it.
	Store fbdata.Store
	// Records reads the profiles' kinds (the carriers, for settlement).
	Records Records
	// Metrics takes the profile's collectors; Log its lines.
	Metrics prometheus.Registerer
	Log     *slog.Logger
}

// Settlement keeps the per-period totals of inter-carrier settlement
// records for the report (services/settlement); the consumer counts each
// Stop's record of a Settler profile in it.
type Settlement interface {
	// Add counts each record once: a record whose session was counted
	// before (a Stop the log holds twice) is not counted again.
	Add(ctx context.Context, recs []*settlementv1.Record) error
}

// Sessions is a profile's part of the accounting consumer.
type Sessions interface {
	// CDR fills the profile's block of c, the CDR of the Stop rec, whose
	// common fields are already set.
	CDR(rec *accountingv1.Record, c *accountingv1.CDR)
	// Effects are what a finished session makes happen besides its CDR. The
	// consumer runs each at most once per (session, status), so Run need not
	// be idempotent, though a run cut short before it is marked done repeats.
	Effects(rec *accountingv1.Record) []Effect
	// EffectKinds are the kinds Effects may return, for the metrics.
	EffectKinds() []string
}

// Settler is a Sessions whose Stops settle between carriers (Dialogic):
// the consumer asks once for each Stop's settlement record, counts it in
// the period totals (SessionDeps.Settlement), puts it in the Stop's CDR
// and, on Kafka, on kradius.settlement.v1, each once.
type Settler interface {
	// Settle is the Stop's settlement record. An error means it cannot be
	// known now (the carriers' table is not live): the batch waits.
	Settle(rec *accountingv1.Record) (*settlementv1.Record, error)
}

// Runner is a Profile, or a Sessions, with work of its own for as long as
// the process serves (keeping a table current from the records' watch).
// The process runs Run until it stops; Run returns nil then, and retries
// what fails in between itself, so an error is the process's end.
type Runner interface {
	Run(ctx context.Context) error
}

// Calls is implemented by a profile's Sessions whose CDR is a call's: its
// sessions are the legs of calls (FireBrick), and the consumer publishes
// one CDR per call, once every leg it has seen begin has stopped, instead
// of one per session. The profile keys a call's records alike in the log
// (accounting.Record.Key), so that one consumer sees them in order.
type Calls interface {
	// CallOf is the call of rec; "" for a session of no call, which gets
	// its own CDR.
	CallOf(rec *accountingv1.Record) string
	// CallCDR fills the profile's block of c, the CDR of call, from the
	// records of its legs (Starts, Interim-Updates and Stops, in log
	// order). c's common fields are the last Stop's, with SessionId the
	// call.
	CallCDR(call string, legs []*accountingv1.Record, c *accountingv1.CDR)
}

// Effect is one thing a finished session makes happen.
type Effect struct {
	// Kind names it in the consumer's ledger and metrics ("called-number").
	Kind string
	Run  func(ctx context.Context) error
}

// OptionError is a bad per-client option: Key is its path under the
// profile's options block ("uuid_format").
type OptionError struct {
	Key    string
	Reason string
}

func (e *OptionError) Error() string { return e.Key + ": " + e.Reason }

// DecodeOptions decodes a profile's options block into dst, a pointer to a
// struct whose fields carry yaml tags, one key at a time so that an error
// names its key. A key dst has no field for is refused. A nil block leaves
// dst as it is.
func DecodeOptions(block *yaml.Node, dst any) error {
	if block == nil {
		return nil
	}
	if block.Kind != yaml.MappingNode {
		return &OptionError{Reason: fmt.Sprintf("line %d: must be a mapping of options", block.Line)}
	}
	v := reflect.ValueOf(dst).Elem()
	fields := map[string]reflect.Value{}
	for i := range v.NumField() {
		if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			fields[tag] = v.Field(i)
		}
	}
	for i := 0; i+1 < len(block.Content); i += 2 {
		key, value := block.Content[i].Value, block.Content[i+1]
		f, ok := fields[key]
		if !ok {
			known := slices.Sorted(maps.Keys(fields))
			if len(known) == 0 {
				return &OptionError{Key: key, Reason: "unknown option: the profile has none"}
			}
			return &OptionError{Key: key, Reason: "unknown option (known: " + strings.Join(known, ", ") + ")"}
		}
		if err := value.Decode(f.Addr().Interface()); err != nil {
			return &OptionError{Key: key, Reason: strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")}
		}
	}
	return nil
}
