package v1alpha1

import corev1 "k8s.io/api/core/v1"

// Condition types. Every status carries metav1.Conditions of these types.
const (
	// ConditionReady is True when the resource does its job: for a
	// RadiusCluster, every component has its desired replicas ready; for a
	// RadiusClient, it is synced and every edge pod has loaded it.
	ConditionReady = "Ready"
	// ConditionSynced is True when the resource's spec has been written where
	// it belongs (the store for an Account or DID, the edges' client table
	// for a RadiusClient) as of status.observedGeneration. False carries the
	// reason and a message naming the field, as `kradius import` would.
	ConditionSynced = "Synced"
)

// Condition reasons used by the operator.
const (
	// ReasonSynced: the spec is written (Synced=True).
	ReasonSynced = "Synced"
	// ReasonInvalid: the spec breaks a rule the CRD schema cannot express,
	// e.g. a queueProfile that is not well-formed XML, or a 17-byte name on a
	// cluster without longNames. The message names the field.
	ReasonInvalid = "Invalid"
	// ReasonConflict: the store refused the write (store.ErrConflict): a DID,
	// member or rcvFailoverAccount naming no account; a uuid, macAddress,
	// serialNumber or sndEmail held by another account; two resources with
	// the same account name or DID number; an address range claimed by two
	// RadiusClients.
	ReasonConflict = "Conflict"
	// ReasonClusterNotFound: spec.clusterRef names no RadiusCluster in the
	// namespace.
	ReasonClusterNotFound = "ClusterNotFound"
	// ReasonSecretNotFound: a referenced Secret, or the key in it, is missing
	// or empty.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonUnavailable: the store or the cluster's components could not be
	// reached; the operator retries.
	ReasonUnavailable = "Unavailable"
	// ReasonProgressing: components are being created or rolled out
	// (Ready=False).
	ReasonProgressing = "Progressing"
	// ReasonAvailable: every component is ready (Ready=True).
	ReasonAvailable = "Available"
)

// ClusterReference names the RadiusCluster a resource belongs to. It must be
// in the resource's own namespace.
type ClusterReference struct {
	// Name is the name of a RadiusCluster in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretNameReference names a Secret in the resource's namespace.
type SecretNameReference struct {
	// Name is the name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// CASecretReference is a key of a Secret, in the resource's namespace,
// holding PEM CA certificates.
type CASecretReference struct {
	// Name is the name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key is the key in the Secret. Unset: ca.crt, where cert-manager
	// puts an issuer's CA.
	// +optional
	// +kubebuilder:default="ca.crt"
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key,omitempty"`
}

// HostPort is a host:port address: a DNS name, an IPv4 address or a
// bracketed IPv6 address, a colon and a port (1 to 65535).
// +kubebuilder:validation:MaxLength=262
// +kubebuilder:validation:Pattern=`^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]/@]+):[0-9]{1,5}$`
// +kubebuilder:validation:XValidation:rule="!self.matches(':[0-9]{1,5}$') || (int(self.substring(self.lastIndexOf(':') + 1)) >= 1 && int(self.substring(self.lastIndexOf(':') + 1)) <= 65535)",message="the port must be 1 to 65535"
type HostPort string

// TLSSpec secures a client connection (to Redis or to the Kafka brokers).
// +kubebuilder:validation:XValidation:rule="(has(self.enabled) && self.enabled) || (!has(self.caSecretRef) && !has(self.certSecretRef) && !has(self.serverName))",message="enabled is false, but other tls fields are set"
type TLSSpec struct {
	// Enabled turns TLS on. With no caSecretRef the server is verified
	// against the system roots of the kradius image.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// CASecretRef is a key of a Secret holding the PEM CA certificates that
	// verify the server (config: ca_file). Unset: the system roots.
	// +optional
	// +kubebuilder:validation:XValidation:rule="size(self.name) > 0",message="name is required"
	// +kubebuilder:validation:XValidation:rule="!has(self.optional) || !self.optional",message="optional: true is not supported: a missing CA must not silently fall back to the system roots"
	CASecretRef *corev1.SecretKeySelector `json:"caSecretRef,omitempty"`
	// CertSecretRef names a kubernetes.io/tls Secret (keys tls.crt and
	// tls.key): the client certificate, for servers that authenticate
	// clients by TLS (config: cert_file, key_file).
	// +optional
	CertSecretRef *SecretNameReference `json:"certSecretRef,omitempty"`
	// ServerName overrides the name the server certificate is checked
	// against (config: server_name). Unset: the host of the address.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServerName string `json:"serverName,omitempty"`
}
