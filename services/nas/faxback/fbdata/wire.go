package fbdata

import (
	"fmt"
	"strings"
)

// The enumerated fields are stored as words, not the seed's integers, so that
// provisioning files and records read without the manual at hand. These
// tables are the only place the two meet: Validate accepts exactly their
// words, and the Value methods read them.
var (
	rcvFormats       = enum{{"", 0}, {"tiff", 0}, {"pdf", 1}}
	rcvFailoverModes = enum{{"", 0}, {"as-needed", 0}, {"always", 1}, {"load-balance-group-member", 2}}
	// An absent FB-Call-Ahead-Mode means Dynamic (1), so "" is 1 too.
	callAheadModes = enum{{"", 1}, {"never", 0}, {"dynamic", 1}, {"always", 2}}
	// FB-Upload-Logs has no default in the seed; "" means it is not sent.
	uploadLogs = enum{{"never", 0}, {"after-errors", 1}, {"after-all-sessions", 2}}
)

// validAccountTypes are the FB-Account-Type values the seed defines.
var validAccountTypes = map[uint32]bool{0: true, 1: true, 4: true, 5: true, 8: true, 9: true, 10: true}

// IsGroup reports whether a is a load-balance group (FB-Account-Type 8, 9 or
// 10), the only types that may have Members.
func (a Account) IsGroup() bool { return a.Type == 8 || a.Type == 9 || a.Type == 10 }

// RcvFormatValue is FB-Rcv-Format: 0 (TIFF) or 1 (PDF).
func (a Account) RcvFormatValue() uint32 {
	v, _ := rcvFormats.lookup(a.RcvFormat)
	return v
}

// RcvFailoverModeValue is FB-Rcv-Failover-Mode: 0 (as needed), 1 (always) or
// 2 (the failover account is a load-balance group a belongs to).
func (a Account) RcvFailoverModeValue() uint32 {
	v, _ := rcvFailoverModes.lookup(a.RcvFailoverMode)
	return v
}

// CallAheadModeValue is FB-Call-Ahead-Mode: 0 (never), 1 (dynamic, also for
// "") or 2 (always).
func (a Account) CallAheadModeValue() uint32 {
	// An unknown word cannot be stored (Validate refuses it); should one be
	// passed here anyway, it reads as the default, like "".
	if v, ok := callAheadModes.lookup(a.CallAheadMode); ok {
		return v
	}
	return 1
}

// UploadLogsValue is FB-Upload-Logs: 0 (never), 1 (after errors) or 2 (after
// all sessions). ok is false when a.UploadLogs is "", and the attribute must
// not be sent.
func (a Account) UploadLogsValue() (v uint32, ok bool) {
	return uploadLogs.lookup(a.UploadLogs)
}

// enum is the words of one enumerated field and the wire value of each.
type enum []struct {
	word  string
	value uint32
}

func (e enum) lookup(word string) (uint32, bool) {
	for _, w := range e {
		if w.word == word {
			return w.value, true
		}
	}
	return 0, false
}

// String lists the words, for error messages.
func (e enum) String() string {
	var words []string
	for _, w := range e {
		if w.word != "" {
			words = append(words, fmt.Sprintf("%q", w.word))
		}
	}
	return strings.Join(words, ", ")
}

// References are the folded names of the accounts a names — its members and
// its failover account — once each: the relations a store keeps so that a
// named account is not deleted from under a group. A failover to itself is
// left out: it would stop the account from ever being deleted.
func (a Account) References() []string {
	self := Fold(a.Name)
	seen := map[string]bool{self: true}
	var out []string
	for _, name := range append(append([]string(nil), a.Members...), a.RcvFailoverAccount) {
		key := Fold(name)
		if name == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, key)
	}
	return out
}
