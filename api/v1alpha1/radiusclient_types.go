package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProfileFaxBack is the FaxBack profile, whose options block is
// RadiusClientSpec.FaxBack. The profiles a RadiusClient may name are
// ProfileName's, generated from the registry (services/nas/profiles).
const ProfileFaxBack = "faxback"

// Message-Authenticator policies of a RadiusClient.
const (
	MessageAuthenticatorRequire = "require"
	MessageAuthenticatorAuto    = "auto"
	MessageAuthenticatorOff     = "off"
)

// FaxBack UUID formats of a RadiusClient.
const (
	UUIDFormatBinary = "binary"
	UUIDFormatHex    = "hex"
	UUIDFormatDash   = "dash"
)

// ClientCIDR is a NAS source address range in CIDR notation (10.0.0.0/8,
// 2001:db8::/32) or a bare address (192.0.2.10, a /32 or /128).
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=49
// +kubebuilder:validation:XValidation:rule="isCIDR(self) || isIP(self)",message="must be an IP address or a CIDR, e.g. 192.0.2.10 or 10.0.0.0/8"
type ClientCIDR string

// RadiusClientSpec is one entry of the edges' client table (config:
// edge.clients[]): how the edge knows the NAS (its source addresses and
// shared secret, its RadSec certificate names, or both) and how its
// requests are handled. The resource's metadata.name is the client's name
// in logs and metrics.
// +kubebuilder:validation:XValidation:rule="!has(self.faxback) || !has(self.profile) || self.profile == 'faxback'",message="faxback is set for a client whose profile is not faxback"
// +kubebuilder:validation:XValidation:rule="has(self.cidrs) || has(self.radsec)",message="a client needs cidrs (its source addresses), radsec (its certificate names), or both"
// +kubebuilder:validation:XValidation:rule="!has(self.cidrs) || has(self.secretRef)",message="secretRef is required with cidrs: the shared secret of the NAS's RADIUS over UDP"
// +kubebuilder:validation:XValidation:rule="has(self.cidrs) || !has(self.secretRef)",message="secretRef is set without cidrs: a RadSec-only client uses RFC 6614's fixed secret (radsec); remove secretRef, or add cidrs for RADIUS over UDP"
type RadiusClientSpec struct {
	// ClusterRef is the RadiusCluster whose edges serve this client.
	// +required
	ClusterRef ClusterReference `json:"clusterRef"`

	// CIDRs are the NAS's source addresses or address ranges, for RADIUS
	// over UDP (config: cidrs). A request's source address picks the client
	// by the most specific match over every client of the cluster; the same
	// range in two clients is a conflict the operator reports
	// (Synced=False, Conflict), and the later client is left out of the
	// table. Unset for a client that comes only over RadSec.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	CIDRs []ClientCIDR `json:"cidrs,omitempty"`

	// SecretRef is a key of a Secret holding the RADIUS shared secret
	// (config: secret_file; one trailing newline is stripped). It must not be
	// empty. Required with cidrs, and refused without them: over RadSec the
	// secret is RFC 6614's fixed "radsec", as TLS protects the packets.
	// +optional
	// +kubebuilder:validation:XValidation:rule="size(self.name) > 0",message="name is required"
	// +kubebuilder:validation:XValidation:rule="!has(self.optional) || !self.optional",message="optional: true is not supported: a client needs its secret"
	SecretRef *corev1.SecretKeySelector `json:"secretRef,omitempty"`

	// RadSec lets the NAS, or a RADIUS proxy in front of it, reach the
	// edges over RADIUS over TLS (RFC 6614), known by its client
	// certificate rather than its address (config: radsec). The cluster
	// must serve RadSec (RadiusCluster spec.edge.radsec).
	// +optional
	RadSec *ClientRadSec `json:"radsec,omitempty"`

	// Profile is the NAS profile: how requests are decoded and answered
	// (config: profile); services/nas/README.md lists them.
	// +optional
	// +kubebuilder:default=faxback
	Profile ProfileName `json:"profile,omitempty"`

	// MessageAuthenticator is the Message-Authenticator policy (config:
	// message_authenticator): require (a request without one is dropped),
	// auto (required once one has been seen from the client), or off
	// (FaxBack port servers send none). One that is present is always
	// verified, and a reply to a request that carried one carries one.
	// Quote "off" in YAML: kubectl reads YAML 1.1, where a bare off is the
	// boolean false, which is refused.
	// +optional
	// +kubebuilder:default=auto
	// +kubebuilder:validation:Enum=require;auto;off
	MessageAuthenticator string `json:"messageAuthenticator,omitempty"`

	// FaxBack holds the faxback profile's options.
	// +optional
	FaxBack *FaxBackClientSpec `json:"faxback,omitempty"`

	// RateLimit sheds the NAS's requests beyond a token bucket as the edge
	// reads them, so that one flooding NAS cannot starve the others
	// (config: rate_limit). Each edge pod keeps its own bucket. Unset: no
	// limit.
	// +optional
	RateLimit *ClientRateLimit `json:"rateLimit,omitempty"`
}

// ClientRateLimit is a NAS's token bucket.
type ClientRateLimit struct {
	// RequestsPerSecond is the bucket's average rate (config:
	// requests_per_second).
	// +required
	// +kubebuilder:validation:Minimum=1
	RequestsPerSecond int32 `json:"requestsPerSecond"`

	// Burst is how many requests may come at once (config: burst). Unset:
	// one second's worth.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Burst int32 `json:"burst,omitempty"`
}

// ClientRadSec is how a RadSec connection's certificate names the client.
type ClientRadSec struct {
	// Identities are the names the client's certificate may carry (config:
	// radsec.identities): a DNS, URI or IP subject alternative name, or the
	// subject's common name, compared without case. A connection whose
	// verified certificate carries one of them is this client's. One name
	// belongs to one client of a cluster: a name claimed by two is a
	// conflict the operator reports (Synced=False, Conflict), and the later
	// client is left out of the table.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(i, self.exists_one(j, j.lowerAscii() == i.lowerAscii()))",message="an identity is listed twice (identities are compared without case)"
	Identities []RadSecIdentity `json:"identities"`
}

// RadSecIdentity is a name a client certificate carries: a DNS name
// (nas-a.carrier.example), a URI (spiffe://carrier.example/nas-a), an IP
// address, or a subject common name. Leading or trailing spaces are
// refused: the edge would ignore them.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^\S(.*\S)?$`
type RadSecIdentity string

// FaxBackClientSpec holds a FaxBack port server's settings.
type FaxBackClientSpec struct {
	// UUIDFormat turns FaxBack UUID mode on for this client and says how the
	// port server spells UUIDs: binary (16 bytes), hex (0x and 32 hex
	// digits) or dash (8-4-4-4-12) (config: faxback.uuid_format). Unset:
	// UUID mode off.
	// +optional
	// +kubebuilder:validation:Enum=binary;hex;dash
	UUIDFormat string `json:"uuidFormat,omitempty"`
}

// RadiusClientStatus is the observed state of a RadiusClient.
type RadiusClientStatus struct {
	// Conditions: Synced is True when the client is in the cluster's client
	// table (False with the reason: ClusterNotFound, SecretNotFound,
	// Conflict); Ready is True when, besides, every edge pod has loaded it.
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

// RadiusClient is a RADIUS client (NAS) of a RadiusCluster's edges.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rcl,categories=kradius
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.clusterRef.name`
// +kubebuilder:printcolumn:name="Profile",type=string,JSONPath=`.spec.profile`
// +kubebuilder:printcolumn:name="CIDR",type=string,JSONPath=`.spec.cidrs[0]`,description="The first of the client's address ranges"
// +kubebuilder:printcolumn:name="RadSec",type=string,JSONPath=`.spec.radsec.identities[0]`,priority=1,description="The first of the client's RadSec certificate names"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RadiusClient struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired client entry.
	// +required
	Spec RadiusClientSpec `json:"spec"`
	// Status is what the operator observed.
	// +optional
	Status RadiusClientStatus `json:"status,omitempty"`
}

// RadiusClientList is a list of RadiusClients.
//
// +kubebuilder:object:root=true
type RadiusClientList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RadiusClient `json:"items"`
}
