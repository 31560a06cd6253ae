package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DIDSpec maps one dialled number to the account that receives its faxes,
// with the field names of the provisioning file's dids[]
// (services/provision/README.md).
type DIDSpec struct {
	// ClusterRef is the RadiusCluster whose store holds the DID. It cannot
	// change: delete the DID and create it again to move it.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef ClusterReference `json:"clusterRef"`

	// Number is the dialled number (FB-DID), 1 to 64 bytes, unique in the
	// cluster; "*" is the port server's catch-all DID. It is a field rather
	// than metadata.name because numbers such as "*" or "+15551231234" are
	// not Kubernetes names. It cannot change: it is the DID's key in the
	// store. Quote it in YAML ("5551231234"): a bare number is refused.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 64",message="must be at most 64 bytes"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="number is immutable: delete the DID and create it again"
	Number string `json:"number"`

	// Account is the name of the account that receives the DID's faxes
	// (case-insensitive). It must exist in the store: the operator reports
	// a missing one as Synced=False, Conflict.
	// +required
	Account AccountName `json:"account"`

	// Enabled is FB-DID-Enabled: false makes it a known DID the port server
	// must not route to.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// LineNum is FB-Line-Num: the physical line on a fax ATA, 0 to
	// 4294967295. Unset: not sent.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	LineNum *int64 `json:"lineNum,omitempty"`

	// LineID is FB-Line-Id: a name for the line, at most 64 bytes.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 64",message="must be at most 64 bytes"
	LineID string `json:"lineId,omitempty"`

	// QueueProfile is a per-line FB-Queue-Profile (Get-DID), as the
	// account's queueProfile; it should carry Op="1" to override the
	// account's. Well-formedness is checked by the operator.
	// +optional
	// +kubebuilder:validation:MaxLength=247
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 247",message="must be at most 247 bytes, what one FaxBack attribute carries"
	QueueProfile string `json:"queueProfile,omitempty"`

	// ANI is a per-line FB-Snd-ANI override (Get-DID): at most 32 printable
	// ASCII characters.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[\x20-\x7e]*$`
	ANI string `json:"ani,omitempty"`
}

// DIDStatus is the observed state of a DID.
type DIDStatus struct {
	// Conditions: Synced is True when the store holds the DID as of
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
}

// DID is a dialled number routed to an account in a RadiusCluster's store.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kradius
// +kubebuilder:printcolumn:name="Number",type=string,JSONPath=`.spec.number`
// +kubebuilder:printcolumn:name="Account",type=string,JSONPath=`.spec.account`
// +kubebuilder:printcolumn:name="Enabled",type=boolean,JSONPath=`.spec.enabled`
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`,priority=1
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DID struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired DID.
	// +required
	Spec DIDSpec `json:"spec"`
	// Status is what the operator observed.
	// +optional
	Status DIDStatus `json:"status,omitempty"`
}

// DIDList is a list of DIDs.
//
// +kubebuilder:object:root=true
type DIDList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DID `json:"items"`
}
