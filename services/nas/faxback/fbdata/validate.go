package fbdata

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Attribute limits. A value that cannot be sent is refused when written, not
// discovered when a reply fails to encode.
const (
	// MaxAttributeBytes is the most a standard RADIUS attribute, such as
	// User-Name, carries (RFC 2865: length 255 less type and length).
	MaxAttributeBytes = 253
	// MaxVendorAttributeBytes is the most a FaxBack sub-attribute carries:
	// one Vendor-Specific attribute's 253 bytes less the vendor id (4) and
	// the sub-attribute's own type and length (2).
	MaxVendorAttributeBytes = 247
)

// maxGroupBytes is the seed's limit on FB-Account-Login-Group and FB-Rule-Group.
const maxGroupBytes = 64

// Validate reports the first problem with a, naming the field. o decides the
// name limit. Every rule is the seed's, or the size of the attribute the
// field is sent in.
func (a Account) Validate(o Options) error {
	if reason := nameProblem(a.Name, o); reason != "" {
		return invalid("name", "%s", reason)
	}
	if !utf8.ValidString(a.PasswordHash) {
		// Records are JSON, which would silently replace the bad bytes.
		return invalid("passwordHash", "not valid UTF-8")
	}
	if !validAccountTypes[a.Type] {
		return invalid("type", "%d is not an FB-Account-Type (0, 1, 4, 5, 8, 9, 10)", a.Type)
	}
	if a.UUID != "" {
		if _, err := ParseUUID(a.UUID); err != nil {
			return invalid("uuid", "%v", err)
		}
	}
	for _, t := range []text{
		{field: "loginGroup", value: a.LoginGroup, bytes: maxGroupBytes, attr: MaxVendorAttributeBytes, check: checkGroup},
		{field: "ruleGroup", value: a.RuleGroup, bytes: maxGroupBytes, attr: MaxVendorAttributeBytes, check: checkGroup},
		{field: "cdrInfo", value: a.CDRInfo, chars: 64, attr: MaxVendorAttributeBytes},
		{field: "customer", value: a.Customer, chars: 64, attr: MaxVendorAttributeBytes},
		{field: "source", value: a.Source, chars: 64, attr: MaxVendorAttributeBytes},
		{field: "rcvEmail", value: a.RcvEmail, chars: 128, attr: MaxVendorAttributeBytes, check: checkEmail},
		{field: "sndEmail", value: a.SndEmail, chars: 128, attr: MaxVendorAttributeBytes, check: checkEmail},
		{field: "rcvCSID", value: a.RcvCSID, chars: 20, ascii: true, attr: MaxVendorAttributeBytes},
		{field: "sndTSID", value: a.SndTSID, chars: 20, ascii: true, attr: MaxVendorAttributeBytes},
		{field: "sndANI", value: a.SndANI, chars: 32, ascii: true, attr: MaxVendorAttributeBytes},
		{field: "rcvFailoverAccount", value: a.RcvFailoverAccount, chars: 64, attr: MaxVendorAttributeBytes, check: checkNoNUL},
		{field: "queueProfile", value: a.QueueProfile, chars: 300, attr: MaxVendorAttributeBytes, check: checkXML},
		// The serial number arrives as User-Name, a standard attribute.
		{field: "serialNumber", value: a.SerialNumber, chars: 64, attr: MaxAttributeBytes},
		{field: "provisioningArg", value: a.ProvisioningArg, bytes: 300, attr: MaxVendorAttributeBytes},
	} {
		if err := t.validate(); err != nil {
			return err
		}
	}
	for _, e := range []struct {
		field, value string
		words        enum
	}{
		{"rcvFormat", a.RcvFormat, rcvFormats},
		{"rcvFailoverMode", a.RcvFailoverMode, rcvFailoverModes},
		{"callAheadMode", a.CallAheadMode, callAheadModes},
		{"uploadLogs", a.UploadLogs, uploadLogs},
	} {
		if _, ok := e.words.lookup(e.value); !ok && e.value != "" {
			return invalid(e.field, "%q is not one of %s", e.value, e.words)
		}
	}
	if a.MACAddress != "" {
		if _, err := normalizeMAC(a.MACAddress); err != nil {
			return invalid("macAddress", "%v", err)
		}
	}
	return a.validateMembers(o)
}

// validateMembers checks the list itself; that every member exists is the
// backend's check, made when the group is written.
func (a Account) validateMembers(o Options) error {
	if len(a.Members) == 0 {
		return nil
	}
	if !a.IsGroup() {
		return invalid("members", "only load-balance groups (type 8, 9 or 10) have members, and type is %d", a.Type)
	}
	self := Fold(a.Name)
	seen := make(map[string]int, len(a.Members))
	for i, m := range a.Members {
		if reason := nameProblem(m, o); reason != "" {
			return invalid("members", "[%d]: %s", i, reason)
		}
		key := Fold(m)
		if key == self {
			return invalid("members", "[%d] %q is the group itself", i, m)
		}
		if first, dup := seen[key]; dup {
			return invalid("members", "[%d] %q duplicates [%d] %q; names are case-insensitive", i, m, first, a.Members[first])
		}
		seen[key] = i
	}
	return nil
}

// Validate reports the first problem with d, naming the field.
func (d DID) Validate() error {
	switch {
	case d.Number == "":
		return invalid("number", "must not be empty")
	case d.Account == "":
		return invalid("account", "must not be empty")
	case !utf8.ValidString(d.Account):
		return invalid("account", "not valid UTF-8")
	}
	for _, t := range []text{
		// FB-DID is 64 bytes (seed).
		{field: "number", value: d.Number, bytes: 64, attr: MaxVendorAttributeBytes},
		{field: "lineId", value: d.LineID, bytes: 64, attr: MaxVendorAttributeBytes},
		{field: "queueProfile", value: d.QueueProfile, chars: 300, attr: MaxVendorAttributeBytes, check: checkXML},
		{field: "ani", value: d.ANI, chars: 32, ascii: true, attr: MaxVendorAttributeBytes},
	} {
		if err := t.validate(); err != nil {
			return err
		}
	}
	return nil
}

// Canonical returns a with its UUID and MAC address in the form the store
// keeps them: the UUID lower-case and dashed, the MAC address as IndexKey
// spells it. Values that do not parse are left for Validate to report.
func (a Account) Canonical() Account {
	if a.UUID != "" {
		a.UUID = canonicalUUID(a.UUID)
	}
	if mac, err := normalizeMAC(a.MACAddress); err == nil {
		a.MACAddress = mac
	}
	return a
}

// nameProblem returns why s cannot be an account name, or "".
func nameProblem(s string, o Options) string {
	switch {
	case s == "":
		return "must not be empty"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		// Backends build index keys as Fold(name) + "\x00" + something; a
		// NUL in the name would make two different pairs collide.
		return "must not contain a NUL byte"
	case !o.LongNames && len(s) > MaxNameBytes:
		return fmt.Sprintf("%q is %d bytes, the limit is %d; UUID mode (store.long_names) allows %d characters",
			s, len(s), MaxNameBytes, MaxLongNameChars)
	case o.LongNames && utf8.RuneCountInString(s) > MaxLongNameChars:
		return fmt.Sprintf("%q is %d characters, the limit is %d", s, utf8.RuneCountInString(s), MaxLongNameChars)
	case o.LongNames && len(s) > MaxAttributeBytes:
		return fmt.Sprintf("%q is %d bytes, more than the User-Name attribute carries (%d)", s, len(s), MaxAttributeBytes)
	}
	return ""
}

// text is one string field and its limits. Empty values are always valid.
type text struct {
	field, value string
	// chars and bytes are the seed's limit, in characters or in bytes; 0 is
	// no limit.
	chars, bytes int
	// attr is the size of the attribute the field is sent in.
	attr int
	// ascii requires printable ASCII, for the seed's "String (ASCII)" fields
	// that end up in T.30 frames and telephony signalling.
	ascii bool
	// check is a further rule of the field's syntax, or nil.
	check func(string) error
}

func (t text) validate() error {
	v := t.value
	if v == "" {
		return nil
	}
	switch n := utf8.RuneCountInString(v); {
	case !utf8.ValidString(v):
		return invalid(t.field, "not valid UTF-8")
	case t.ascii && !isPrintableASCII(v):
		return invalid(t.field, "must be printable ASCII")
	case t.chars > 0 && n > t.chars:
		return invalid(t.field, "is %d characters, the limit is %d", n, t.chars)
	case t.bytes > 0 && len(v) > t.bytes:
		return invalid(t.field, "is %d bytes, the limit is %d", len(v), t.bytes)
	case len(v) > t.attr:
		return invalid(t.field, "is %d bytes, more than one attribute carries (%d)", len(v), t.attr)
	}
	if t.check != nil {
		if err := t.check(v); err != nil {
			return invalid(t.field, "%v", err)
		}
	}
	return nil
}

func isPrintableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkGroup applies the seed's syntax of FB-Account-Login-Group and
// FB-Rule-Group: "" or "*" (the default group), "NAME", or "*NAME" (both).
func checkGroup(v string) error {
	name := strings.TrimPrefix(v, "*")
	if name == "" {
		return nil
	}
	if strings.ContainsAny(name, "*:;,") {
		return fmt.Errorf("%q: group names cannot include the asterisk (*), colon (:), semi-colon (;) or comma (,), except for one leading * meaning the default group too", v)
	}
	if strings.IndexFunc(name, unicode.IsLower) >= 0 {
		return fmt.Errorf("%q: group names must use upper-case letters", v)
	}
	return nil
}

// checkEmail is deliberately loose: the e-mail gateway, not RADIUS, is the
// judge of addresses. It catches what is clearly not one address.
func checkEmail(v string) error {
	local, domain, ok := strings.Cut(v, "@")
	switch {
	case !ok:
		return fmt.Errorf("%q is not an e-mail address: no @", v)
	case strings.Contains(domain, "@"):
		return fmt.Errorf("%q is not an e-mail address: more than one @", v)
	case local == "" || domain == "":
		return fmt.Errorf("%q is not an e-mail address: want text on both sides of the @", v)
	case strings.IndexFunc(v, unicode.IsSpace) >= 0:
		return fmt.Errorf("%q is not an e-mail address: it contains white space", v)
	}
	return nil
}

func checkNoNUL(v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return errors.New("must not contain a NUL byte")
	}
	return nil
}

// checkXML requires one well-formed element, as the port server passes the
// value to its queue processor as an XML document (seed: FB-Queue-Profile).
func checkXML(v string) error {
	d := xml.NewDecoder(strings.NewReader(v))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("not well-formed XML: text outside the element")
			}
		}
	}
	switch {
	case roots == 0:
		return errors.New("not well-formed XML: no element, e.g. <QPXml />")
	case roots > 1:
		return fmt.Errorf("not well-formed XML: %d top-level elements, want one", roots)
	}
	return nil
}
