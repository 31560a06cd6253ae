package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CarrierName is a carrier's name, as a FireBrick sends it after '@' in
// User-Name: 1 to 252 bytes, no '@', ':', blanks or control characters. Names are
// case-insensitive.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=252
// +kubebuilder:validation:Pattern=`^[^@:\x00-\x20\x7f]+$`
// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 252",message="must be at most 252 bytes: \"@name\" fills one User-Name attribute"
type CarrierName string

// CarrierCIDR is a network in CIDR notation (198.51.100.0/24,
// 2001:db8::/48); a single address is written /32 or /128. The store also
// refuses host bits (10.0.0.1/8), naming the network meant.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=49
// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="must be a CIDR (address/bits), e.g. 198.51.100.0/24; a single address is 198.51.100.7/32"
type CarrierCIDR string

// CarrierSpec is a telephone carrier that kradius's operator exchanges
// calls with (kind "carriers", message kradius.carrier.v1.Carrier), with
// the field names of the import format. The kind is shared by the
// carrier-voice profiles: one Carrier serves the firebrick profile (the
// "@name" of a call) and, as they come, the others' (a Dialogic's TDM
// trunks), whose fields are added here as optional ones.
type CarrierSpec struct {
	// ClusterRef is the RadiusCluster whose store holds the carrier. It
	// cannot change: delete the Carrier and create it again to move it.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef ClusterReference `json:"clusterRef"`

	// Name is the carrier's name, as the FireBrick's "@name";
	// case-insensitive and unique in the cluster. Unset: metadata.name. It
	// cannot change except in letter case: it is the carrier's key in the
	// store.
	// +optional
	Name CarrierName `json:"name,omitempty"`

	// CUI is the Chargeable-User-Identity of the carrier's calls, for the
	// CDR when the NAS sends none: at most 253 bytes.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what one attribute carries"
	CUI string `json:"cui,omitempty"`

	// SourceCIDRs are the networks the carrier's signalling comes from (its
	// SIP proxies, its VoIP gateways). Empty: any address. A request naming
	// the carrier from another address is refused.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	SourceCIDRs []CarrierCIDR `json:"sourceCidrs,omitempty"`

	// RejectMessage goes into the Reply-Message of a Reject of the carrier's
	// calls, which the FireBrick puts in the SIP response: at most 253
	// bytes. Empty: a Reject carries none.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what one attribute carries"
	RejectMessage string `json:"rejectMessage,omitempty"`

	// Trunks are the carrier's TDM trunks on the Dialogic IMGs: a call on
	// one is the carrier's.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1024
	Trunks []CarrierTrunk `json:"trunks,omitempty"`

	// Primary marks the Primary Carrier, the owner of the IMGs: its
	// sourceCidrs are the on-net gateways a transit call's halves meet at.
	// At most one carrier of a cluster is primary; a second is a Conflict.
	// +optional
	Primary bool `json:"primary,omitempty"`

	// AllowedPrefixes, when set, are the called numbers the carrier may
	// reach (service authorization: a Dialogic carrier authentication to
	// another number is a Reject). Empty: any number.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:Pattern=`^\+?[0-9]{1,31}$`
	AllowedPrefixes []string `json:"allowedPrefixes,omitempty"`
}

// CarrierTrunk is one TDM trunk: the IMG that reports it (its
// NAS-IP-Address) and its trunk id there.
type CarrierTrunk struct {
	// IMG is the IMG's address, as its NAS-IP-Address.
	// +required
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be the IMG's IP address"
	IMG string `json:"img"`
	// TrunkID is the trunk (channel group) id the IMG reports.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	TrunkID string `json:"trunkId"`
}

// CarrierStatus is the observed state of a Carrier.
type CarrierStatus struct {
	// Conditions: Synced is True when the store holds the carrier as of
	// observedGeneration; False says why (Invalid, Conflict,
	// ClusterNotFound, Unavailable) and names the field.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// CarrierName is the carrier's name in the store: spec.name, or
	// metadata.name when that is unset.
	// +optional
	CarrierName string `json:"carrierName,omitempty"`
}

// Carrier is a telephone carrier in a RadiusCluster's store, shared by the
// carrier-voice NAS profiles.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kradius
// +kubebuilder:validation:XValidation:rule="(has(self.spec.name) ? self.spec.name : self.metadata.name).lowerAscii() == (has(oldSelf.spec.name) ? oldSelf.spec.name : oldSelf.metadata.name).lowerAscii()",message="the carrier name (spec.name, or metadata.name when unset) is immutable except for letter case: delete the Carrier and create it again to rename it"
// +kubebuilder:printcolumn:name="Carrier",type=string,JSONPath=`.status.carrierName`
// +kubebuilder:printcolumn:name="CIDRs",type=string,JSONPath=`.spec.sourceCidrs`
// +kubebuilder:printcolumn:name="Primary",type=boolean,JSONPath=`.spec.primary`,priority=1
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`,priority=1
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Carrier struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired carrier.
	// +required
	Spec CarrierSpec `json:"spec"`
	// Status is what the operator observed.
	// +optional
	Status CarrierStatus `json:"status,omitempty"`
}

// CarrierList is a list of Carriers.
//
// +kubebuilder:object:root=true
type CarrierList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Carrier `json:"items"`
}
