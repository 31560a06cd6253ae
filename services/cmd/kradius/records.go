package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	accountsv1 "kradius.dev/proto/kradius/accounts/v1"
	adminv1 "kradius.dev/proto/kradius/admin/v1"
	didsv1 "kradius.dev/proto/kradius/dids/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/rpc"
)

// listPageSize is the page list asks for: the admin service's largest.
var listPageSize int32 = 1000

// callTimeout bounds each call, so that a server that accepts the
// connection and never answers does not hang the command.
const callTimeout = 30 * time.Second

// clients are the services the commands call: the admin API, and the
// RecordService for the profiles' kinds, which every admin endpoint serves.
type clients struct {
	adminv1.AdminServiceClient
	records recordsv1.RecordServiceClient
}

// kind is a kind of record the admin service reads and deletes, and how the
// commands show it.
type kind struct {
	// singular and plural are the names the commands accept (any case,
	// with aliases) and print.
	singular, plural string
	aliases          []string
	get              func(ctx context.Context, c clients, name string) (proto.Message, error)
	// list returns one page and the token of the next, "" after the last.
	list    func(ctx context.Context, c clients, token string) ([]proto.Message, string, error)
	del     func(ctx context.Context, c clients, name string) error
	columns []string
	row     func(proto.Message) []string
}

var kinds = append(faxbackKinds, schemaKinds(recordsvc.Kinds(profiles.All))...)

var faxbackKinds = []kind{
	{
		singular: "account", plural: "accounts",
		get: func(ctx context.Context, c clients, name string) (proto.Message, error) {
			r, err := c.GetAccount(ctx, &adminv1.GetAccountRequest{Name: name})
			return r.GetAccount(), err
		},
		list: func(ctx context.Context, c clients, token string) ([]proto.Message, string, error) {
			r, err := c.ListAccounts(ctx, &adminv1.ListAccountsRequest{PageSize: listPageSize, PageToken: token})
			return messages(r.GetAccounts()), r.GetNextPageToken(), err
		},
		del: func(ctx context.Context, c clients, name string) error {
			_, err := c.DeleteAccount(ctx, &adminv1.DeleteAccountRequest{Name: name})
			return err
		},
		columns: []string{"NAME", "TYPE", "UUID", "LOGIN GROUP", "PASSWORD", "SEND", "RECEIVE", "CALL-AHEAD", "MODIFIED"},
		row: func(m proto.Message) []string {
			a := m.(*accountsv1.Account)
			return []string{a.GetName(), strconv.FormatUint(uint64(a.GetType()), 10), a.GetUuid(), a.GetLoginGroup(),
				yesNo(a.GetHasPassword()), enabled(!a.GetSendDisabled()), enabled(!a.GetReceiveDisabled()),
				orDefault(a.GetCallAheadMode(), "dynamic"), when(a.GetLastModified())}
		},
	},
	{
		singular: "DID", plural: "DIDs",
		get: func(ctx context.Context, c clients, number string) (proto.Message, error) {
			r, err := c.GetDID(ctx, &adminv1.GetDIDRequest{Number: number})
			return r.GetDid(), err
		},
		list: func(ctx context.Context, c clients, token string) ([]proto.Message, string, error) {
			r, err := c.ListDIDs(ctx, &adminv1.ListDIDsRequest{PageSize: listPageSize, PageToken: token})
			return messages(r.GetDids()), r.GetNextPageToken(), err
		},
		del: func(ctx context.Context, c clients, number string) error {
			_, err := c.DeleteDID(ctx, &adminv1.DeleteDIDRequest{Number: number})
			return err
		},
		columns: []string{"NUMBER", "ACCOUNT", "ENABLED", "LINE", "LINE ID", "ANI"},
		row: func(m proto.Message) []string {
			d := m.(*didsv1.DID)
			line := ""
			if d.GetHasLineNum() {
				line = strconv.FormatUint(uint64(d.GetLineNum()), 10)
			}
			return []string{d.GetNumber(), d.GetAccount(), yesNo(!d.GetDisabled()), line, d.GetLineId(), d.GetAni()}
		},
	},
	{
		singular: "group", plural: "groups",
		get: func(ctx context.Context, c clients, name string) (proto.Message, error) {
			r, err := c.GetGroup(ctx, &adminv1.GetGroupRequest{Name: name})
			return r.GetGroup(), err
		},
		list: func(ctx context.Context, c clients, token string) ([]proto.Message, string, error) {
			r, err := c.ListGroups(ctx, &adminv1.ListGroupsRequest{PageSize: listPageSize, PageToken: token})
			return messages(r.GetGroups()), r.GetNextPageToken(), err
		},
		del: func(ctx context.Context, c clients, name string) error {
			_, err := c.DeleteGroup(ctx, &adminv1.DeleteGroupRequest{Name: name})
			return err
		},
		columns: []string{"NAME", "TYPE", "MEMBERS", "UUID"},
		row: func(m proto.Message) []string {
			g := m.(*adminv1.Group)
			return []string{g.GetName(), strconv.FormatUint(uint64(g.GetType()), 10), strings.Join(g.GetMembers(), ","), g.GetUuid()}
		},
	},
	{
		singular: "called number", plural: "called numbers",
		aliases: []string{"called-number", "called-numbers", "callednumber", "callednumbers"},
		get: func(ctx context.Context, c clients, number string) (proto.Message, error) {
			r, err := c.GetCalledNumber(ctx, &adminv1.GetCalledNumberRequest{Number: number})
			return r.GetCalledNumber(), err
		},
		list: func(ctx context.Context, c clients, token string) ([]proto.Message, string, error) {
			r, err := c.ListCalledNumbers(ctx, &adminv1.ListCalledNumbersRequest{PageSize: listPageSize, PageToken: token})
			return messages(r.GetCalledNumbers()), r.GetNextPageToken(), err
		},
		del: func(ctx context.Context, c clients, number string) error {
			_, err := c.DeleteCalledNumber(ctx, &adminv1.DeleteCalledNumberRequest{Number: number})
			return err
		},
		columns: []string{"NUMBER", "FAX VERIFIED", "VOICE ERROR", "UPDATED"},
		row: func(m proto.Message) []string {
			n := m.(*didsv1.CalledNumber)
			return []string{n.GetNumber(), yesNo(n.GetFaxVerified()), yesNo(n.GetVoiceError()), when(n.GetUpdated())}
		},
	},
}

// kindNames is how usage and errors list the kinds.
var kindNames = "account(s), did(s), group(s), called-number(s)" + schemaKindNames()

func schemaKindNames() string {
	var b strings.Builder
	for _, k := range recordsvc.Kinds(profiles.All) {
		b.WriteString(", " + k.Name)
	}
	return b.String()
}

// schemaKinds are the commands' view of the profiles' kinds with a Schema:
// read through the RecordService, listed and deleted through the admin
// API, shown as the key and the message's fields but its secrets.
func schemaKinds(ks []recordsvc.Kind) []kind {
	out := make([]kind, len(ks))
	for i, k := range ks {
		fields := shownFields(k)
		columns := []string{"KEY"}
		for _, f := range fields {
			columns = append(columns, strings.ToUpper(f.JSONName()))
		}
		out[i] = kind{
			singular: k.Name, plural: k.Name,
			get: func(ctx context.Context, c clients, key string) (proto.Message, error) {
				r, err := c.records.GetRecord(ctx, &recordsv1.GetRecordRequest{Kind: k.Name, Key: key})
				return r.GetRecord(), err
			},
			list: func(ctx context.Context, c clients, token string) ([]proto.Message, string, error) {
				r, err := c.ListRecords(ctx, &recordsv1.ListRecordsRequest{Kind: k.Name, PageSize: uint32(listPageSize), PageToken: token})
				return messages(r.GetRecords()), r.GetNextPageToken(), err
			},
			del: func(ctx context.Context, c clients, key string) error {
				_, err := c.DeleteRecord(ctx, &recordsv1.DeleteRecordRequest{Kind: k.Name, Key: key})
				return err
			},
			columns: columns,
			row: func(m proto.Message) []string {
				rec := m.(*recordsv1.Record)
				cells := []string{rec.GetKey()}
				v, err := rec.GetValue().UnmarshalNew()
				if err != nil {
					return append(cells, "(undecodable: "+err.Error()+")")
				}
				for _, f := range fields {
					cells = append(cells, fieldText(v.ProtoReflect(), f))
				}
				return cells
			},
		}
	}
	return out
}

// shownFields are a kind's fields but those its Redact clears: a secret
// column would only ever read "-".
func shownFields(k recordsvc.Kind) []protoreflect.FieldDescriptor {
	probe := k.Message.ProtoReflect().New()
	fds := probe.Descriptor().Fields()
	for i := range fds.Len() {
		if f := fds.Get(i); f.Kind() == protoreflect.StringKind && !f.IsList() && !f.IsMap() {
			probe.Set(f, protoreflect.ValueOfString("x"))
		}
	}
	if k.Redact != nil {
		k.Redact(probe.Interface())
	}
	var out []protoreflect.FieldDescriptor
	for i := range fds.Len() {
		f := fds.Get(i)
		if f.Kind() == protoreflect.StringKind && !f.IsList() && !f.IsMap() && !probe.Has(f) {
			continue // cleared by Redact: a secret
		}
		out = append(out, f)
	}
	return out
}

// fieldText prints one field in a table cell: scalars as they are, lists
// comma-joined, messages as compact JSON.
func fieldText(m protoreflect.Message, f protoreflect.FieldDescriptor) string {
	if !m.Has(f) {
		return ""
	}
	v := m.Get(f)
	switch {
	case f.IsList():
		parts := make([]string, v.List().Len())
		for i := range parts {
			parts[i] = v.List().Get(i).String()
		}
		return strings.Join(parts, ",")
	case f.Message() != nil && !f.IsMap():
		b, err := protojson.Marshal(v.Message().Interface())
		if err != nil {
			return "(" + err.Error() + ")"
		}
		return string(b)
	}
	return v.String()
}

func findKind(name string) (kind, bool) {
	name = strings.ToLower(name)
	for _, k := range kinds {
		if name == strings.ToLower(k.singular) || name == strings.ToLower(k.plural) {
			return k, true
		}
		for _, a := range k.aliases {
			if name == a {
				return k, true
			}
		}
	}
	return kind{}, false
}

// runRecords is `kradius get|list|delete KIND [NAME]`: it reads and deletes
// records through the admin service of a running kradius, as import writes
// them. It returns the exit code: 0, 1 when the call fails or the record
// does not exist, 2 for a usage error.
func runRecords(verb string, args []string, stdout, stderr io.Writer) int {
	prog := "kradius " + verb
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr, tlsCfg := adminFlags(fs)
	format := fs.String("o", "table", "output: table (aligned columns) or json (protojson; list prints one array)")
	operand := "KIND NAME"
	if verb == "list" {
		operand = "KIND"
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kradius %s [flags] %s   (KIND: %s)\n", verb, operand, kindNames)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	want := 2
	if verb == "list" {
		want = 1
	}
	if len(pos) == 0 {
		fs.Usage()
		return 2
	}
	k, ok := findKind(pos[0])
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown kind %q; the kinds are %s\n", prog, pos[0], kindNames)
		return 2
	}
	switch {
	case len(pos) < want:
		fmt.Fprintf(stderr, "%s: which %s? usage: kradius %s %s NAME (all of them: kradius list %s)\n", prog, k.singular, verb, pos[0], k.plural)
		return 2
	case len(pos) > want:
		fmt.Fprintf(stderr, "%s: too many arguments (%s); usage: kradius %s [flags] %s\n", prog, strings.Join(pos[want:], " "), verb, operand)
		return 2
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "%s: -o %q: want table or json\n", prog, *format)
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
	c := clients{AdminServiceClient: adminv1.NewAdminServiceClient(conn), records: recordsv1.NewRecordServiceClient(conn)}
	fail := func(err error, name string) int {
		if status.Code(err) == codes.Unimplemented {
			fmt.Fprintf(stderr, "%s: the admin service at %s keeps no %s: %v\n", prog, *addr, k.plural, err)
			return 1
		}
		err = rpc.FromStatus(err)
		if errors.Is(err, fbdata.ErrNotFound) {
			fmt.Fprintf(stderr, "%s: %s %q not found", prog, k.singular, name)
			if strings.Contains(err.Error(), "not a load-balance group") {
				fmt.Fprint(stderr, ": that account is not a load-balance group")
			}
			fmt.Fprintln(stderr)
		} else {
			fmt.Fprintf(stderr, "%s: admin service at %s: %v\n", prog, *addr, err)
		}
		return 1
	}

	switch verb {
	case "delete":
		name := pos[1]
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		if err := k.del(cctx, c, name); err != nil {
			return fail(err, name)
		}
		fmt.Fprintf(stdout, "deleted %s %q\n", k.singular, name)
		return 0
	case "get":
		name := pos[1]
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		m, err := k.get(cctx, c, name)
		if err != nil {
			return fail(err, name)
		}
		if *format == "json" {
			return writeJSON(stdout, stderr, prog, false, m)
		}
		return writeTable(stdout, stderr, prog, k, []proto.Message{m})
	}
	var all []proto.Message
	for token := ""; ; {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		page, next, err := k.list(cctx, c, token)
		cancel()
		if err != nil {
			return fail(err, "")
		}
		all = append(all, page...)
		if token = next; token == "" {
			break
		}
	}
	if *format == "json" {
		return writeJSON(stdout, stderr, prog, true, all...)
	}
	if len(all) == 0 {
		fmt.Fprintf(stderr, "no %s\n", k.plural)
		return 0
	}
	return writeTable(stdout, stderr, prog, k, all)
}

// parseInterleaved parses flags wherever they stand among the operands
// (kubectl style: `kradius get account alice -o json`), except after "--".
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// writeTable prints one row per record under the kind's column heads. An
// empty value prints as "-", so that every column stays readable.
func writeTable(stdout, stderr io.Writer, prog string, k kind, ms []proto.Message) int {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(k.columns, "\t"))
	for _, m := range ms {
		cells := k.row(m)
		for i, c := range cells {
			if c == "" {
				cells[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	return 0
}

// writeJSON prints one record as a JSON object, or a list (which may be
// empty) as one array, in the API's JSON field names. protojson's spacing is
// deliberately unstable, so the text is indented afresh.
func writeJSON(stdout, stderr io.Writer, prog string, array bool, ms ...proto.Message) int {
	var raw []byte
	if !array {
		b, err := protojson.Marshal(ms[0])
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 1
		}
		raw = b
	} else {
		raw = append(raw, '[')
		for i, m := range ms {
			b, err := protojson.Marshal(m)
			if err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", prog, err)
				return 1
			}
			if i > 0 {
				raw = append(raw, ',')
			}
			raw = append(raw, b...)
		}
		raw = append(raw, ']')
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	out.WriteByte('\n')
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	return 0
}

func messages[M proto.Message](ms []M) []proto.Message {
	out := make([]proto.Message, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func enabled(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// when prints a time in UTC to the second, the same width on every row.
func when(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}
