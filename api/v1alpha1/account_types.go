package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AccountName is a FaxBack account name (User-Name): 1 to 64 characters, at
// most 253 bytes, no NUL. Names are case-insensitive. Unless the cluster
// runs with longNames (FaxBack UUID mode) a name is at most 16 bytes; the
// rules that say so are on the fields that know spec.longName.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=64
// +kubebuilder:validation:Pattern=`^[^\x00]+$`
// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what the User-Name attribute carries"
type AccountName string

// AccountSpec is one FaxBack account, with the field names of the
// provisioning file (services/provision/README.md). Every optional field's
// zero value is the port server's default for the attribute it feeds, so an
// omitted field is simply not sent. The clear-text password comes from a
// Secret instead of the file's password/passwordHash.
//
// +kubebuilder:validation:XValidation:rule="!has(self.name) || (has(self.longName) && self.longName) || size(bytes(self.name)) <= 16",message="name: more than 16 bytes needs longName: true (a cluster with longNames, FaxBack UUID mode)",fieldPath=".name"
// +kubebuilder:validation:XValidation:rule="!has(self.members) || size(self.members) == 0 || (has(self.type) && self.type in [8, 9, 10])",message="members: only load-balance groups (type 8, 9 or 10) have members",fieldPath=".members"
// +kubebuilder:validation:XValidation:rule="!has(self.members) || (has(self.longName) && self.longName) || self.members.all(m, size(bytes(m)) <= 16)",message="members: a name of more than 16 bytes needs longName: true",fieldPath=".members"
// +kubebuilder:validation:XValidation:rule="!has(self.members) || !has(self.name) || !self.members.exists(m, m.lowerAscii() == self.name.lowerAscii())",message="members: must not name the group itself",fieldPath=".members"
type AccountSpec struct {
	// ClusterRef is the RadiusCluster whose store holds the account. It
	// cannot change: delete the Account and create it again to move it.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef ClusterReference `json:"clusterRef"`

	// Name is the FaxBack account name (User-Name), case-insensitive and
	// unique in the cluster. Unset: metadata.name. Set it when the name is
	// not a valid Kubernetes name (upper case, '_', '@', more than 253
	// characters ...) or should differ from it. 1 to 16 bytes, or up to 64
	// characters with longName. It cannot change except in letter case:
	// it is the account's key in the store, and DIDs and groups refer to it.
	// +optional
	Name AccountName `json:"name,omitempty"`

	// LongName says that the account's name, or a member's, may be longer
	// than 16 bytes (up to 64 characters), which needs a cluster with
	// spec.longNames (config store.long_names, FaxBack UUID mode). It exists
	// because the CRD cannot see the cluster's setting: the operator reports
	// a name over 16 bytes on a cluster without longNames as Synced=False
	// (Invalid).
	// +optional
	LongName bool `json:"longName,omitempty"`

	// UUID is the account's UUID (FB-Account-UUID): 0x and 32 hex digits, or
	// dashed 8-4-4-4-12 hex digits, any case; unique. Unset: the store
	// assigns a random one and keeps it (see status.uuid).
	// +optional
	// +kubebuilder:validation:Pattern=`^(0[xX][0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$`
	UUID string `json:"uuid,omitempty"`

	// PasswordSecretRef is a key of a Secret holding the account's
	// clear-text password, which the operator hashes (argon2id) before it
	// reaches the store. Unset: the account cannot log in (every login is
	// rejected as a wrong password), as suits load-balance groups and
	// e-mail gateway accounts.
	// +optional
	// +kubebuilder:validation:XValidation:rule="size(self.name) > 0",message="name is required"
	// +kubebuilder:validation:XValidation:rule="!has(self.optional) || !self.optional",message="optional: true is not supported: leave passwordSecretRef unset for an account that cannot log in"
	PasswordSecretRef *corev1.SecretKeySelector `json:"passwordSecretRef,omitempty"`

	// Type is FB-Account-Type: 0, 1 (shared send-only), 4, 5 (fax ATA), 8,
	// 9, 10 (load-balance groups).
	// +optional
	// +kubebuilder:default=0
	// +kubebuilder:validation:Enum=0;1;4;5;8;9;10
	Type int32 `json:"type,omitempty"`

	// LoginGroup is FB-Account-Login-Group: "" or "*" (the default group),
	// "NAME", or "*NAME" (both); NAME has no lower-case letters and no '*',
	// ':', ';' or ','. At most 64 bytes. Quote a value starting with '*' in
	// YAML, where a bare *NAME is an alias.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^\*?[^*:;,\p{Ll}]*$`
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 64",message="must be at most 64 bytes"
	LoginGroup string `json:"loginGroup,omitempty"`

	// RuleGroup is FB-Rule-Group, with the syntax of loginGroup.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^\*?[^*:;,\p{Ll}]*$`
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 64",message="must be at most 64 bytes"
	RuleGroup string `json:"ruleGroup,omitempty"`

	// CDRInfo is FB-CDR-Info, copied into the session's CDR. At most 64
	// characters.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	CDRInfo string `json:"cdrInfo,omitempty"`

	// Customer is FB-Customer, copied into the session's CDR. At most 64
	// characters.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	Customer string `json:"customer,omitempty"`

	// Source is FB-Source, copied into the session's CDR. At most 64
	// characters.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	Source string `json:"source,omitempty"`

	// RcvEmail is FB-Rcv-Email: where the e-mail gateway sends received
	// faxes. One '@' with text on both sides, no white space; at most 128
	// characters.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^([^@\s\v\x{85}\p{Z}]+@[^@\s\v\x{85}\p{Z}]+)?$`
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	RcvEmail string `json:"rcvEmail,omitempty"`

	// SndEmail is FB-Snd-Email, and the sender address that
	// Get-Account-From-Sender-Email-Address looks up: unique in the cluster,
	// case-insensitive. Syntax as rcvEmail.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^([^@\s\v\x{85}\p{Z}]+@[^@\s\v\x{85}\p{Z}]+)?$`
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	SndEmail string `json:"sndEmail,omitempty"`

	// RcvFormat is FB-Rcv-Format: tiff (0) or pdf (1). "": TIFF.
	// +optional
	// +kubebuilder:validation:Enum="";tiff;pdf
	RcvFormat string `json:"rcvFormat,omitempty"`

	// RcvCSID overrides the T.30 CSI of received faxes (FB-Rcv-CSID): at
	// most 20 printable ASCII characters.
	// +optional
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=`^[\x20-\x7e]*$`
	RcvCSID string `json:"rcvCSID,omitempty"`

	// SndTSID overrides the T.30 TSI of sent faxes (FB-Snd-TSID): at most 20
	// printable ASCII characters.
	// +optional
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=`^[\x20-\x7e]*$`
	SndTSID string `json:"sndTSID,omitempty"`

	// SndANI overrides the calling number of sent faxes (FB-Snd-ANI): at
	// most 32 printable ASCII characters.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[\x20-\x7e]*$`
	SndANI string `json:"sndANI,omitempty"`

	// SaveCDR is FB-Save-CDR: false stops CDRs for the account.
	// +optional
	// +kubebuilder:default=true
	SaveCDR *bool `json:"saveCDR,omitempty"`

	// SendEnabled is FB-Snd-From-Account: false lets the account log in but
	// not send.
	// +optional
	// +kubebuilder:default=true
	SendEnabled *bool `json:"sendEnabled,omitempty"`

	// ReceiveEnabled is FB-Rcv-To-Account: false stops faxes being routed to
	// the account.
	// +optional
	// +kubebuilder:default=true
	ReceiveEnabled *bool `json:"receiveEnabled,omitempty"`

	// SendTimeExpired sends FB-Snd-Time-Expired=1: no send time left.
	// +optional
	SendTimeExpired bool `json:"sendTimeExpired,omitempty"`

	// ReceiveTimeExpired sends FB-Rcv-Time-Expired=1: no receive time left.
	// +optional
	ReceiveTimeExpired bool `json:"receiveTimeExpired,omitempty"`

	// RcvFailoverAccount is FB-Rcv-Failover-Account-Id (its UUID in UUID
	// mode): the account that receives when this one cannot. It must exist
	// in the store (the operator reports a missing one as Synced=False,
	// Conflict). At most 64 characters.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[^\x00]*$`
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	RcvFailoverAccount string `json:"rcvFailoverAccount,omitempty"`

	// RcvFailoverMode is FB-Rcv-Failover-Mode: as-needed (0), always (1), or
	// load-balance-group-member (2). "": as-needed.
	// +optional
	// +kubebuilder:validation:Enum="";as-needed;always;load-balance-group-member
	RcvFailoverMode string `json:"rcvFailoverMode,omitempty"`

	// QueueProfile is FB-Queue-Profile: one well-formed XML element, e.g.
	// <QPXml Rf="0" Dn="1" Ln="en-US" Tz="Pacific*" />. The seed allows 300
	// characters, but one attribute carries 247 bytes, which is the limit.
	// Well-formedness is checked by the operator (Synced=False, Invalid).
	// "": the port server's default, <QPXml />.
	// +optional
	// +kubebuilder:validation:MaxLength=247
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	QueueProfile string `json:"queueProfile,omitempty"`

	// CallAheadMode is FB-Call-Ahead-Mode: never (0), dynamic (1) or always
	// (2). "": dynamic.
	// +optional
	// +kubebuilder:validation:Enum="";never;dynamic;always
	CallAheadMode string `json:"callAheadMode,omitempty"`

	// SendOnBehalfOf sends FB-Snd-On-Behalf-Of=1: the account may send on
	// behalf of another.
	// +optional
	SendOnBehalfOf bool `json:"sendOnBehalfOf,omitempty"`

	// UploadLogs is FB-Upload-Logs: never (0), after-errors (1) or
	// after-all-sessions (2). "": not sent.
	// +optional
	// +kubebuilder:validation:Enum="";never;after-errors;after-all-sessions
	UploadLogs string `json:"uploadLogs,omitempty"`

	// MACAddress is the MAC address of the account's fax ATA, the key of
	// Get-Account-From-MAC-Address: 12 hex digits, optionally separated by
	// ':', '-' or '.'; unique in the cluster. The store keeps it as
	// 00908F1D37F0.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^([-:.]*([0-9A-Fa-f][-:.]*){12})?$`
	MACAddress string `json:"macAddress,omitempty"`

	// SerialNumber is the serial number of the account's fax ATA, the key of
	// Get-Account-From-Serial-Number: at most 64 characters; unique in the
	// cluster, case-insensitive.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what the User-Name attribute carries"
	SerialNumber string `json:"serialNumber,omitempty"`

	// ProvisioningArg is FB-Provisioning-Arg. The seed allows 300 bytes,
	// but one attribute carries 247, which is the limit.
	// +optional
	// +kubebuilder:validation:MaxLength=247
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	ProvisioningArg string `json:"provisioningArg,omitempty"`

	// Members are the member account names of a load-balance group (type 8,
	// 9 or 10 only), answered to Get-Load-Balance-Group-Members in this
	// order. No repeats (case-insensitive), not the group itself; each must
	// exist in the store (the operator reports a missing one as
	// Synced=False, Conflict).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:XValidation:rule="self.all(m, self.exists_one(n, n.lowerAscii() == m.lowerAscii()))",message="must not repeat a name (names are case-insensitive)"
	Members []AccountName `json:"members,omitempty"`
}

// AccountStatus is the observed state of an Account.
type AccountStatus struct {
	// Conditions: Synced is True when the store holds the account as of
	// observedGeneration; False says why (Invalid, Conflict,
	// ClusterNotFound, SecretNotFound, Unavailable) and names the field.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// AccountName is the account's name in the store: spec.name, or
	// metadata.name when that is unset.
	// +optional
	AccountName string `json:"accountName,omitempty"`

	// UUID is the account's UUID in the store, lower-case and dashed:
	// spec.uuid, or the one the store assigned.
	// +optional
	UUID string `json:"uuid,omitempty"`
}

// Account is a FaxBack account, or a load-balance group (type 8, 9 or 10),
// in a RadiusCluster's store.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kradius
// +kubebuilder:validation:XValidation:rule="has(self.spec.name) || size(self.metadata.name) <= ((has(self.spec.longName) && self.spec.longName) ? 64 : 16)",message="metadata.name is the account name when spec.name is unset, and is too long for one: at most 16 characters, or 64 with spec.longName; set spec.name"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.members) || has(self.spec.name) || !self.spec.members.exists(m, m.lowerAscii() == self.metadata.name)",message="spec.members must not name the group itself (metadata.name, as spec.name is unset)"
// +kubebuilder:validation:XValidation:rule="(has(self.spec.name) ? self.spec.name : self.metadata.name).lowerAscii() == (has(oldSelf.spec.name) ? oldSelf.spec.name : oldSelf.metadata.name).lowerAscii()",message="the account name (spec.name, or metadata.name when unset) is immutable except for letter case: delete the Account and create it again to rename it"
// +kubebuilder:printcolumn:name="Account",type=string,JSONPath=`.status.accountName`
// +kubebuilder:printcolumn:name="Type",type=integer,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`,priority=1
// +kubebuilder:printcolumn:name="UUID",type=string,JSONPath=`.status.uuid`,priority=1
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Account struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired account.
	// +required
	Spec AccountSpec `json:"spec"`
	// Status is what the operator observed.
	// +optional
	Status AccountStatus `json:"status,omitempty"`
}

// AccountList is a list of Accounts.
//
// +kubebuilder:object:root=true
type AccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Account `json:"items"`
}
