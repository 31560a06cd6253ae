package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SIPRouteSpec sends the calls to dialled numbers that match its pattern to
// an ordered list of legs: one route of the firebrick profile (kind
// "firebrick.routes", message kradius.firebrick.v1.Route), with the field
// names of the import format. A call takes the route of the exact number,
// else of its longest matching prefix, else the catch-all "*".
//
// +kubebuilder:validation:XValidation:rule="!has(self.rejectMessage) || size(self.rejectMessage) == 0 || !has(self.legs) || size(self.legs) == 0",message="rejectMessage: only for a route without legs",fieldPath=".rejectMessage"
type SIPRouteSpec struct {
	// ClusterRef is the RadiusCluster whose store holds the route. It cannot
	// change: delete the SIPRoute and create it again to move it.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="clusterRef is immutable"
	ClusterRef ClusterReference `json:"clusterRef"`

	// Pattern is a number (digits, a leading + allowed, at most 32
	// characters) for that number alone, a number followed by "*" for every
	// number it begins, or "*" alone for every number. It is unique in the
	// cluster and cannot change: it is the route's key in the store. It is a
	// field rather than metadata.name because "*" and "+44..." are not
	// Kubernetes names. Quote it in YAML ("4416329600*", "*").
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=33
	// +kubebuilder:validation:Pattern=`^(\*|\+?[0-9]+\*?)$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="pattern is immutable: delete the SIPRoute and create it again"
	Pattern string `json:"pattern"`

	// Legs are called in order, each a new outgoing leg of the call. A route
	// without legs rejects its calls. At most 32: the FireBrick reads every
	// leg from one Access-Accept.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Legs []SIPRouteLeg `json:"legs,omitempty"`

	// RejectMessage, for a route without legs, goes into the Reject's
	// Reply-Message, which the FireBrick puts in the SIP response: at most
	// 253 bytes.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what one attribute carries"
	RejectMessage string `json:"rejectMessage,omitempty"`
}

// SIPRouteLeg is one outgoing leg of a call.
type SIPRouteLeg struct {
	// Target is where the leg goes: tel:N (the contacts registered for N),
	// sip:URI, user:NAME (the contacts kradius keeps for a SIP user),
	// @carrier or N@carrier. The CRD checks the shape, scheme:rest or
	// [N]@carrier; the store checks the rest (the number, the user name)
	// and its refusal is reported as Synced=False, Invalid.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z][a-z0-9+.-]*:.+|[^@]*@.+)$`
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what one attribute carries"
	Target string `json:"target"`

	// DelaySeconds rings the leg that long after the call starts (cascade
	// ringing).
	// +optional
	// +kubebuilder:validation:Minimum=0
	DelaySeconds int32 `json:"delaySeconds,omitempty"`

	// CLI overrides the calling line: a number, "Anonymous" (withheld),
	// "Allowed" (presented) or user@host (a new From).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^(Anonymous|Allowed|\+?[0-9]+|[^@]*@.*)$`
	CLI string `json:"cli,omitempty"`

	// Dialled overrides the number dialled on this leg.
	// +optional
	Dialled SIPNumber `json:"dialled,omitempty"`

	// DisplayName replaces the leg's display name: at most 253 bytes.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what one attribute carries"
	DisplayName string `json:"displayName,omitempty"`

	// CUI is the Chargeable-User-Identity written to this leg's accounting:
	// at most 253 bytes.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(bytes(self)) <= 253",message="must be at most 253 bytes, what one attribute carries"
	CUI string `json:"cui,omitempty"`

	// RecordingEmails get a recording of this leg: one '@' with text on
	// both sides, no white space, at most 128 characters each.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[^@\s\v\x{85}\p{Z}]+@[^@\s\v\x{85}\p{Z}]+$`
	RecordingEmails []string `json:"recordingEmails,omitempty"`
}

// SIPRouteStatus is the observed state of a SIPRoute.
type SIPRouteStatus struct {
	// Conditions: Synced is True when the store holds the route as of
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

// SIPRoute is a call route of the firebrick profile in a RadiusCluster's
// store: a number pattern to ordered legs.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kradius
// +kubebuilder:printcolumn:name="Pattern",type=string,JSONPath=`.spec.pattern`
// +kubebuilder:printcolumn:name="Legs",type=string,JSONPath=`.spec.legs[*].target`
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`,priority=1
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SIPRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired route.
	// +required
	Spec SIPRouteSpec `json:"spec"`
	// Status is what the operator observed.
	// +optional
	Status SIPRouteStatus `json:"status,omitempty"`
}

// SIPRouteList is a list of SIPRoutes.
//
// +kubebuilder:object:root=true
type SIPRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SIPRoute `json:"items"`
}
