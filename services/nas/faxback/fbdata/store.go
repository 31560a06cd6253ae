// Package fbdata is the FaxBack profile's data model: its serving data —
// accounts and DIDs — and the contract every backend (fbstore on records, and
// the legacy embedded bbolt and Redis stores) fulfils. The conformance suite
// in fbdatatest holds each backend to exactly the same behaviour.
package fbdata

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrNotFound means the account or DID does not exist. It is the only error
	// that may turn into an Access-Reject; every other error means "no answer".
	ErrNotFound = errors.New("not found")
	// ErrInvalid wraps a validation failure on write.
	ErrInvalid = errors.New("invalid")
	// ErrConflict means the write would break a relation: a DID, group member
	// or failover account naming no account, an index value (UUID, MAC
	// address, serial number, sender e-mail) held by another account, or
	// deleting an account that DIDs or other accounts still refer to.
	ErrConflict = errors.New("conflict")
)

// Name limits (seed: "Account Management" and "UUID Mode").
const (
	// MaxNameBytes is the FaxBack account-name limit: 1 to 16 bytes.
	MaxNameBytes = 16
	// MaxLongNameChars is the limit in UUID mode: 64 UTF-8 characters.
	MaxLongNameChars = 64
)

// Options are store-wide rules, the same for every backend.
type Options struct {
	// LongNames accepts account names of up to 64 UTF-8 characters instead of
	// 16 bytes, for port servers in UUID mode.
	LongNames bool
}

// Account is one FaxBack account. The zero value of every optional field is
// the seed's default for the attribute it feeds, so a zero field is simply
// not sent. Groups (load-balance groups) are accounts of type 8, 9 or 10
// with Members.
type Account struct {
	// Name is the account name as provisioned; lookups fold case.
	Name string `json:"name"`
	// UUID is the account's UUID in canonical form (lower-case, dashed). The
	// store assigns a random one on create when empty, and keeps the stored
	// one when a replacement leaves it empty.
	UUID string `json:"uuid,omitempty"`
	// PasswordHash is a PHC-format salted hash (see package password). Empty
	// means the account cannot log in (e.g. a load-balance group).
	PasswordHash string `json:"passwordHash,omitempty"`
	// Type is FB-Account-Type: 0, 1, 4, 5, 8, 9 or 10.
	Type uint32 `json:"type"`
	// LoginGroup is FB-Account-Login-Group ("", "*", "NAME" or "*NAME").
	LoginGroup string `json:"loginGroup,omitempty"`
	// RuleGroup is FB-Rule-Group, same syntax as LoginGroup.
	RuleGroup string `json:"ruleGroup,omitempty"`

	// CDRInfo, Customer and Source are copied into the session's CDR.
	CDRInfo  string `json:"cdrInfo,omitempty"`
	Customer string `json:"customer,omitempty"`
	Source   string `json:"source,omitempty"`

	// RcvEmail is FB-Rcv-Email: where the e-mail gateway sends received faxes.
	RcvEmail string `json:"rcvEmail,omitempty"`
	// SndEmail is FB-Snd-Email, and the sender address that
	// Get-Account-From-Sender-Email-Address looks up (unique, case-insensitive).
	SndEmail string `json:"sndEmail,omitempty"`
	// RcvFormat is FB-Rcv-Format: "" or "tiff" (0), "pdf" (1).
	RcvFormat string `json:"rcvFormat,omitempty"`
	// RcvCSID, SndTSID and SndANI override the T.30 CSI/TSI and the ANI.
	RcvCSID string `json:"rcvCSID,omitempty"`
	SndTSID string `json:"sndTSID,omitempty"`
	SndANI  string `json:"sndANI,omitempty"`

	// NoSaveCDR sends FB-Save-CDR=0 (the seed's default is 1).
	NoSaveCDR bool `json:"noSaveCDR,omitempty"`
	// SendDisabled and ReceiveDisabled send FB-Snd-From-Account=0 and
	// FB-Rcv-To-Account=0: a known account that may not send or receive gets
	// an Accept saying so, not a Reject.
	SendDisabled    bool `json:"sendDisabled,omitempty"`
	ReceiveDisabled bool `json:"receiveDisabled,omitempty"`
	// SendTimeExpired and ReceiveTimeExpired send FB-Snd-Time-Expired=1 and
	// FB-Rcv-Time-Expired=1.
	SendTimeExpired    bool `json:"sendTimeExpired,omitempty"`
	ReceiveTimeExpired bool `json:"receiveTimeExpired,omitempty"`

	// RcvFailoverAccount is FB-Rcv-Failover-Account-Id (a name; its UUID is
	// looked up for UUID-mode replies).
	RcvFailoverAccount string `json:"rcvFailoverAccount,omitempty"`
	// RcvFailoverMode is FB-Rcv-Failover-Mode: "" or "as-needed" (0),
	// "always" (1), "load-balance-group-member" (2).
	RcvFailoverMode string `json:"rcvFailoverMode,omitempty"`

	// QueueProfile is FB-Queue-Profile: well-formed XML, at most 300 characters.
	QueueProfile string `json:"queueProfile,omitempty"`
	// CallAheadMode is the account's call-ahead setting: "" or "dynamic" (1,
	// the seed's default), "never" (0), "always" (2).
	CallAheadMode string `json:"callAheadMode,omitempty"`
	// SendOnBehalfOf sends FB-Snd-On-Behalf-Of=1.
	SendOnBehalfOf bool `json:"sendOnBehalfOf,omitempty"`
	// UploadLogs is FB-Upload-Logs: "" (not sent), "never" (0),
	// "after-errors" (1), "after-all-sessions" (2).
	UploadLogs string `json:"uploadLogs,omitempty"`

	// MACAddress and SerialNumber identify the account's fax ATA (unique).
	MACAddress   string `json:"macAddress,omitempty"`
	SerialNumber string `json:"serialNumber,omitempty"`
	// ProvisioningArg is FB-Provisioning-Arg, at most 300 bytes.
	ProvisioningArg string `json:"provisioningArg,omitempty"`

	// Members are the member account names of a load-balance group (type 8,
	// 9 or 10 only). Each must exist when the group is written.
	Members []string `json:"members,omitempty"`

	// LastModified is set by the store on every write; it is the
	// FB-Last-Modified-Time that tells a port server a group changed.
	LastModified time.Time `json:"lastModified"`
}

// DID maps one dialled number to the account that receives its faxes.
type DID struct {
	Number  string `json:"number"`
	Account string `json:"account"`
	// Disabled sends FB-DID-Enabled=0 (the seed's default is 1).
	Disabled bool `json:"disabled,omitempty"`
	// LineNum and LineID are FB-Line-Num and FB-Line-Id (fax ATA lines).
	LineNum *uint32 `json:"lineNum,omitempty"`
	LineID  string  `json:"lineId,omitempty"`
	// QueueProfile is a per-line FB-Queue-Profile (XML, at most 300 characters).
	QueueProfile string `json:"queueProfile,omitempty"`
	// ANI is a per-line FB-Snd-ANI override.
	ANI string `json:"ani,omitempty"`
}

// Clone returns a copy of d that shares no memory with it.
func (d DID) Clone() DID {
	if d.LineNum != nil {
		n := *d.LineNum
		d.LineNum = &n
	}
	return d
}

// CallResult is FB-Called-Number-Result from an Accounting Stop.
type CallResult uint32

const (
	CallSuccess    CallResult = 0
	CallFaxError   CallResult = 1
	CallVoiceError CallResult = 2
)

// CalledNumber is what the called-numbers database knows of a fax number.
type CalledNumber struct {
	Number string `json:"number"`
	// FaxVerified: a fax device answered once (Success or FaxError).
	FaxVerified bool `json:"faxVerified,omitempty"`
	// VoiceError: a voice answered once. Sticky: it is never cleared, since
	// the line may be shared voice/fax (seed: "Fax ATA Call-Ahead").
	VoiceError bool      `json:"voiceError,omitempty"`
	Updated    time.Time `json:"updated"`
}

// Index names an account lookup other than by name.
type Index string

const (
	IndexUUID        Index = "uuid"
	IndexMAC         Index = "mac"
	IndexSerial      Index = "serial"
	IndexSenderEmail Index = "sender-email"
)

// Batch is a set of writes applied atomically: all of it or none of it.
type Batch struct {
	Accounts []Account
	DIDs     []DID
	// CalledNumbers replace what the called-numbers database knows of
	// their numbers (a carrier's existing database, say); the store sets
	// Updated.
	CalledNumbers []CalledNumber
}

// Store is the serving store. Implementations must be safe for concurrent use.
type Store interface {
	BatchReader
	// GetAccount looks an account up by name, case-insensitively.
	GetAccount(ctx context.Context, name string) (Account, error)
	// AccountBy looks an account up by UUID, MAC address, serial number or
	// sender e-mail; the value is normalised with IndexKey first.
	AccountBy(ctx context.Context, idx Index, value string) (Account, error)
	// PutAccount creates or replaces an account. Its members and failover
	// account must exist and its index values must be its own (ErrConflict
	// otherwise).
	PutAccount(ctx context.Context, a Account) error
	// DeleteAccount removes an account; ErrConflict if it still owns DIDs or
	// is a member or the failover account of another account.
	DeleteAccount(ctx context.Context, name string) error
	// GetDID looks a DID up by number.
	GetDID(ctx context.Context, number string) (DID, error)
	// PutDID creates or replaces a DID; its account must exist (ErrConflict otherwise).
	PutDID(ctx context.Context, d DID) error
	// DeleteDID removes a DID.
	DeleteDID(ctx context.Context, number string) error
	// DIDsForAccount lists an account's DIDs, sorted by number.
	DIDsForAccount(ctx context.Context, name string) ([]DID, error)
	// Apply writes a batch atomically, validating every record first.
	Apply(ctx context.Context, b Batch) error
	// ListAccounts returns up to limit accounts whose folded name sorts after
	// after ("" for the first page), in folded-name order.
	ListAccounts(ctx context.Context, after string, limit int) ([]Account, error)
	// ListDIDs returns up to limit DIDs whose number sorts after after, in
	// number order.
	ListDIDs(ctx context.Context, after string, limit int) ([]DID, error)
	// GetCalledNumber reads the called-numbers database; ErrNotFound for a
	// number never recorded.
	GetCalledNumber(ctx context.Context, number string) (CalledNumber, error)
	// RecordCalledNumber applies one FB-Called-Number-Result to it (see
	// CalledNumber.Record).
	RecordCalledNumber(ctx context.Context, number string, result CallResult) error
	// ListCalledNumbers returns up to limit entries of the called-numbers
	// database whose number sorts after after, in number order.
	ListCalledNumbers(ctx context.Context, after string, limit int) ([]CalledNumber, error)
	// DeleteCalledNumber forgets a number: the next call to it is unknown.
	DeleteCalledNumber(ctx context.Context, number string) error
	// Close releases the backend.
	Close() error
}

// Fold returns the case-insensitive key of an account name.
func Fold(name string) string { return strings.ToLower(name) }

// FieldError is a validation failure of one field. It wraps ErrInvalid, and
// keeps Field and Reason apart so that callers reporting on a whole file (see
// package provision) can put the record's position in front without parsing
// the message.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return ErrInvalid.Error() + ": " + e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
