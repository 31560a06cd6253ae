package fbdata

import (
	"errors"
	"strings"
	"testing"
)

func TestAccountValidate(t *testing.T) {
	ok := Account{Name: "fax", PasswordHash: "$argon2id$x", Type: 4}
	long := Options{LongNames: true}
	tests := []struct {
		name    string
		o       Options
		edit    func(a *Account)
		field   string // empty: valid
		message string
	}{
		{"valid", Options{}, func(a *Account) {}, "", ""},
		{"no password hash", Options{}, func(a *Account) { a.PasswordHash = "" }, "", ""},
		{"every field set", Options{}, func(a *Account) { *a = everyField() }, "", ""},

		// Names.
		{"16 bytes", Options{}, func(a *Account) { a.Name = strings.Repeat("n", 16) }, "", ""},
		{"empty name", Options{}, func(a *Account) { a.Name = "" }, "name", "invalid: name: must not be empty"},
		{"17 bytes", Options{}, func(a *Account) { a.Name = strings.Repeat("n", 17) }, "name",
			`invalid: name: "nnnnnnnnnnnnnnnnn" is 17 bytes, the limit is 16; UUID mode (store.long_names) allows 64 characters`},
		{"6 characters in 18 bytes", Options{}, func(a *Account) { a.Name = "日本語日本語" }, "name",
			`invalid: name: "日本語日本語" is 18 bytes, the limit is 16; UUID mode (store.long_names) allows 64 characters`},
		{"long: 17 bytes", long, func(a *Account) { a.Name = strings.Repeat("n", 17) }, "", ""},
		{"long: 64 characters", long, func(a *Account) { a.Name = strings.Repeat("n", 64) }, "", ""},
		{"long: 64 three-byte characters", long, func(a *Account) { a.Name = strings.Repeat("語", 64) }, "", ""},
		{"long: 65 characters", long, func(a *Account) { a.Name = strings.Repeat("n", 65) }, "name",
			`invalid: name: "` + strings.Repeat("n", 65) + `" is 65 characters, the limit is 64`},
		{"long: 64 four-byte characters", long, func(a *Account) { a.Name = strings.Repeat("😀", 64) }, "name",
			`invalid: name: "` + strings.Repeat("😀", 64) + `" is 256 bytes, more than the User-Name attribute carries (253)`},
		{"bad UTF-8", Options{}, func(a *Account) { a.Name = "a\xffb" }, "name", "invalid: name: not valid UTF-8"},
		{"NUL", long, func(a *Account) { a.Name = "a\x00b" }, "name", "invalid: name: must not contain a NUL byte"},
		{"bad UTF-8 hash", Options{}, func(a *Account) { a.PasswordHash = "\xff" }, "passwordHash", "invalid: passwordHash: not valid UTF-8"},

		// Type and members.
		{"type 10", Options{}, func(a *Account) { a.Type = 10 }, "", ""},
		{"type 3", Options{}, func(a *Account) { a.Type = 3 }, "type", "invalid: type: 3 is not an FB-Account-Type (0, 1, 4, 5, 8, 9, 10)"},
		{"group with members", Options{}, func(a *Account) { a.Type, a.Members = 9, []string{"m1", "M2"} }, "", ""},
		{"group without members", Options{}, func(a *Account) { a.Type = 8 }, "", ""},
		{"members of a type 4", Options{}, func(a *Account) { a.Members = []string{"m1"} }, "members",
			"invalid: members: only load-balance groups (type 8, 9 or 10) have members, and type is 4"},
		{"empty member", Options{}, func(a *Account) { a.Type, a.Members = 8, []string{"m1", ""} }, "members",
			"invalid: members: [1]: must not be empty"},
		{"member name too long", Options{}, func(a *Account) { a.Type, a.Members = 8, []string{strings.Repeat("m", 17)} }, "members",
			`invalid: members: [0]: "mmmmmmmmmmmmmmmmm" is 17 bytes, the limit is 16; UUID mode (store.long_names) allows 64 characters`},
		{"long: long member name", long, func(a *Account) { a.Type, a.Members = 8, []string{strings.Repeat("m", 17)} }, "", ""},
		{"duplicate member", Options{}, func(a *Account) { a.Type, a.Members = 10, []string{"abc", "x", "ABC"} }, "members",
			`invalid: members: [2] "ABC" duplicates [0] "abc"; names are case-insensitive`},
		{"group lists itself", Options{}, func(a *Account) { a.Type, a.Members = 8, []string{"m1", "FAX"} }, "members",
			`invalid: members: [1] "FAX" is the group itself`},

		// UUID.
		{"dashed UUID", Options{}, func(a *Account) { a.UUID = "05A32765-C400-4993-90D8-35289F96988A" }, "", ""},
		{"hex UUID", Options{}, func(a *Account) { a.UUID = "0x05A32765C400499390D835289F96988A" }, "", ""},
		{"bad UUID", Options{}, func(a *Account) { a.UUID = "05A32765-C400-4993-90D8" }, "uuid",
			`invalid: uuid: "05A32765-C400-4993-90D8" is not a UUID: want 0x and 32 hex digits, or 8-4-4-4-12 hex digits; got 23 bytes`},

		// Groups.
		{"default login group", Options{}, func(a *Account) { a.LoginGroup = "*" }, "", ""},
		{"login group", Options{}, func(a *Account) { a.LoginGroup = "PRIORITY-2" }, "", ""},
		{"default and login group", Options{}, func(a *Account) { a.LoginGroup = "*PRIORITY" }, "", ""},
		{"lower-case login group", Options{}, func(a *Account) { a.LoginGroup = "Priority" }, "loginGroup",
			`invalid: loginGroup: "Priority": group names must use upper-case letters`},
		{"lower-case non-ASCII rule group", Options{}, func(a *Account) { a.RuleGroup = "ÉCOLE-é" }, "ruleGroup",
			`invalid: ruleGroup: "ÉCOLE-é": group names must use upper-case letters`},
		{"rule group with colon", Options{}, func(a *Account) { a.RuleGroup = "A:B" }, "ruleGroup",
			`invalid: ruleGroup: "A:B": group names cannot include the asterisk (*), colon (:), semi-colon (;) or comma (,), except for one leading * meaning the default group too`},
		{"two asterisks", Options{}, func(a *Account) { a.RuleGroup = "**A" }, "ruleGroup",
			`invalid: ruleGroup: "**A": group names cannot include the asterisk (*), colon (:), semi-colon (;) or comma (,), except for one leading * meaning the default group too`},
		{"trailing asterisk", Options{}, func(a *Account) { a.LoginGroup = "A*" }, "loginGroup",
			`invalid: loginGroup: "A*": group names cannot include the asterisk (*), colon (:), semi-colon (;) or comma (,), except for one leading * meaning the default group too`},
		{"64-byte group", Options{}, func(a *Account) { a.LoginGroup = strings.Repeat("G", 64) }, "", ""},
		{"65-byte group", Options{}, func(a *Account) { a.LoginGroup = strings.Repeat("G", 65) }, "loginGroup",
			"invalid: loginGroup: is 65 bytes, the limit is 64"},

		// Text limits.
		{"64-character CDR info", Options{}, func(a *Account) { a.CDRInfo = strings.Repeat("é", 64) }, "", ""},
		{"65-character CDR info", Options{}, func(a *Account) { a.CDRInfo = strings.Repeat("é", 65) }, "cdrInfo",
			"invalid: cdrInfo: is 65 characters, the limit is 64"},
		{"customer", Options{}, func(a *Account) { a.Customer = strings.Repeat("c", 65) }, "customer",
			"invalid: customer: is 65 characters, the limit is 64"},
		{"source", Options{}, func(a *Account) { a.Source = "\xff" }, "source", "invalid: source: not valid UTF-8"},
		{"62 four-byte characters of CDR info", Options{}, func(a *Account) { a.CDRInfo = strings.Repeat("😀", 62) }, "cdrInfo",
			"invalid: cdrInfo: is 248 bytes, more than one attribute carries (247)"},
		{"failover account", Options{}, func(a *Account) { a.RcvFailoverAccount = strings.Repeat("f", 65) }, "rcvFailoverAccount",
			"invalid: rcvFailoverAccount: is 65 characters, the limit is 64"},
		{"failover account with NUL", Options{}, func(a *Account) { a.RcvFailoverAccount = "a\x00" }, "rcvFailoverAccount",
			"invalid: rcvFailoverAccount: must not contain a NUL byte"},
		{"20-character CSID", Options{}, func(a *Account) { a.RcvCSID = "+1 503 555 0100 FAX!" }, "", ""},
		{"21-character CSID", Options{}, func(a *Account) { a.RcvCSID = strings.Repeat("1", 21) }, "rcvCSID",
			"invalid: rcvCSID: is 21 characters, the limit is 20"},
		{"non-ASCII TSID", Options{}, func(a *Account) { a.SndTSID = "Zürich" }, "sndTSID", "invalid: sndTSID: must be printable ASCII"},
		{"control character in ANI", Options{}, func(a *Account) { a.SndANI = "555\t1234" }, "sndANI", "invalid: sndANI: must be printable ASCII"},
		{"33-character ANI", Options{}, func(a *Account) { a.SndANI = strings.Repeat("5", 33) }, "sndANI",
			"invalid: sndANI: is 33 characters, the limit is 32"},
		{"serial number", Options{}, func(a *Account) { a.SerialNumber = strings.Repeat("s", 65) }, "serialNumber",
			"invalid: serialNumber: is 65 characters, the limit is 64"},
		{"247-byte provisioning arg", Options{}, func(a *Account) { a.ProvisioningArg = strings.Repeat("p", 247) }, "", ""},
		{"248-byte provisioning arg", Options{}, func(a *Account) { a.ProvisioningArg = strings.Repeat("p", 248) }, "provisioningArg",
			"invalid: provisioningArg: is 248 bytes, more than one attribute carries (247)"},
		{"301-byte provisioning arg", Options{}, func(a *Account) { a.ProvisioningArg = strings.Repeat("p", 301) }, "provisioningArg",
			"invalid: provisioningArg: is 301 bytes, the limit is 300"},

		// E-mail.
		{"receive e-mail", Options{}, func(a *Account) { a.RcvEmail = "fax+in@example.org" }, "", ""},
		{"e-mail without @", Options{}, func(a *Account) { a.RcvEmail = "fax.example.org" }, "rcvEmail",
			`invalid: rcvEmail: "fax.example.org" is not an e-mail address: no @`},
		{"e-mail with two @", Options{}, func(a *Account) { a.SndEmail = "a@b@c" }, "sndEmail",
			`invalid: sndEmail: "a@b@c" is not an e-mail address: more than one @`},
		{"e-mail without domain", Options{}, func(a *Account) { a.SndEmail = "a@" }, "sndEmail",
			`invalid: sndEmail: "a@" is not an e-mail address: want text on both sides of the @`},
		{"e-mail without local part", Options{}, func(a *Account) { a.SndEmail = "@b" }, "sndEmail",
			`invalid: sndEmail: "@b" is not an e-mail address: want text on both sides of the @`},
		{"display name", Options{}, func(a *Account) { a.SndEmail = "Fax <a@b>" }, "sndEmail",
			`invalid: sndEmail: "Fax <a@b>" is not an e-mail address: it contains white space`},
		{"129-character e-mail", Options{}, func(a *Account) { a.SndEmail = strings.Repeat("a", 120) + "@b.org.uk" }, "sndEmail",
			"invalid: sndEmail: is 129 characters, the limit is 128"},

		// Queue profile.
		{"queue profile", Options{}, func(a *Account) {
			a.QueueProfile = `<QPXml Rf="0" Dn="1" Ndn="1" Ea="" Ef="" Ln="en-US" Tz="Pacific*" />`
		}, "", ""},
		{"queue profile with declaration and children", Options{}, func(a *Account) {
			a.QueueProfile = "<?xml version=\"1.0\"?>\n<QPXml Op=\"1\"><X>y</X></QPXml>\n"
		}, "", ""},
		{"unclosed queue profile", Options{}, func(a *Account) { a.QueueProfile = `<QPXml Rf="0">` }, "queueProfile",
			"invalid: queueProfile: not well-formed XML: XML syntax error on line 1: unexpected EOF"},
		{"mismatched queue profile", Options{}, func(a *Account) { a.QueueProfile = `<a></b>` }, "queueProfile",
			"invalid: queueProfile: not well-formed XML: XML syntax error on line 1: element <a> closed by </b>"},
		{"unquoted attribute", Options{}, func(a *Account) { a.QueueProfile = `<QPXml Rf=0 />` }, "queueProfile",
			"invalid: queueProfile: not well-formed XML: XML syntax error on line 1: unquoted or missing attribute value in element"},
		{"text queue profile", Options{}, func(a *Account) { a.QueueProfile = "Rf=0" }, "queueProfile",
			"invalid: queueProfile: not well-formed XML: text outside the element"},
		{"comment-only queue profile", Options{}, func(a *Account) { a.QueueProfile = "<!-- nothing -->" }, "queueProfile",
			"invalid: queueProfile: not well-formed XML: no element, e.g. <QPXml />"},
		{"two elements", Options{}, func(a *Account) { a.QueueProfile = "<a/><b/>" }, "queueProfile",
			"invalid: queueProfile: not well-formed XML: 2 top-level elements, want one"},
		{"301-character queue profile", Options{}, func(a *Account) { a.QueueProfile = "<a>" + strings.Repeat("x", 294) + "</a>" }, "queueProfile",
			"invalid: queueProfile: is 301 characters, the limit is 300"},

		// Enumerations.
		{"pdf", Options{}, func(a *Account) { a.RcvFormat = "pdf" }, "", ""},
		{"jpeg", Options{}, func(a *Account) { a.RcvFormat = "jpeg" }, "rcvFormat", `invalid: rcvFormat: "jpeg" is not one of "tiff", "pdf"`},
		{"upper-case PDF", Options{}, func(a *Account) { a.RcvFormat = "PDF" }, "rcvFormat", `invalid: rcvFormat: "PDF" is not one of "tiff", "pdf"`},
		{"failover mode", Options{}, func(a *Account) { a.RcvFailoverMode = "sometimes" }, "rcvFailoverMode",
			`invalid: rcvFailoverMode: "sometimes" is not one of "as-needed", "always", "load-balance-group-member"`},
		{"call-ahead mode", Options{}, func(a *Account) { a.CallAheadMode = "1" }, "callAheadMode",
			`invalid: callAheadMode: "1" is not one of "never", "dynamic", "always"`},
		{"upload logs", Options{}, func(a *Account) { a.UploadLogs = "always" }, "uploadLogs",
			`invalid: uploadLogs: "always" is not one of "never", "after-errors", "after-all-sessions"`},

		// MAC address.
		{"bare MAC", Options{}, func(a *Account) { a.MACAddress = "00908f1d37f0" }, "", ""},
		{"dashed MAC", Options{}, func(a *Account) { a.MACAddress = "00-90-8F-1D-37-F0" }, "", ""},
		{"short MAC", Options{}, func(a *Account) { a.MACAddress = "00:90:8f:1d:37" }, "macAddress",
			`invalid: macAddress: MAC address "00:90:8f:1d:37": want 12 hex digits, got 10 characters besides separators`},
		{"MAC with a non-hex digit", Options{}, func(a *Account) { a.MACAddress = "00:90:8g:1d:37:f0" }, "macAddress",
			`invalid: macAddress: MAC address "00:90:8g:1d:37:f0": 'g' is not a hex digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok
			tt.edit(&a)
			checkFieldError(t, a.Validate(tt.o), tt.field, tt.message)
		})
	}
}

// everyField is a valid account with every field set.
func everyField() Account {
	return Account{
		Name: "Group1", UUID: "05a32765-c400-4993-90d8-35289f96988a", PasswordHash: "$argon2id$x", Type: 9,
		LoginGroup: "*PRIORITY", RuleGroup: "SALES", CDRInfo: "cost centre 7", Customer: "ACME", Source: "crm",
		RcvEmail: "in@acme.example", SndEmail: "out@acme.example", RcvFormat: "pdf",
		RcvCSID: "+15035550100", SndTSID: "ACME FAX", SndANI: "5035550100",
		NoSaveCDR: true, SendDisabled: true, ReceiveDisabled: true, SendTimeExpired: true, ReceiveTimeExpired: true,
		RcvFailoverAccount: "mail-gw", RcvFailoverMode: "always",
		QueueProfile: `<QPXml Rf="0" Dn="1" />`, CallAheadMode: "never", SendOnBehalfOf: true, UploadLogs: "after-errors",
		MACAddress: "00:90:8F:1D:37:F0", SerialNumber: "27482734", ProvisioningArg: "basecfg=remote-admin.ini",
		Members: []string{"m1", "m2"},
	}
}

func TestDIDValidate(t *testing.T) {
	ok := DID{Number: "5551231234", Account: "fax"}
	line := uint32(2)
	tests := []struct {
		name    string
		edit    func(d *DID)
		field   string
		message string
	}{
		{"valid", func(d *DID) {}, "", ""},
		{"every field", func(d *DID) {
			*d = DID{Number: "2222", Account: "fax", Disabled: true, LineNum: &line, LineID: "line 2",
				QueueProfile: `<QPXml Op="1" Rf="0" Dn="1" Ndn="1" Ea="" Ef="" />`, ANI: "5035550102"}
		}, "", ""},
		{"catch-all DID", func(d *DID) { d.Number = "*" }, "", ""},
		{"64 bytes", func(d *DID) { d.Number = strings.Repeat("5", 64) }, "", ""},
		{"empty number", func(d *DID) { d.Number = "" }, "number", "invalid: number: must not be empty"},
		{"65 bytes", func(d *DID) { d.Number = strings.Repeat("5", 65) }, "number", "invalid: number: is 65 bytes, the limit is 64"},
		{"bad UTF-8 number", func(d *DID) { d.Number = "5\xff" }, "number", "invalid: number: not valid UTF-8"},
		{"empty account", func(d *DID) { d.Account = "" }, "account", "invalid: account: must not be empty"},
		{"bad UTF-8 account", func(d *DID) { d.Account = "\xff" }, "account", "invalid: account: not valid UTF-8"},
		{"65-byte line id", func(d *DID) { d.LineID = strings.Repeat("l", 65) }, "lineId", "invalid: lineId: is 65 bytes, the limit is 64"},
		{"queue profile", func(d *DID) { d.QueueProfile = "<QPXml" }, "queueProfile",
			"invalid: queueProfile: not well-formed XML: XML syntax error on line 1: unexpected EOF"},
		{"ANI", func(d *DID) { d.ANI = "555\n" }, "ani", "invalid: ani: must be printable ASCII"},
		{"33-character ANI", func(d *DID) { d.ANI = strings.Repeat("5", 33) }, "ani", "invalid: ani: is 33 characters, the limit is 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			tt.edit(&d)
			checkFieldError(t, d.Validate(), tt.field, tt.message)
		})
	}
}

func TestCanonical(t *testing.T) {
	a := Account{Name: "x", UUID: "0x05A32765C400499390D835289F96988A", MACAddress: "00-90-8f-1d-37-f0"}.Canonical()
	if a.UUID != "05a32765-c400-4993-90d8-35289f96988a" || a.MACAddress != "00908F1D37F0" {
		t.Errorf("Canonical = UUID %q, MAC %q; want the dashed lower-case UUID and 00908F1D37F0", a.UUID, a.MACAddress)
	}
	bad := Account{UUID: "nope", MACAddress: "nope"}
	if got := bad.Canonical(); got.UUID != "nope" || got.MACAddress != "nope" {
		t.Errorf("Canonical of unparsable values = %+v, want them untouched", got)
	}
}

func checkFieldError(t *testing.T, err error, field, message string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate() = %v, want ErrInvalid", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("Validate() = %#v, want a FieldError for %q", err, field)
	}
	if err.Error() != message {
		t.Errorf("Validate() message = %q, want %q", err.Error(), message)
	}
}
