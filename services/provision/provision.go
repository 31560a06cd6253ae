// Package provision reads provisioning files — accounts, DIDs and called
// numbers in YAML or JSON — into a fbdata.Batch. It writes nothing: the
// caller hands the batch to fbdata.Apply, which is atomic, so a bad file
// changes nothing.
package provision

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	"kradius.dev/services/nas"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
	"kradius.dev/services/store/records"
)

// file is the document layout. Field names are camelCase because they will
// become CRD field names, and match the JSON names of fbdata.Account and
// fbdata.DID, except that a boolean whose default is true is said positively
// (saveCDR, not noSaveCDR): a file then never needs a double negative.
type file struct {
	Accounts      []accountRecord      `yaml:"accounts" json:"accounts"`
	DIDs          []didRecord          `yaml:"dids" json:"dids"`
	CalledNumbers []calledNumberRecord `yaml:"calledNumbers" json:"calledNumbers"`
	// Kinds are the sections of the other profiles' kinds, named
	// "<profile>.<kind>" ("generic.users"): each record's fields are its
	// message's JSON names, as the kind's Schema imports them.
	Kinds map[string][]map[string]any `yaml:",inline" json:"-"`
}

// Data is what a provisioning file holds.
type Data struct {
	// Batch holds the FaxBack kinds: accounts, DIDs and called numbers.
	fbdata.Batch
	// Records are the records of the other profiles' kinds, by kind in
	// name order, each kind's in file order.
	Records []recordsvc.Write
}

type accountRecord struct {
	Name string `yaml:"name" json:"name"`
	UUID string `yaml:"uuid" json:"uuid"`
	// Password and PasswordHash are pointers so that an explicit empty value
	// is told apart from an absent one.
	Password     *string `yaml:"password" json:"password"`
	PasswordHash *string `yaml:"passwordHash" json:"passwordHash"`
	Type         uint32  `yaml:"type" json:"type"`
	LoginGroup   string  `yaml:"loginGroup" json:"loginGroup"`
	RuleGroup    string  `yaml:"ruleGroup" json:"ruleGroup"`

	CDRInfo  string `yaml:"cdrInfo" json:"cdrInfo"`
	Customer string `yaml:"customer" json:"customer"`
	Source   string `yaml:"source" json:"source"`

	RcvEmail  string `yaml:"rcvEmail" json:"rcvEmail"`
	SndEmail  string `yaml:"sndEmail" json:"sndEmail"`
	RcvFormat string `yaml:"rcvFormat" json:"rcvFormat"`
	RcvCSID   string `yaml:"rcvCSID" json:"rcvCSID"`
	SndTSID   string `yaml:"sndTSID" json:"sndTSID"`
	SndANI    string `yaml:"sndANI" json:"sndANI"`

	// The three that default to true are pointers, so that absent means true.
	SaveCDR            *bool `yaml:"saveCDR" json:"saveCDR"`
	SendEnabled        *bool `yaml:"sendEnabled" json:"sendEnabled"`
	ReceiveEnabled     *bool `yaml:"receiveEnabled" json:"receiveEnabled"`
	SendTimeExpired    bool  `yaml:"sendTimeExpired" json:"sendTimeExpired"`
	ReceiveTimeExpired bool  `yaml:"receiveTimeExpired" json:"receiveTimeExpired"`

	RcvFailoverAccount string `yaml:"rcvFailoverAccount" json:"rcvFailoverAccount"`
	RcvFailoverMode    string `yaml:"rcvFailoverMode" json:"rcvFailoverMode"`

	QueueProfile   string `yaml:"queueProfile" json:"queueProfile"`
	CallAheadMode  string `yaml:"callAheadMode" json:"callAheadMode"`
	SendOnBehalfOf bool   `yaml:"sendOnBehalfOf" json:"sendOnBehalfOf"`
	UploadLogs     string `yaml:"uploadLogs" json:"uploadLogs"`

	MACAddress      string `yaml:"macAddress" json:"macAddress"`
	SerialNumber    string `yaml:"serialNumber" json:"serialNumber"`
	ProvisioningArg string `yaml:"provisioningArg" json:"provisioningArg"`

	Members []string `yaml:"members" json:"members"`
}

// account is the record as the store holds it, but for the password, which
// check judges apart.
func (r accountRecord) account() fbdata.Account {
	return fbdata.Account{
		Name: r.Name, UUID: r.UUID, Type: r.Type, LoginGroup: r.LoginGroup, RuleGroup: r.RuleGroup,
		CDRInfo: r.CDRInfo, Customer: r.Customer, Source: r.Source,
		RcvEmail: r.RcvEmail, SndEmail: r.SndEmail, RcvFormat: r.RcvFormat,
		RcvCSID: r.RcvCSID, SndTSID: r.SndTSID, SndANI: r.SndANI,
		NoSaveCDR:          isFalse(r.SaveCDR),
		SendDisabled:       isFalse(r.SendEnabled),
		ReceiveDisabled:    isFalse(r.ReceiveEnabled),
		SendTimeExpired:    r.SendTimeExpired,
		ReceiveTimeExpired: r.ReceiveTimeExpired,
		RcvFailoverAccount: r.RcvFailoverAccount, RcvFailoverMode: r.RcvFailoverMode,
		QueueProfile: r.QueueProfile, CallAheadMode: r.CallAheadMode,
		SendOnBehalfOf: r.SendOnBehalfOf, UploadLogs: r.UploadLogs,
		MACAddress: r.MACAddress, SerialNumber: r.SerialNumber, ProvisioningArg: r.ProvisioningArg,
		Members: r.Members,
	}
}

type didRecord struct {
	Number  string `yaml:"number" json:"number"`
	Account string `yaml:"account" json:"account"`
	// Enabled is a pointer because an omitted enabled means true.
	Enabled      *bool   `yaml:"enabled" json:"enabled"`
	LineNum      *uint32 `yaml:"lineNum" json:"lineNum"`
	LineID       string  `yaml:"lineId" json:"lineId"`
	QueueProfile string  `yaml:"queueProfile" json:"queueProfile"`
	ANI          string  `yaml:"ani" json:"ani"`
}

func (r didRecord) did() fbdata.DID {
	return fbdata.DID{
		Number: r.Number, Account: r.Account, Disabled: isFalse(r.Enabled),
		LineNum: r.LineNum, LineID: r.LineID, QueueProfile: r.QueueProfile, ANI: r.ANI,
	}
}

// calledNumberRecord is an entry of the called-numbers database, as a port
// server's CalledNumbersDb holds it: what Stops have said of the number.
type calledNumberRecord struct {
	Number      string `yaml:"number" json:"number"`
	FaxVerified bool   `yaml:"faxVerified" json:"faxVerified"`
	VoiceError  bool   `yaml:"voiceError" json:"voiceError"`
}

func (r calledNumberRecord) calledNumber() fbdata.CalledNumber {
	return fbdata.CalledNumber{Number: r.Number, FaxVerified: r.FaxVerified, VoiceError: r.VoiceError}
}

// isFalse reads a boolean that defaults to true.
func isFalse(b *bool) bool { return b != nil && !*b }

// RecordError is a problem with one record of a provisioning file. It wraps
// fbdata.ErrInvalid.
type RecordError struct {
	// Record locates the record, e.g. `accounts[2] (name "x")`.
	Record string
	// Field is the field at fault, spelled as in the file.
	Field  string
	Reason string
}

func (e *RecordError) Error() string { return e.Record + ": " + e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, fbdata.ErrInvalid) hold.
func (e *RecordError) Unwrap() error { return fbdata.ErrInvalid }

// LoadFile is Load on the file at path.
func LoadFile(path string, p password.Params, o fbdata.Options, kinds ...recordsvc.Kind) (Data, error) {
	f, err := os.Open(path)
	if err != nil {
		return Data{}, fmt.Errorf("load provisioning file: %w", err)
	}
	defer f.Close()
	d, err := Load(f, p, o, kinds...)
	if err != nil {
		return Data{}, fmt.Errorf("load provisioning file %s: %w", path, err)
	}
	return d, nil
}

// Load parses one YAML or JSON document, checks every record under o (the
// store's options, so that a name the store would refuse fails here, with
// its place in the file), and hashes the clear-text passwords with p. If any
// record is bad the error joins one RecordError per problem and no FaxBack
// password is hashed. Unknown fields are errors, so a misspelt field cannot
// be silently ignored. An empty input is an empty batch.
//
// Besides FaxBack's sections, the file may hold one per kind in kinds (the
// profiles' kinds with a Schema, recordsvc.Kinds(profiles.All)), named as
// the kind is: "generic.users". Their records are read by their Schema.
//
// Load does not check that a DID's account, a group's members or a failover
// account exist: they may be in the store already. The store's Apply checks
// them, atomically, with ErrConflict.
func Load(r io.Reader, p password.Params, o fbdata.Options, kinds ...recordsvc.Kind) (Data, error) {
	if err := p.Validate(); err != nil {
		return Data{}, fmt.Errorf("hash parameters: %w", err)
	}
	f, err := decode(r)
	if err != nil {
		return Data{}, err
	}
	return loadDecoded(f, p, o, kinds)
}

// loadDecoded is Load on a decoded file.
func loadDecoded(f file, p password.Params, o fbdata.Options, kinds []recordsvc.Kind) (Data, error) {
	b, clear, errs := check(f, o)
	recs, kindErrs := checkKinds(f.Kinds, kinds, p)
	if errs = append(errs, kindErrs...); len(errs) > 0 {
		return Data{}, errors.Join(errs...)
	}
	if err := hashAll(b.Accounts, clear, p); err != nil {
		return Data{}, err
	}
	return Data{Batch: b, Records: recs}, nil
}

// checkKinds reads the sections of the profiles' kinds through their
// Schemas, collecting every problem. A kind's Import hashes its clear
// passwords as it reads them.
func checkKinds(sections map[string][]map[string]any, kinds []recordsvc.Kind, p password.Params) (out []recordsvc.Write, errs []error) {
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		i := slices.IndexFunc(kinds, func(k recordsvc.Kind) bool { return k.Name == name })
		if i < 0 {
			errs = append(errs, fmt.Errorf("%w: %q: unknown section; the sections are accounts, dids, calledNumbers%s", fbdata.ErrInvalid, name, kindList(kinds)))
			continue
		}
		k := kinds[i]
		keys := map[string]int{}
		for j, fields := range sections[name] {
			where := fmt.Sprintf("%s[%d]", name, j)
			m, err := importRecord(k, fields, p)
			if err == nil {
				var rec records.Record
				if rec, err = k.Index(m); err == nil {
					where += fmt.Sprintf(" (key %q)", rec.Key)
					if first, dup := keys[rec.Key]; dup {
						err = fmt.Errorf("duplicates %s[%d]", name, first)
					}
					keys[rec.Key] = j
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: %w", fbdata.ErrInvalid, where, err))
				continue
			}
			out = append(out, recordsvc.Write{Kind: name, Value: m})
		}
	}
	return out, errs
}

func importRecord(k recordsvc.Kind, fields map[string]any, p password.Params) (proto.Message, error) {
	if k.Import != nil {
		return k.Import(fields, p)
	}
	m := k.Message.ProtoReflect().New().Interface()
	return m, nas.DecodeFields(fields, m)
}

func kindList(kinds []recordsvc.Kind) string {
	var b strings.Builder
	for _, k := range kinds {
		b.WriteString(", " + k.Name)
	}
	return b.String()
}

// decode reads one document. JSON, which is YAML too, goes through
// encoding/json when the document starts with "{", which is much faster
// than the YAML parser on million-record files.
func decode(r io.Reader) (file, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	first, err := firstByte(br)
	if err != nil {
		return file{}, err
	}
	if first == '{' {
		return decodeJSON(br)
	}
	return decodeYAML(br)
}

// decodeJSON reads a JSON document as strictly as decodeYAML reads YAML,
// which encoding/json alone does not (see checkJSON).
func decodeJSON(r io.Reader) (file, error) {
	var f file
	dec := json.NewDecoder(r)
	sections, err := jsonSections(dec)
	if err != nil {
		return f, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return f, errors.New("decode: text after the JSON document")
	}
	return f, decodeJSONSections(sections, &f)
}

func decodeYAML(r io.Reader) (file, error) {
	var f file
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return f, fmt.Errorf("decode: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		// A second document would otherwise be ignored without a word.
		return f, errors.New("decode: more than one document; put every record in the first")
	}
	return f, nil
}

// decodeJSONSections decodes a JSON document's sections, each strictly:
// encoding/json has no inline map for the kinds' sections.
func decodeJSONSections(sections []jsonSection, f *file) error {
	for _, s := range sections {
		var err error
		switch s.name {
		case "accounts":
			err = strictJSON(s.raw, &f.Accounts)
		case "dids":
			err = strictJSON(s.raw, &f.DIDs)
		case "calledNumbers":
			err = strictJSON(s.raw, &f.CalledNumbers)
		default:
			var recs []map[string]any
			err = strictJSON(s.raw, &recs)
			if f.Kinds == nil {
				f.Kinds = map[string][]map[string]any{}
			}
			f.Kinds[s.name] = recs
		}
		if err != nil {
			return fmt.Errorf("decode: %s: %w", s.name, err)
		}
		if err := checkJSON(s.name, s.raw); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
	}
	return nil
}

func strictJSON(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

// firstByte peeks at the first byte that is not white space; 0 for none.
func firstByte(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if errors.Is(err, io.EOF) || err == nil {
				return 0, nil
			}
			return 0, fmt.Errorf("decode: %w", err)
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n':
		default:
			return c, nil
		}
		if n == br.Size() {
			return 0, nil
		}
	}
}

// check converts every record, collecting all problems. clear[i] holds the
// password to hash for b.Accounts[i], when it was given in clear text.
func check(f file, o fbdata.Options) (b fbdata.Batch, clear []*string, errs []error) {
	byName := make(map[string]int, len(f.Accounts))
	byIndex := make(map[fbdata.IndexEntry]int)
	for i, r := range f.Accounts {
		where := fmt.Sprintf("accounts[%d] (name %q)", i, r.Name)
		fail := func(field, reason string) {
			errs = append(errs, &RecordError{Record: where, Field: field, Reason: reason})
		}
		a := r.account()
		const noLogin = "; leave out both password and passwordHash for an account that cannot log in"
		switch {
		case r.Password != nil && r.PasswordHash != nil:
			fail("password", "set either password or passwordHash, not both")
		case r.Password != nil && *r.Password == "":
			fail("password", "must not be empty"+noLogin)
		case r.Password != nil:
			// hashAll fills PasswordHash once every record is known good.
		case r.PasswordHash == nil:
			// No password: the account cannot log in (a group, say).
		case *r.PasswordHash == "":
			fail("passwordHash", "must not be empty"+noLogin)
		default:
			if _, err := password.ParseParams(*r.PasswordHash); err != nil {
				fail("passwordHash", err.Error())
			}
			a.PasswordHash = *r.PasswordHash
		}
		if err := a.Validate(o); err != nil {
			errs = append(errs, fromValidate(where, err))
		}
		a = a.Canonical()
		if r.Name != "" {
			key := fbdata.Fold(r.Name)
			if first, dup := byName[key]; dup {
				fail("name", fmt.Sprintf("duplicates accounts[%d] (name %q); names are case-insensitive", first, f.Accounts[first].Name))
			} else {
				byName[key] = i
			}
		}
		// The store refuses these too, but only as the first conflict it
		// meets; here every one is listed, with both records.
		for _, e := range a.IndexEntries() {
			if first, dup := byIndex[e]; dup {
				fail(e.Index.Field(), fmt.Sprintf("duplicates accounts[%d] (name %q): both are %q", first, f.Accounts[first].Name, e.Key))
			} else {
				byIndex[e] = i
			}
		}
		b.Accounts = append(b.Accounts, a)
		clear = append(clear, r.Password)
	}

	byNumber := make(map[string]int, len(f.DIDs))
	for i, r := range f.DIDs {
		where := fmt.Sprintf("dids[%d] (number %q)", i, r.Number)
		d := r.did()
		if err := d.Validate(); err != nil {
			errs = append(errs, fromValidate(where, err))
		}
		if r.Number != "" {
			if first, dup := byNumber[r.Number]; dup {
				errs = append(errs, &RecordError{Record: where, Field: "number", Reason: fmt.Sprintf("duplicates dids[%d]", first)})
			} else {
				byNumber[r.Number] = i
			}
		}
		b.DIDs = append(b.DIDs, d)
	}

	byCalled := make(map[string]int, len(f.CalledNumbers))
	for i, r := range f.CalledNumbers {
		where := fmt.Sprintf("calledNumbers[%d] (number %q)", i, r.Number)
		c := r.calledNumber()
		if err := c.Validate(); err != nil {
			errs = append(errs, fromValidate(where, err))
		}
		if r.Number != "" {
			if first, dup := byCalled[r.Number]; dup {
				errs = append(errs, &RecordError{Record: where, Field: "number", Reason: fmt.Sprintf("duplicates calledNumbers[%d]", first)})
			} else {
				byCalled[r.Number] = i
			}
		}
		b.CalledNumbers = append(b.CalledNumbers, c)
	}
	return b, clear, errs
}

// fromValidate restates a store validation error in the file's terms. The
// store names fields by their JSON names, which are the file's for every
// field that can fail validation; only the booleans differ.
func fromValidate(where string, err error) error {
	var fe *fbdata.FieldError
	if errors.As(err, &fe) {
		return &RecordError{Record: where, Field: fe.Field, Reason: fe.Reason}
	}
	return fmt.Errorf("%s: %w", where, err)
}

// hashAll replaces clear-text passwords by their hashes, one argon2 run per
// core: a file of many accounts would otherwise take minutes to load.
func hashAll(accounts []fbdata.Account, clear []*string, p password.Params) error {
	work := make(chan int)
	errs := make([]error, len(accounts))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(accounts)) {
		wg.Go(func() {
			for i := range work {
				h, err := password.Hash(*clear[i], p)
				if err != nil {
					errs[i] = fmt.Errorf("accounts[%d] (name %q): %w", i, accounts[i].Name, err)
					continue
				}
				accounts[i].PasswordHash = h
			}
		})
	}
	for i := range accounts {
		if clear[i] != nil {
			work <- i
		}
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}
