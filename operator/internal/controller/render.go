package controller

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/services/config"
	"kradius.dev/services/rpc"
	"kradius.dev/services/tracing"
)

// The ports every component uses inside its pod.
const (
	grpcPort   = 9090
	opsPort    = 9812
	authPort   = 1812
	acctPort   = 1813
	radsecPort = 2083
)

// components in the order they are rendered and reported.
var components = []string{"edge", "accounts", "dids", "cdr"}

// Mount points inside the pods.
const (
	configDir  = "/etc/kradius/config"
	clientsDir = "/etc/kradius/clients"
	secretsDir = "/etc/kradius/secrets"
	// RadSec's certificate and client CA are mounted whole, never by
	// subPath: the kubelet then swaps in a renewed certificate, which the
	// edge reads again.
	radsecCertDir = "/etc/kradius/radsec/certificate"
	radsecCADir   = "/etc/kradius/radsec/client-ca"
)

func componentName(cluster, component string) string { return cluster + "-" + component }

// clientsSecretName is the client-table Secret the edge pods mount.
func clientsSecretName(rc *kradiusv1.RadiusCluster) string {
	if rc.Spec.ClientsSecretName != "" {
		return rc.Spec.ClientsSecretName
	}
	return rc.Name + "-clients"
}

func labels(rc *kradiusv1.RadiusCluster, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":       "kradius",
		"app.kubernetes.io/instance":   rc.Name,
		"app.kubernetes.io/component":  component,
		"app.kubernetes.io/managed-by": "kradius-operator",
	}
}

// componentConfig is the kradius.yaml of one component.
func componentConfig(rc *kradiusv1.RadiusCluster, component string) config.Config {
	c := config.Default()
	c.Target = component
	c.Log.Format = "json"
	c.HTTP.Listen = fmt.Sprintf(":%d", opsPort)
	c.GRPC.Listen = fmt.Sprintf(":%d", grpcPort)
	c.Store.Backend = "redis"
	c.Store.LongNames = rc.Spec.LongNames
	r := rc.Spec.Redis
	for _, a := range r.Addresses {
		c.Store.Redis.Addresses = append(c.Store.Redis.Addresses, string(a))
	}
	c.Store.Redis.MasterName, c.Store.Redis.Username, c.Store.Redis.DB = r.MasterName, r.Username, int(r.DB)
	if r.KeyPrefix != "" {
		c.Store.Redis.KeyPrefix = r.KeyPrefix
	}
	if r.PasswordSecretRef != nil {
		c.Store.Redis.PasswordFile = secretPath("redis-password", r.PasswordSecretRef.Key)
	}
	if r.TLS != nil && r.TLS.Enabled {
		c.Store.Redis.TLSEnabled = true
		c.Store.Redis.TLS = tlsFiles("redis", r.TLS)
	}
	k := rc.Spec.Kafka
	c.Accounting.Log = "kafka"
	c.Accounting.Kafka.Brokers = nil
	for _, b := range k.Brokers {
		c.Accounting.Kafka.Brokers = append(c.Accounting.Kafka.Brokers, string(b))
	}
	c.Accounting.Kafka.CreateTopics = k.CreateTopics
	// One consumer group per cluster: two clusters on one Kafka must not
	// share their accounting.
	c.Accounting.Kafka.GroupID = "kradius-cdr-" + rc.Namespace + "-" + rc.Name
	if k.Partitions > 0 {
		c.Accounting.Kafka.Partitions = int(k.Partitions)
	}
	if k.ReplicationFactor > 0 {
		c.Accounting.Kafka.ReplicationFactor = int(k.ReplicationFactor)
	}
	if k.Topics.Accounting != "" {
		c.Accounting.Kafka.Topics.Accounting = k.Topics.Accounting
	}
	if k.Topics.CDR != "" {
		c.Accounting.Kafka.Topics.CDR = k.Topics.CDR
	}
	if k.SASL != nil {
		c.Accounting.Kafka.SASL.Mechanism = k.SASL.Mechanism
		c.Accounting.Kafka.SASL.Username = k.SASL.Username
		c.Accounting.Kafka.SASL.PasswordFile = secretPath("kafka-password", k.SASL.PasswordSecretRef.Key)
	}
	if k.TLS != nil && k.TLS.Enabled {
		c.Accounting.Kafka.TLS.Enabled = true
		c.Accounting.Kafka.TLS.ServerName = k.TLS.ServerName
		if k.TLS.CASecretRef != nil {
			c.Accounting.Kafka.TLS.CAFile = secretPath("kafka-ca", k.TLS.CASecretRef.Key)
		}
	}
	c.Backends.Accounts = fmt.Sprintf("%s:%d", componentName(rc.Name, "accounts"), grpcPort)
	c.Backends.DIDs = fmt.Sprintf("%s:%d", componentName(rc.Name, "dids"), grpcPort)
	if t := rc.Spec.Tracing; t != nil {
		c.Tracing.Enabled = true
		c.Tracing.Endpoint = t.OTLPEndpoint
		c.Tracing.Protocol = cmp.Or(t.Protocol, tracing.ProtocolGRPC)
		// The CRD's pattern admits only decimals from 0 to 1; the default
		// stands for one that does not parse.
		if r, err := strconv.ParseFloat(t.SamplingRatio, 64); err == nil {
			c.Tracing.SamplingRatio = r
		}
	}
	c.Edge.AuthListen = fmt.Sprintf(":%d", authPort)
	c.Edge.AcctListen = fmt.Sprintf(":%d", acctPort)
	// Only the edge's pods mount the client table, and kradius refuses a
	// config whose clients_file it cannot read, whatever its target.
	if component == "edge" {
		c.Edge.ClientsFile = clientsDir + "/clients.yaml"
		if rc.Spec.Edge.SharedReplyCache {
			c.Edge.ReplyCache.Shared = config.ReplyCacheRedis
		}
		// Only the edge mounts the certificates, which kradius loads to
		// validate its config.
		c.Edge.RadSec = radsecConfig(rc)
	}
	return c
}

// radsecOn returns the cluster's RadSec settings, or nil when it serves
// none. The CRD refuses enabled without the two Secrets.
func radsecOn(rc *kradiusv1.RadiusCluster) *kradiusv1.EdgeRadSecSpec {
	r := rc.Spec.Edge.RadSec
	if r == nil || !r.Enabled || r.CertificateSecretRef == nil || r.ClientCASecretRef == nil {
		return nil
	}
	return r
}

// radsecCAKey is the client CA's key in its Secret; the CRD defaults it.
func radsecCAKey(r *kradiusv1.EdgeRadSecSpec) string {
	return cmp.Or(r.ClientCASecretRef.Key, "ca.crt")
}

// radsecConfig is the edge's edge.radsec: off unless the cluster serves it.
func radsecConfig(rc *kradiusv1.RadiusCluster) config.RadSecConfig {
	r := radsecOn(rc)
	if r == nil {
		return config.RadSecConfig{}
	}
	return config.RadSecConfig{
		Listen: fmt.Sprintf(":%d", radsecPort),
		TLS: rpc.TLSConfig{
			CertFile:     radsecCertDir + "/" + corev1.TLSCertKey,
			KeyFile:      radsecCertDir + "/" + corev1.TLSPrivateKeyKey,
			ClientCAFile: radsecCADir + "/" + radsecCAKey(r),
		},
		MaxConnections: int(r.MaxConnections),
	}
}

func secretPath(volume, key string) string { return fmt.Sprintf("%s/%s/%s", secretsDir, volume, key) }

func tlsFiles(volume string, t *kradiusv1.TLSSpec) rpc.TLSConfig {
	out := rpc.TLSConfig{ServerName: t.ServerName}
	if t.CASecretRef != nil {
		out.CAFile = secretPath(volume+"-ca", t.CASecretRef.Key)
	}
	return out
}

// configMap holds each component's kradius.yaml.
func configMap(rc *kradiusv1.RadiusCluster) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: rc.Name + "-config", Namespace: rc.Namespace, Labels: labels(rc, "config")},
		Data:       map[string]string{},
	}
	for _, comp := range components {
		b, err := yaml.Marshal(componentConfig(rc, comp))
		if err != nil {
			return nil, err
		}
		cm.Data[comp+".yaml"] = string(b)
	}
	return cm, nil
}

func replicas(p *int32, def int32) *int32 {
	if p != nil {
		return p
	}
	return &def
}

// configHashAnnotation on a pod template is the SHA-256 of the component's
// kradius.yaml in cm: kradius reads its configuration once, at start, so a
// change to it must roll the component's pods, and only that component's.
// The client table is not in it: the edge reloads that file itself.
const configHashAnnotation = "kradius.dev/config-sha256"

// deployment renders one component: one image, -target by config file,
// the file being cm's.
func deployment(rc *kradiusv1.RadiusCluster, comp string, cm *corev1.ConfigMap) *appsv1.Deployment {
	var res corev1.ResourceRequirements
	var n *int32
	switch comp {
	case "edge":
		n, res = replicas(rc.Spec.Edge.Replicas, 2), rc.Spec.Edge.Resources
	case "accounts":
		n, res = replicas(rc.Spec.Accounts.Replicas, 2), rc.Spec.Accounts.Resources
	case "dids":
		n, res = replicas(rc.Spec.DIDs.Replicas, 2), rc.Spec.DIDs.Resources
	case "cdr":
		n, res = replicas(rc.Spec.CDR.Replicas, 1), rc.Spec.CDR.Resources
	}
	l := labels(rc, comp)
	volumes := []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: rc.Name + "-config"}}}}}
	mounts := []corev1.VolumeMount{{Name: "config", MountPath: configDir, ReadOnly: true}}
	addSecret := func(volume, secret string) {
		volumes = append(volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}})
		mounts = append(mounts, corev1.VolumeMount{Name: volume, MountPath: secretsDir + "/" + volume, ReadOnly: true})
	}
	if ref := rc.Spec.Redis.PasswordSecretRef; ref != nil {
		addSecret("redis-password", ref.Name)
	}
	if t := rc.Spec.Redis.TLS; t != nil && t.CASecretRef != nil {
		addSecret("redis-ca", t.CASecretRef.Name)
	}
	if s := rc.Spec.Kafka.SASL; s != nil {
		addSecret("kafka-password", s.PasswordSecretRef.Name)
	}
	if t := rc.Spec.Kafka.TLS; t != nil && t.CASecretRef != nil {
		addSecret("kafka-ca", t.CASecretRef.Name)
	}
	ports := []corev1.ContainerPort{{Name: "ops", ContainerPort: opsPort, Protocol: corev1.ProtocolTCP}}
	switch comp {
	case "edge":
		// Mounted, not read from the API: the edge reloads it on change
		// (edge.clients_file) and needs no API access or RBAC.
		volumes = append(volumes, corev1.Volume{Name: "clients", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: clientsSecretName(rc)}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "clients", MountPath: clientsDir, ReadOnly: true})
		ports = append(ports,
			corev1.ContainerPort{Name: "auth", ContainerPort: authPort, Protocol: corev1.ProtocolUDP},
			corev1.ContainerPort{Name: "acct", ContainerPort: acctPort, Protocol: corev1.ProtocolUDP})
		if r := radsecOn(rc); r != nil {
			for _, v := range []struct{ volume, secret, dir string }{
				{"radsec-certificate", r.CertificateSecretRef.Name, radsecCertDir},
				{"radsec-client-ca", r.ClientCASecretRef.Name, radsecCADir},
			} {
				volumes = append(volumes, corev1.Volume{Name: v.volume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: v.secret}}})
				mounts = append(mounts, corev1.VolumeMount{Name: v.volume, MountPath: v.dir, ReadOnly: true})
			}
			ports = append(ports, corev1.ContainerPort{Name: "radsec", ContainerPort: radsecPort, Protocol: corev1.ProtocolTCP})
		}
	case "accounts", "dids":
		ports = append(ports, corev1.ContainerPort{Name: "grpc", ContainerPort: grpcPort, Protocol: corev1.ProtocolTCP})
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("ops")}}, PeriodSeconds: 5}
	}
	// The root filesystem is read-only; Go and its libraries may still
	// want a scratch directory.
	volumes = append(volumes, corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	mounts = append(mounts, corev1.VolumeMount{Name: "tmp", MountPath: "/tmp"})
	var lifecycle *corev1.Lifecycle
	if comp == "edge" {
		lifecycle = edgeLifecycle()
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: componentName(rc.Name, comp), Namespace: rc.Namespace, Labels: l},
		Spec: appsv1.DeploymentSpec{
			Replicas: n,
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l, Annotations: map[string]string{
					configHashAnnotation: fmt.Sprintf("%x", sha256.Sum256([]byte(cm.Data[comp+".yaml"]))),
				}},
				Spec: corev1.PodSpec{
					SecurityContext:           podSecurityContext(),
					TopologySpreadConstraints: topologySpread(l),
					Containers: []corev1.Container{{
						Name: "kradius", Image: rc.Spec.Image, ImagePullPolicy: rc.Spec.ImagePullPolicy,
						Args:            []string{"-config", configDir + "/" + comp + ".yaml"},
						Ports:           ports,
						Env:             append([]corev1.EnvVar{memoryLimitEnv()}, podIdentityEnv()...),
						Resources:       res,
						VolumeMounts:    mounts,
						LivenessProbe:   probe("/healthz"),
						ReadinessProbe:  probe("/readyz"),
						Lifecycle:       lifecycle,
						SecurityContext: containerSecurityContext(),
					}},
					Volumes: volumes,
				},
			},
		},
	}
}

// edgeDrainSeconds is how long a stopping edge pod keeps answering before
// it is sent SIGTERM: it is out of the Service's endpoints as soon as it is
// terminating, and in that time kube-proxy moves the NAS's UDP flows
// (conntrack) to the other pods. Without it the edge would stop reading at
// once, and the packets still sent to it would wait for the NAS to
// retransmit.
const edgeDrainSeconds = 5

func edgeLifecycle() *corev1.Lifecycle {
	return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: edgeDrainSeconds}}}
}

// kradiusUID is the image's user (test/ociimage): nobody's, with no home
// and no shell.
const kradiusUID = 65532

// podSecurityContext and containerSecurityContext are the restricted Pod
// Security Standard: kradius needs no privilege, capability or writable
// root filesystem.
func podSecurityContext() *corev1.PodSecurityContext {
	uid := int64(kradiusUID)
	return &corev1.PodSecurityContext{
		RunAsNonRoot: ptr(true), RunAsUser: &uid, RunAsGroup: &uid, FSGroup: &uid,
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func containerSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot: ptr(true), ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(false),
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// topologySpread spreads a component's pods over zones, then nodes, as far
// as the scheduler can: a zone or node lost takes a share of each
// component, not all of one. ScheduleAnyway, so that a cluster of one zone
// or one node still runs them.
func topologySpread(l map[string]string) []corev1.TopologySpreadConstraint {
	var out []corev1.TopologySpreadConstraint
	for _, key := range []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"} {
		out = append(out, corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: key,
			WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: &metav1.LabelSelector{MatchLabels: l}})
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// podIdentityEnv names the pod, its namespace and node (the downward API),
// which kradius puts on its traces' resource (package tracing).
func podIdentityEnv() []corev1.EnvVar {
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	return []corev1.EnvVar{field("POD_NAME", "metadata.name"), field("POD_NAMESPACE", "metadata.namespace"), field("NODE_NAME", "spec.nodeName")}
}

// memoryLimitEnv sets GOMEMLIMIT to the container's memory limit (the
// node's allocatable memory when there is none): kradius runs the collector
// less often than Go's default (GOGC 400), and the limit makes it collect
// harder before the kernel would kill the pod.
func memoryLimitEnv() corev1.EnvVar {
	return corev1.EnvVar{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{
		ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "kradius", Resource: "limits.memory"},
	}}
}

// services: the edge's Service (UDP, and RadSec's TCP port), and gRPC
// Services for accounts and dids.
func services(rc *kradiusv1.RadiusCluster) []*corev1.Service {
	s := rc.Spec.Edge.Service
	typ := s.Type
	if typ == "" {
		typ = corev1.ServiceTypeLoadBalancer
	}
	edge := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: componentName(rc.Name, "edge"), Namespace: rc.Namespace, Labels: labels(rc, "edge"), Annotations: s.Annotations},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: labels(rc, "edge"),
			Ports: []corev1.ServicePort{
				{Name: "auth", Protocol: corev1.ProtocolUDP, Port: portOr(s.AuthPort, authPort), TargetPort: intstr.FromString("auth")},
				{Name: "acct", Protocol: corev1.ProtocolUDP, Port: portOr(s.AcctPort, acctPort), TargetPort: intstr.FromString("acct")},
			},
		},
	}
	// One Service for both transports keeps one address for the NAS to
	// list. Kubernetes takes mixed protocols on a LoadBalancer Service;
	// the load balancer behind it must support them too.
	if r := radsecOn(rc); r != nil {
		edge.Spec.Ports = append(edge.Spec.Ports, corev1.ServicePort{Name: "radsec", Protocol: corev1.ProtocolTCP, Port: portOr(r.Port, radsecPort), TargetPort: intstr.FromString("radsec")})
	}
	if typ != corev1.ServiceTypeClusterIP {
		// The NAS's source address picks its secret: it must survive the load balancer.
		edge.Spec.ExternalTrafficPolicy = s.ExternalTrafficPolicy
		if edge.Spec.ExternalTrafficPolicy == "" {
			edge.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}
		edge.Spec.LoadBalancerIP = s.LoadBalancerIP
	}
	out := []*corev1.Service{edge}
	for _, comp := range []string{"accounts", "dids"} {
		out = append(out, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: componentName(rc.Name, comp), Namespace: rc.Namespace, Labels: labels(rc, comp)},
			Spec: corev1.ServiceSpec{
				Selector: labels(rc, comp),
				Ports:    []corev1.ServicePort{{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: grpcPort, TargetPort: intstr.FromString("grpc")}},
			},
		})
	}
	return out
}

func portOr(p, def int32) int32 {
	if p > 0 {
		return p
	}
	return def
}

// hpa scales the edge on CPU, when autoscaling is on (the default).
func hpa(rc *kradiusv1.RadiusCluster) *autoscalingv2.HorizontalPodAutoscaler {
	a := rc.Spec.Edge.Autoscaling
	if a.Enabled != nil && !*a.Enabled {
		return nil
	}
	minR := a.MinReplicas
	if minR == 0 {
		minR = 2
	}
	maxR := a.MaxReplicas
	if maxR < minR {
		maxR = max(minR, 10)
	}
	target := a.TargetCPUUtilizationPercentage
	if target == 0 {
		target = 70
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: componentName(rc.Name, "edge"), Namespace: rc.Namespace, Labels: labels(rc, "edge")},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: componentName(rc.Name, "edge")},
			MinReplicas:    &minR,
			MaxReplicas:    maxR,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target},
			}}},
		},
	}
}

// pdbs keep at most one pod of each component down in a voluntary disruption.
func pdbs(rc *kradiusv1.RadiusCluster) []*policyv1.PodDisruptionBudget {
	var out []*policyv1.PodDisruptionBudget
	one := intstr.FromInt32(1)
	for _, comp := range components {
		out = append(out, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: componentName(rc.Name, comp), Namespace: rc.Namespace, Labels: labels(rc, comp)},
			Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one, Selector: &metav1.LabelSelector{MatchLabels: labels(rc, comp)}},
		})
	}
	return out
}

// clientEntry is one client of the client-table file (config.ClientConfig's keys).
type clientEntry = config.ClientConfig

// clientsDocument renders the client table from the RadiusClients of the
// cluster and their secrets, sorted by name so that an unchanged set
// renders the same bytes and the edges do not reload for nothing. A client
// whose secret is missing, or that claims what an older client claims, is
// left out: each is reported on the RadiusClient itself.
func clientsDocument(clients []kradiusv1.RadiusClient, secrets map[string]string) ([]byte, error) {
	conflicts := clientConflicts(clients)
	var entries []clientEntry
	for _, c := range clients {
		key := clientKey(&c)
		if _, lost := conflicts[key]; lost {
			continue
		}
		e := clientEntry{Name: key, Profile: string(c.Spec.Profile), MessageAuthenticator: c.Spec.MessageAuthenticator}
		// Over UDP the secret authenticates the NAS; a RadSec-only client
		// has none (RFC 6614's is fixed), and the edge refuses one.
		if len(c.Spec.CIDRs) > 0 {
			secret, ok := secrets[key]
			if !ok {
				continue
			}
			e.Secret, e.CIDRs = secret, uniqueCIDRs(c.Spec.CIDRs)
		}
		e.RadSec.Identities = uniqueIdentities(c.Spec.RadSec)
		if e.Profile == "" {
			e.Profile = kradiusv1.ProfileFaxBack
		}
		if l := c.Spec.RateLimit; l != nil {
			e.RateLimit = config.RateLimitConfig{RequestsPerSecond: float64(l.RequestsPerSecond), Burst: int(l.Burst)}
		}
		if c.Spec.FaxBack != nil && c.Spec.FaxBack.UUIDFormat != "" {
			var block yaml.Node
			if err := block.Encode(map[string]string{"uuid_format": c.Spec.FaxBack.UUIDFormat}); err != nil {
				return nil, err
			}
			e.Options = map[string]yaml.Node{kradiusv1.ProfileFaxBack: block}
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return yaml.Marshal(map[string]any{"clients": entries})
}
