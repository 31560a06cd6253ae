package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RadiusClusterSpec is one distributed kradius: stateless edge pods that take
// RADIUS from the NAS, the accounts and dids gRPC services over a Redis data
// set, and the cdr consumer of the accounting log in Kafka. Every component
// runs the same image with a different -target.
type RadiusClusterSpec struct {
	// Image is the kradius container image, e.g.
	// registry.example.com/kradius:v1.2.3. Every component runs it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image"`

	// ImagePullPolicy is the pods' image pull policy. Unset: Kubernetes'
	// default (Always for a :latest tag, IfNotPresent otherwise).
	// +optional
	// +kubebuilder:validation:Enum=Always;Never;IfNotPresent
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// Edge is the RADIUS front (-target=edge): it decodes RADIUS packets
	// (UDP, and RadSec when enabled), asks accounts and dids, and appends
	// accounting records to Kafka.
	// +optional
	// +kubebuilder:default={}
	Edge EdgeSpec `json:"edge,omitempty"`

	// Accounts is the accounts gRPC service (-target=accounts) over Redis.
	// It also serves the AdminService the operator provisions through.
	// +optional
	// +kubebuilder:default={}
	Accounts BackendComponentSpec `json:"accounts,omitempty"`

	// DIDs is the dids gRPC service (-target=dids) over Redis.
	// +optional
	// +kubebuilder:default={}
	DIDs BackendComponentSpec `json:"dids,omitempty"`

	// CDR is the consumer of the accounting log (-target=cdr): it publishes
	// CDRs and updates the called-numbers database. Replicas share the work
	// as one Kafka consumer group.
	// +optional
	// +kubebuilder:default={}
	CDR CDRComponentSpec `json:"cdr,omitempty"`

	// Redis is the serving store (config: store.backend redis, store.redis.*).
	// +required
	Redis RedisSpec `json:"redis"`

	// Kafka is the accounting log (config: accounting.log kafka,
	// accounting.kafka.*). It is required: the edge acknowledges an
	// Accounting-Request only once Kafka holds it, and without a log the
	// NAS would resend every one of them unanswered.
	// +required
	Kafka KafkaSpec `json:"kafka"`

	// LongNames accepts account names of up to 64 UTF-8 characters instead
	// of 16 bytes, for FaxBack port servers in UUID mode (config:
	// store.long_names). Accounts with names over 16 bytes must also say
	// spec.longName: true, which the operator checks against this setting.
	// +optional
	LongNames bool `json:"longNames,omitempty"`

	// Tracing sends OpenTelemetry traces of every component to an OTLP
	// collector. Unset: no tracing.
	// +optional
	Tracing *TracingSpec `json:"tracing,omitempty"`

	// ClientsSecretName is the Secret the operator writes the edges' client
	// table into (config: edge.clients, with each shared secret as a
	// secret_file), rendered from the cluster's RadiusClients. Unset:
	// <cluster name>-clients. The operator owns the Secret's content.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ClientsSecretName string `json:"clientsSecretName,omitempty"`
}

// EdgeSpec is the edge component.
type EdgeSpec struct {
	// Replicas is the number of edge pods. With autoscaling enabled it is
	// only the count the Deployment starts with; the autoscaler then owns it.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// Resources are the edge container's compute requests and limits. Set a
	// CPU request when autoscaling: utilization is measured against it.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// Autoscaling scales the edge on CPU with a HorizontalPodAutoscaler.
	// +optional
	// +kubebuilder:default={}
	Autoscaling EdgeAutoscalingSpec `json:"autoscaling,omitempty"`

	// Service is the Service that receives the NAS traffic: UDP, and
	// RadSec's TCP port when radsec is enabled.
	// +optional
	// +kubebuilder:default={}
	Service EdgeServiceSpec `json:"service,omitempty"`

	// SharedReplyCache shares the retransmit reply cache across the edge
	// pods in the cluster's Redis (config: edge.reply_cache.shared: redis):
	// a NAS retransmission that reaches another pod gets the same reply,
	// and is never appended twice. It costs a Redis round trip per new
	// request.
	// +optional
	SharedReplyCache bool `json:"sharedReplyCache,omitempty"`

	// RadSec serves RADIUS over TLS (RFC 6614) on a TCP port of the edge
	// pods and of the edge Service, beside UDP (config: edge.radsec).
	// RadiusClients with spec.radsec are known by their certificates,
	// whatever address they come from. Unset: no RadSec.
	// +optional
	RadSec *EdgeRadSecSpec `json:"radsec,omitempty"`
}

// EdgeRadSecSpec is the edge's RadSec port: mutual TLS, the edge showing
// certificateSecretRef's certificate and asking every client for one that
// clientCASecretRef's CA signed.
// +kubebuilder:validation:XValidation:rule="!(has(self.enabled) && self.enabled) || has(self.certificateSecretRef)",message="certificateSecretRef is required with enabled: the edge's server certificate, a kubernetes.io/tls Secret"
// +kubebuilder:validation:XValidation:rule="!(has(self.enabled) && self.enabled) || has(self.clientCASecretRef)",message="clientCASecretRef is required with enabled: the CA that signs the NAS's client certificates"
type EdgeRadSecSpec struct {
	// Enabled opens the RadSec port.
	// +optional
	Enabled bool `json:"enabled,omitempty"`

	// Port is the edge Service's TCP port for RadSec; the pods listen on
	// 2083, RFC 6614's port. The Service then mixes UDP and TCP ports,
	// which a LoadBalancer Service's load balancer must support.
	// +optional
	// +kubebuilder:default=2083
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// CertificateSecretRef names a kubernetes.io/tls Secret (keys tls.crt
	// and tls.key), e.g. one cert-manager issues: the certificate the edge
	// shows the clients (config: edge.radsec.tls.cert_file, key_file). The
	// edge reads it again when the kubelet updates the mounted Secret, so a
	// renewal needs no restart.
	// +optional
	CertificateSecretRef *SecretNameReference `json:"certificateSecretRef,omitempty"`

	// ClientCASecretRef is a key of a Secret holding the PEM CA
	// certificates that sign the clients' certificates (config:
	// edge.radsec.tls.client_ca_file). A connection without a certificate
	// they verify is refused before any RADIUS is read.
	// +optional
	ClientCASecretRef *CASecretReference `json:"clientCASecretRef,omitempty"`

	// MaxConnections bounds the RadSec connections one edge pod keeps open
	// at once (config: edge.radsec.max_connections); one beyond it is
	// closed at once. Unset: kradius's default (1024).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	MaxConnections int32 `json:"maxConnections,omitempty"`
}

// EdgeAutoscalingSpec is the edge's HorizontalPodAutoscaler.
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || !has(self.maxReplicas) || self.maxReplicas >= self.minReplicas",message="maxReplicas must be at least minReplicas"
type EdgeAutoscalingSpec struct {
	// Enabled creates the HorizontalPodAutoscaler. The edge is stateless
	// (the reply cache is per pod, and a NAS retransmit that lands on
	// another pod is decided again, to the same answer), so it scales freely.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// MinReplicas is the fewest edge pods the autoscaler keeps.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	MinReplicas int32 `json:"minReplicas,omitempty"`

	// MaxReplicas is the most edge pods the autoscaler starts.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	MaxReplicas int32 `json:"maxReplicas,omitempty"`

	// TargetCPUUtilizationPercentage is the mean CPU use, in percent of the
	// pods' CPU request, the autoscaler aims for.
	// +optional
	// +kubebuilder:default=70
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	TargetCPUUtilizationPercentage int32 `json:"targetCPUUtilizationPercentage,omitempty"`
}

// EdgeServiceSpec is the edge's Service (UDP, and TCP for RadSec).
// +kubebuilder:validation:XValidation:rule="!has(self.authPort) || !has(self.acctPort) || self.authPort != self.acctPort",message="authPort and acctPort must differ"
// +kubebuilder:validation:XValidation:rule="!has(self.loadBalancerIP) || !has(self.type) || self.type == 'LoadBalancer'",message="loadBalancerIP needs type LoadBalancer"
type EdgeServiceSpec struct {
	// Type is the Service type.
	// +optional
	// +kubebuilder:default=LoadBalancer
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	Type corev1.ServiceType `json:"type,omitempty"`

	// ExternalTrafficPolicy of a NodePort or LoadBalancer Service (ignored
	// for ClusterIP). Local keeps the client's source address: the edge
	// picks the RadiusClient, and with it the shared secret, by the NAS's
	// source address, and with Cluster kube-proxy may replace that address
	// with a node's, so that requests match the wrong client or none and are
	// dropped. Choose Cluster only if the load balancer preserves the source
	// address by other means.
	// +optional
	// +kubebuilder:default=Local
	// +kubebuilder:validation:Enum=Local;Cluster
	ExternalTrafficPolicy corev1.ServiceExternalTrafficPolicy `json:"externalTrafficPolicy,omitempty"`

	// AuthPort is the Service's UDP port for Access-Requests.
	// +optional
	// +kubebuilder:default=1812
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	AuthPort int32 `json:"authPort,omitempty"`

	// AcctPort is the Service's UDP port for Accounting-Requests.
	// +optional
	// +kubebuilder:default=1813
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	AcctPort int32 `json:"acctPort,omitempty"`

	// Annotations are added to the Service, e.g. for a cloud or MetalLB
	// load balancer.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// LoadBalancerIP asks a LoadBalancer Service for this address (the
	// Service's spec.loadBalancerIP; some load balancers want an annotation
	// instead). NAS are configured with fixed server addresses, so a stable
	// one matters.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IPv4 or IPv6 address"
	LoadBalancerIP string `json:"loadBalancerIP,omitempty"`
}

// BackendComponentSpec is the accounts or dids component.
type BackendComponentSpec struct {
	// Replicas is the number of pods. They are stateless over Redis; two or
	// more keep the edges answered through a pod's restart.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// Resources are the container's compute requests and limits. An
	// uncached password check costs the accounts service one argon2id run
	// (config password.memory_kib, 19 MiB by default) per concurrent login.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// CDRComponentSpec is the cdr component.
type CDRComponentSpec struct {
	// Replicas is the number of cdr consumers. More than one share the
	// accounting topic's partitions, and a survivor takes over a dead one's
	// within the consumer group's session timeout.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// Resources are the container's compute requests and limits.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// RedisSpec is the Redis serving store (config: store.redis.*).
// +kubebuilder:validation:XValidation:rule="!has(self.db) || self.db == 0 || size(self.addresses) == 1 || has(self.masterName)",message="db must be 0 on a Redis Cluster (several addresses without masterName): a cluster has only database 0"
type RedisSpec struct {
	// Addresses are host:port pairs: one for a single server, several for
	// the seeds of a Redis Cluster, or the Sentinels when masterName is set
	// (config: store.redis.addresses).
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Addresses []HostPort `json:"addresses"`

	// MasterName is the Sentinel master name; set, addresses are the
	// Sentinels (config: store.redis.master_name).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	MasterName string `json:"masterName,omitempty"`

	// Username is the Redis ACL user (config: store.redis.username). Unset:
	// the default user, with passwordSecretRef as requirepass.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Username string `json:"username,omitempty"`

	// PasswordSecretRef is a key of a Secret holding the Redis password,
	// mounted as store.redis.password_file. Unset: no password.
	// +optional
	// +kubebuilder:validation:XValidation:rule="size(self.name) > 0",message="name is required"
	// +kubebuilder:validation:XValidation:rule="!has(self.optional) || !self.optional",message="optional: true is not supported"
	PasswordSecretRef *corev1.SecretKeySelector `json:"passwordSecretRef,omitempty"`

	// DB is the database number of a single server or Sentinel-managed
	// master (config: store.redis.db). A Redis Cluster has only database 0.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=65535
	DB int32 `json:"db,omitempty"`

	// KeyPrefix starts every key; it must begin with a Redis Cluster hash
	// tag ({tag}: a "{", at least one character, a "}") so that one data set
	// lives in one slot and changes atomically (config:
	// store.redis.key_prefix). Two clusters sharing one Redis need different
	// prefixes.
	// +optional
	// +kubebuilder:default="{kradius}"
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^\{[^}]+\}`
	KeyPrefix string `json:"keyPrefix,omitempty"`

	// TLS secures the connections to Redis (config: store.redis.tls,
	// store.redis.tls_enabled).
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`
}

// KafkaSpec is the accounting log in Kafka (config: accounting.kafka.*).
// +kubebuilder:validation:XValidation:rule="!has(self.topics) || !has(self.topics.accounting) || !has(self.topics.cdr) || self.topics.accounting != self.topics.cdr",message="topics.accounting and topics.cdr must differ"
type KafkaSpec struct {
	// Brokers are host:port bootstrap addresses; the rest of the Kafka
	// cluster is learnt from them (config: accounting.kafka.brokers).
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Brokers []HostPort `json:"brokers"`

	// TLS secures the connections to the brokers (config:
	// accounting.kafka.tls).
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// SASL authenticates kradius to the brokers (config:
	// accounting.kafka.sasl). Unset: no SASL.
	// +optional
	SASL *KafkaSASLSpec `json:"sasl,omitempty"`

	// Topics names the accounting and CDR topics.
	// +optional
	// +kubebuilder:default={}
	Topics KafkaTopicsSpec `json:"topics,omitempty"`

	// CreateTopics creates missing topics at start with partitions and
	// replicationFactor; otherwise a missing topic stops the component with
	// an error naming it (config: accounting.kafka.create_topics).
	// +optional
	CreateTopics bool `json:"createTopics,omitempty"`

	// Partitions of a created topic (config: accounting.kafka.partitions).
	// It caps how many cdr replicas share the work.
	// +optional
	// +kubebuilder:default=12
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Partitions int32 `json:"partitions,omitempty"`

	// ReplicationFactor of a created topic (config:
	// accounting.kafka.replication_factor). The producer writes with
	// acks=all, so a record survives the loss of all but one replica.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=32767
	ReplicationFactor int32 `json:"replicationFactor,omitempty"`
}

// KafkaSASLSpec is SASL authentication to Kafka.
type KafkaSASLSpec struct {
	// Mechanism is the SASL mechanism.
	// +required
	// +kubebuilder:validation:Enum=PLAIN;SCRAM-SHA-256;SCRAM-SHA-512
	Mechanism string `json:"mechanism"`

	// Username is the SASL user name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Username string `json:"username"`

	// PasswordSecretRef is a key of a Secret holding the SASL password,
	// mounted as accounting.kafka.sasl.password_file (one trailing newline
	// is not part of it).
	// +required
	// +kubebuilder:validation:XValidation:rule="size(self.name) > 0",message="name is required"
	// +kubebuilder:validation:XValidation:rule="!has(self.optional) || !self.optional",message="optional: true is not supported"
	PasswordSecretRef corev1.SecretKeySelector `json:"passwordSecretRef"`
}

// KafkaTopicsSpec names the Kafka topics: 1 to 249 of a-z A-Z 0-9 . _ -.
type KafkaTopicsSpec struct {
	// Accounting is the topic of accounting records, keyed by
	// Acct-Session-Id (config: accounting.kafka.topics.accounting).
	// +optional
	// +kubebuilder:default="kradius.accounting.v1"
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9._-]{1,249}$`
	Accounting string `json:"accounting,omitempty"`

	// CDR is the topic the cdr component publishes CDRs to (config:
	// accounting.kafka.topics.cdr).
	// +optional
	// +kubebuilder:default="kradius.cdr.v1"
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9._-]{1,249}$`
	CDR string `json:"cdr,omitempty"`
}

// TracingSpec sends OpenTelemetry traces to an OTLP collector.
type TracingSpec struct {
	// OTLPEndpoint is the collector's OTLP endpoint URL, e.g.
	// http://otel-collector.observability:4317 (https for TLS).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="must be an http:// or https:// URL with a host"
	OTLPEndpoint string `json:"otlpEndpoint"`

	// Protocol is the collector's OTLP transport: grpc (port 4317 by
	// convention) or http (OTLP/HTTP with protobuf, port 4318).
	// +optional
	// +kubebuilder:default=grpc
	// +kubebuilder:validation:Enum=grpc;http
	Protocol string `json:"protocol,omitempty"`

	// SamplingRatio is the fraction of requests traced, a decimal from 0 to
	// 1 with up to 6 decimal places, e.g. "0.01" for one in a hundred. It is
	// a string, as Kubernetes APIs avoid floating point. A request whose
	// parent span is sampled is always traced.
	// +optional
	// +kubebuilder:default="0.01"
	// +kubebuilder:validation:Pattern=`^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$`
	SamplingRatio string `json:"samplingRatio,omitempty"`
}

// ComponentName is a RadiusCluster component.
// +kubebuilder:validation:Enum=edge;accounts;dids;cdr
type ComponentName string

// The components of a RadiusCluster, each a Deployment running -target=NAME.
const (
	ComponentEdge     ComponentName = "edge"
	ComponentAccounts ComponentName = "accounts"
	ComponentDIDs     ComponentName = "dids"
	ComponentCDR      ComponentName = "cdr"
)

// ComponentStatus is the observed state of one component's Deployment.
type ComponentStatus struct {
	// Name is the component.
	// +required
	Name ComponentName `json:"name"`
	// Replicas is the number of pods the Deployment wants.
	// +optional
	Replicas int32 `json:"replicas"`
	// ReadyReplicas is the number of pods ready (passing /readyz).
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`
}

// RadiusClusterStatus is the observed state of a RadiusCluster.
type RadiusClusterStatus struct {
	// Conditions: Ready is True when every component has its desired
	// replicas ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Components are the edge, accounts, dids and cdr Deployments.
	// +optional
	// +listType=map
	// +listMapKey=name
	Components []ComponentStatus `json:"components,omitempty"`

	// ClientsSecretName is the Secret holding the rendered client table.
	// +optional
	ClientsSecretName string `json:"clientsSecretName,omitempty"`
}

// RadiusCluster is one distributed kradius deployment: edge, accounts, dids
// and cdr components over Redis and Kafka. RadiusClients, Accounts and DIDs
// name it in spec.clusterRef.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rc,categories=kradius
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Edge",type=integer,JSONPath=`.status.components[?(@.name=="edge")].readyReplicas`,description="Ready edge pods"
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RadiusCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired cluster.
	// +required
	Spec RadiusClusterSpec `json:"spec"`
	// Status is what the operator observed.
	// +optional
	Status RadiusClusterStatus `json:"status,omitempty"`
}

// RadiusClusterList is a list of RadiusClusters.
//
// +kubebuilder:object:root=true
type RadiusClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RadiusCluster `json:"items"`
}
