package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SIPUserName is a FireBrick SIP user name (Digest-Username, User-Name): 1
// to 253 bytes, no ':' and no blanks. Names are case-insensitive in the
// store, but the HA1 hashes the name as given, as the phone sends it.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^[^:\x20\t]+$`
// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what the User-Name attribute carries"
type SIPUserName string

// SIPNumber is a telephone number as the FireBrick profile reads one:
// digits, a leading + allowed, at most 32 characters.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:Pattern=`^\+?[0-9]+$`
type SIPNumber string

// SIPMethod is a SIP method in upper case: REGISTER, INVITE, REFER ...
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:Pattern=`^[A-Z]+$`
type SIPMethod string

// SIPUserSpec is one SIP user of the firebrick profile (kind
// "firebrick.users", message kradius.firebrick.v1.User), with the field
// names of the import format. Its passwords are never stored: the operator
// hashes each realm's password from passwordsSecretRef into an HA1, and
// takes ha1SecretRef's HA1s as they are.
//
// +kubebuilder:validation:XValidation:rule="has(self.passwordsSecretRef) || has(self.ha1SecretRef)",message="passwordsSecretRef or ha1SecretRef is required: a user without a password for any realm cannot register"
type SIPUserSpec struct {
	// ClusterRef is the RadiusCluster whose store holds the user. It cannot
	// change: delete the SIPUser and create it again to move it.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef ClusterReference `json:"clusterRef"`

	// Name is the SIP user name (Digest-Username), case-insensitive and
	// unique in the cluster. Unset: metadata.name. Set it when the name is
	// not a valid Kubernetes name (upper case, '_', '@' ...). It cannot
	// change except in letter case: it is the user's key in the store.
	// +optional
	Name SIPUserName `json:"name,omitempty"`

	// Extension is the user's short number on the FireBrick: a REGISTER
	// binds it as tel:N. Unset: the first of ddi, and with neither kradius
	// keeps the user's contacts itself.
	// +optional
	Extension SIPNumber `json:"extension,omitempty"`

	// DDI are the numbers that ring this user.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	DDI []SIPNumber `json:"ddi,omitempty"`

	// CUI is the Chargeable-User-Identity of the user's calls: at most 253
	// bytes.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what one attribute carries"
	CUI string `json:"cui,omitempty"`

	// PasswordsSecretRef names a Secret in the namespace whose keys are
	// realms and whose values are the user's clear-text password in each:
	// the operator writes HA1 = hex(MD5(name:realm:password)) for each and
	// never the password. A realm must not also be in ha1SecretRef. Secret
	// keys hold letters, digits, '-', '_' and '.' only: a realm with other
	// characters cannot be given this way.
	// +optional
	PasswordsSecretRef *SecretNameReference `json:"passwordsSecretRef,omitempty"`

	// HA1SecretRef names a Secret in the namespace whose keys are realms and
	// whose values are HA1s, 32 hex digits each, hashed elsewhere (a
	// migration from another SIP registrar). The store checks their form.
	// +optional
	HA1SecretRef *SecretNameReference `json:"ha1SecretRef,omitempty"`

	// Methods are the SIP methods the user may use (REGISTER, INVITE ...);
	// empty allows every method.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	Methods []SIPMethod `json:"methods,omitempty"`

	// RedirectContact, when set, is the contact a REGISTER is redirected to
	// (SIP-AOR in the Accept, a 302 to the phone): at most 253 bytes.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what one attribute carries"
	RedirectContact string `json:"redirectContact,omitempty"`
}

// SIPUserStatus is the observed state of a SIPUser.
type SIPUserStatus struct {
	// Conditions: Synced is True when the store holds the user as of
	// observedGeneration and its Secrets' current values; False says why
	// (Invalid, Conflict, ClusterNotFound, SecretNotFound, Unavailable) and
	// names the field.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// UserName is the user's name in the store: spec.name, or metadata.name
	// when that is unset.
	// +optional
	UserName string `json:"userName,omitempty"`

	// Realms are the realms the store holds an HA1 for, sorted.
	// +optional
	// +listType=atomic
	Realms []string `json:"realms,omitempty"`
}

// SIPUser is a SIP user of the firebrick profile (a phone or softphone that
// registers and calls, checked by digest) in a RadiusCluster's store.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kradius
// +kubebuilder:validation:XValidation:rule="(has(self.spec.name) ? self.spec.name : self.metadata.name).lowerAscii() == (has(oldSelf.spec.name) ? oldSelf.spec.name : oldSelf.metadata.name).lowerAscii()",message="the user name (spec.name, or metadata.name when unset) is immutable except for letter case: delete the SIPUser and create it again to rename it"
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.status.userName`
// +kubebuilder:printcolumn:name="Extension",type=string,JSONPath=`.spec.extension`
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`,priority=1
// +kubebuilder:printcolumn:name="Realms",type=string,JSONPath=`.status.realms`,priority=1
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SIPUser struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired user.
	// +required
	Spec SIPUserSpec `json:"spec"`
	// Status is what the operator observed.
	// +optional
	Status SIPUserStatus `json:"status,omitempty"`
}

// SIPUserList is a list of SIPUsers.
//
// +kubebuilder:object:root=true
type SIPUserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SIPUser `json:"items"`
}
