package provision

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/profiles"
	"kradius.dev/services/password"
	"kradius.dev/services/recordsvc"
)

// tiny is the cheapest argon2id Params.Validate allows: a fuzzed file of
// many passwords then costs microseconds, not seconds.
var tiny = password.Params{Memory: 8, Time: 1, Threads: 1}

// fuzzKinds are every profile's kinds, as kradius import reads them.
var fuzzKinds = recordsvc.Kinds(profiles.All)

// FuzzLoad reads arbitrary bytes as a provisioning file. Nothing may panic,
// and an error comes with no data. What is accepted, the store takes:
// every record validates again, as the store validates it, and every clear
// password was hashed into a hash that verifies it. And JSON, which has a
// faster parser of its own, is read as the YAML parser reads it: the JSON
// path accepts no document that YAML refuses for what it says (a repeated
// or unknown key, a wrong type), as against syntax YAML lacks, and where
// both accept they read the same records.
func FuzzLoad(f *testing.F) {
	for _, path := range []string{"testdata/accounts.yaml", "testdata/accounts.json", "../../deploy/examples/demo-data.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	for _, doc := range []string{
		`{"accounts": [{"name": "a", "password": "x", "type": 4}], "dids": [{"number": "1", "account": "a", "lineNum": 2}]}`,
		`{"generic.users": [{"name": "u", "password": "p"}], "calledNumbers": [{"number": "5", "faxVerified": true}]}`,
		"accounts:\n  - {name: an-account-name-of-30-octets, uuid: 05a32765-c400-4993-90d8-35289f96988a}\n",
		"",
	} {
		f.Add([]byte(doc), true)
	}
	f.Fuzz(func(t *testing.T, doc []byte, longNames bool) {
		o := fbdata.Options{LongNames: longNames}
		d, err := Load(bytes.NewReader(doc), tiny, o, fuzzKinds...)
		if err != nil {
			if !reflect.DeepEqual(d, Data{}) {
				t.Fatalf("data with the error %v", err)
			}
			return
		}
		fuzzCheckAccepted(t, doc, d, o)
		if first, _ := firstByte(bufio.NewReaderSize(bytes.NewReader(doc), 1<<16)); first == '{' {
			fuzzSameAsYAML(t, doc, d, o)
		}
	})
}

// fuzzCheckAccepted holds accepted data to what the store will ask of it.
func fuzzCheckAccepted(t *testing.T, doc []byte, d Data, o fbdata.Options) {
	t.Helper()
	f, err := decode(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("Load took the file, decode does not: %v", err)
	}
	for i, a := range d.Accounts {
		if err := a.Validate(o); err != nil {
			t.Fatalf("accounts[%d] as loaded: %v", i, err)
		}
		if pw := f.Accounts[i].Password; pw != nil {
			if ok, err := password.Verify(a.PasswordHash, *pw); !ok || err != nil {
				t.Fatalf("accounts[%d]: the hash does not verify its password: %v", i, err)
			}
		}
	}
	for i, did := range d.DIDs {
		if err := did.Validate(); err != nil {
			t.Fatalf("dids[%d] as loaded: %v", i, err)
		}
	}
	for i, c := range d.CalledNumbers {
		if err := c.Validate(); err != nil {
			t.Fatalf("calledNumbers[%d] as loaded: %v", i, err)
		}
	}
	for _, w := range d.Records {
		if _, err := fuzzKind(t, w.Kind).Index(w.Value); err != nil {
			t.Fatalf("%s record as loaded: %v", w.Kind, err)
		}
	}
}

// fuzzSameAsYAML reads a JSON document, which the JSON path took as d, with
// the YAML parser, and compares.
func fuzzSameAsYAML(t *testing.T, doc []byte, d Data, o fbdata.Options) {
	t.Helper()
	if !utf8.Valid(doc) {
		t.Fatal("the JSON path takes a document that is not UTF-8") // YAML's refuses it
	}
	f, err := decodeYAML(bytes.NewReader(doc))
	var te *yaml.TypeError
	if errors.As(err, &te) {
		t.Fatalf("the JSON path takes what YAML refuses: %v", err)
	}
	if err != nil {
		return // JSON syntax that YAML's parser does not read
	}
	y, err := loadDecoded(f, tiny, o, fuzzKinds)
	if err != nil {
		t.Fatalf("the JSON path takes what YAML refuses: %v", err)
	}
	if a, b := fuzzComparable(t, d), fuzzComparable(t, y); !reflect.DeepEqual(a, b) {
		t.Fatalf("JSON and YAML read otherwise:\nJSON %+v\nYAML %+v", a, b)
	}
}

// fuzzComparable is d without what hashing salts at random: password
// hashes, and the records' secrets, which their kinds redact.
func fuzzComparable(t *testing.T, d Data) Data {
	t.Helper()
	out := Data{Batch: d.Batch}
	out.Accounts = append([]fbdata.Account(nil), d.Accounts...)
	for i := range out.Accounts {
		out.Accounts[i].PasswordHash = ""
	}
	for _, w := range d.Records {
		m := proto.Clone(w.Value)
		if redact := fuzzKind(t, w.Kind).Redact; redact != nil {
			redact(m)
		}
		// A proto message is compared by its encoding: reflect.DeepEqual
		// would compare its internal state too.
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out.Records = append(out.Records, recordsvc.Write{Kind: w.Kind + "=" + string(b)})
	}
	return out
}

func fuzzKind(t *testing.T, name string) recordsvc.Kind {
	t.Helper()
	for _, k := range fuzzKinds {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("a record of kind %q, which no profile has", name)
	return recordsvc.Kind{}
}
