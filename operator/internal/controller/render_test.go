package controller

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/services/config"
	"kradius.dev/services/tlstest"
)

var update = flag.Bool("update", false, "rewrite the renderers' golden files under testdata/render")

// renderClusters are the RadiusClusters the renderers are checked against,
// each the defaults plus one kind of setting.
func renderClusters() map[string]*kradiusv1.RadiusCluster {
	cluster := func(edit func(*kradiusv1.RadiusClusterSpec)) *kradiusv1.RadiusCluster {
		rc := &kradiusv1.RadiusCluster{
			ObjectMeta: metav1.ObjectMeta{Name: "east", Namespace: "carrier"},
			Spec: kradiusv1.RadiusClusterSpec{
				Image: "registry.example.com/kradius:v1.2.3",
				Redis: kradiusv1.RedisSpec{Addresses: []kradiusv1.HostPort{"redis:6379"}},
				Kafka: kradiusv1.KafkaSpec{Brokers: []kradiusv1.HostPort{"kafka:9092"}},
			},
		}
		if edit != nil {
			edit(&rc.Spec)
		}
		return rc
	}
	key := func(secret, key string) corev1.SecretKeySelector {
		return corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}
	}
	ref := func(secret, k string) *corev1.SecretKeySelector { s := key(secret, k); return &s }
	n := func(i int32) *int32 { return &i }
	off := false
	return map[string]*kradiusv1.RadiusCluster{
		"defaults": cluster(nil),
		// Every secret the pods mount: passwords and CAs, for Redis and Kafka.
		"tls": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Redis.PasswordSecretRef = ref("redis-auth", "password")
			s.Redis.TLS = &kradiusv1.TLSSpec{Enabled: true, CASecretRef: ref("redis-ca", "ca.crt"), ServerName: "redis.internal"}
			s.Kafka.TLS = &kradiusv1.TLSSpec{Enabled: true, CASecretRef: ref("kafka-ca", "ca.crt"), ServerName: "kafka.internal"}
			s.Kafka.SASL = &kradiusv1.KafkaSASLSpec{Mechanism: "SCRAM-SHA-512", Username: "kradius", PasswordSecretRef: key("kafka-auth", "password")}
		}),
		// TLS verified against the image's system roots: nothing mounted.
		"tls-system-roots": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Redis.TLS = &kradiusv1.TLSSpec{Enabled: true}
			s.Kafka.TLS = &kradiusv1.TLSSpec{Enabled: true}
		}),
		"kafka": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Kafka.Brokers = []kradiusv1.HostPort{"kafka-0.kafka:9092", "kafka-1.kafka:9092", "kafka-2.kafka:9092"}
			s.Kafka.Topics = kradiusv1.KafkaTopicsSpec{Accounting: "east.accounting", CDR: "east.cdr"}
			s.Kafka.CreateTopics = true
			s.Kafka.Partitions = 12
			s.Kafka.ReplicationFactor = 3
		}),
		"sentinel": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Redis = kradiusv1.RedisSpec{
				Addresses:  []kradiusv1.HostPort{"sentinel-0:26379", "sentinel-1:26379", "sentinel-2:26379"},
				MasterName: "kradius", Username: "kradius", DB: 2, KeyPrefix: "{east}:",
			}
			s.LongNames = true
			s.ClientsSecretName = "nas-table"
			s.Edge.SharedReplyCache = true
		}),
		"sized": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.ImagePullPolicy = corev1.PullIfNotPresent
			small := corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
			}
			s.Edge.Replicas, s.Edge.Resources = n(4), small
			s.Accounts.Replicas, s.Accounts.Resources = n(3), small
			s.DIDs.Replicas = n(3)
			s.CDR.Replicas = n(2)
			// A maximum below the minimum is raised to at least 10.
			s.Edge.Autoscaling = kradiusv1.EdgeAutoscalingSpec{MinReplicas: 3, TargetCPUUtilizationPercentage: 50}
		}),
		// Traces to an OTLP/HTTP collector, one request in a thousand.
		"tracing": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Tracing = &kradiusv1.TracingSpec{OTLPEndpoint: "http://otel-collector.observability:4318", Protocol: "http", SamplingRatio: "0.001"}
		}),
		// Reached from inside the cluster only, at fixed size.
		"internal": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Edge.Replicas = n(3)
			s.Edge.Autoscaling.Enabled = &off
			s.Edge.Service = kradiusv1.EdgeServiceSpec{Type: corev1.ServiceTypeClusterIP, AuthPort: 11812, AcctPort: 11813,
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster}
		}),
		// RadSec beside UDP: the certificate and client CA mounted, a TCP
		// port on the pod and the Service; the CA's key and the port at
		// their defaults.
		"radsec": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Edge.RadSec = &kradiusv1.EdgeRadSecSpec{Enabled: true,
				CertificateSecretRef: &kradiusv1.SecretNameReference{Name: "edge-tls"},
				ClientCASecretRef:    &kradiusv1.CASecretReference{Name: "nas-ca"},
				MaxConnections:       4096,
			}
		}),
		// The same on a NodePort Service, on another port, the CA under
		// its own key.
		"radsec-nodeport": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Edge.Service.Type = corev1.ServiceTypeNodePort
			s.Edge.RadSec = &kradiusv1.EdgeRadSecSpec{Enabled: true, Port: 12083,
				CertificateSecretRef: &kradiusv1.SecretNameReference{Name: "edge-tls"},
				ClientCASecretRef:    &kradiusv1.CASecretReference{Name: "nas-ca", Key: "nas-ca.pem"},
			}
		}),
		"loadbalancer": cluster(func(s *kradiusv1.RadiusClusterSpec) {
			s.Edge.Service = kradiusv1.EdgeServiceSpec{
				Type:                  corev1.ServiceTypeLoadBalancer,
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
				LoadBalancerIP:        "192.0.2.10",
				Annotations:           map[string]string{"metallb.universe.tf/address-pool": "radius"},
			}
			s.Edge.Autoscaling = kradiusv1.EdgeAutoscalingSpec{MinReplicas: 2, MaxReplicas: 6}
		}),
	}
}

// TestRenderGolden checks each renderer's objects, as YAML, against
// testdata/render/<renderer>/<case>.yaml, for the cases that change them.
func TestRenderGolden(t *testing.T) {
	clusters := renderClusters()
	for _, r := range []struct {
		name   string
		cases  []string
		render func(*kradiusv1.RadiusCluster) ([]any, error)
	}{
		{"configmap", []string{"defaults", "tls", "tls-system-roots", "kafka", "sentinel", "tracing", "radsec", "radsec-nodeport"}, func(rc *kradiusv1.RadiusCluster) ([]any, error) {
			cm, err := configMap(rc)
			return []any{cm}, err
		}},
		{"deployments", []string{"defaults", "tls", "sentinel", "sized", "radsec"}, func(rc *kradiusv1.RadiusCluster) ([]any, error) {
			cm, err := configMap(rc)
			if err != nil {
				return nil, err
			}
			var out []any
			for _, comp := range components {
				out = append(out, deployment(rc, comp, cm))
			}
			return out, nil
		}},
		{"services", []string{"defaults", "internal", "loadbalancer", "radsec", "radsec-nodeport"}, func(rc *kradiusv1.RadiusCluster) ([]any, error) {
			return anys(services(rc)), nil
		}},
		{"hpa", []string{"defaults", "sized", "internal", "loadbalancer"}, func(rc *kradiusv1.RadiusCluster) ([]any, error) {
			return []any{hpa(rc)}, nil
		}},
		{"pdbs", []string{"defaults"}, func(rc *kradiusv1.RadiusCluster) ([]any, error) {
			return anys(pdbs(rc)), nil
		}},
	} {
		for _, c := range r.cases {
			t.Run(r.name+"/"+c, func(t *testing.T) {
				rc, ok := clusters[c]
				if !ok {
					t.Fatalf("no cluster case %q", c)
				}
				objs, err := r.render(rc)
				if err != nil {
					t.Fatal(err)
				}
				var doc bytes.Buffer
				for i, o := range objs {
					b, err := yaml.Marshal(o)
					if err != nil {
						t.Fatal(err)
					}
					if i > 0 {
						doc.WriteString("---\n")
					}
					doc.Write(b)
				}
				golden(t, filepath.Join("testdata", "render", r.name, c+".yaml"), doc.Bytes())
			})
		}
	}
}

// TestClientsDocumentGolden checks the edges' client table against
// testdata/render/clients/<case>.yaml.
func TestClientsDocumentGolden(t *testing.T) {
	created := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	client := func(ns, name string, spec kradiusv1.RadiusClientSpec) kradiusv1.RadiusClient {
		spec.ClusterRef = kradiusv1.ClusterReference{Name: "east"}
		return kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: created}, Spec: spec}
	}
	later := func(c kradiusv1.RadiusClient) kradiusv1.RadiusClient {
		c.CreationTimestamp = metav1.NewTime(created.Add(time.Minute))
		return c
	}
	for _, tc := range []struct {
		name    string
		clients []kradiusv1.RadiusClient
		secrets map[string]string
	}{
		{name: "none"},
		{
			name:    "defaults",
			clients: []kradiusv1.RadiusClient{client("carrier", "pop1", kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"192.0.2.10"}})},
			secrets: map[string]string{"carrier/pop1": "s3cret"},
		},
		{
			name: "options",
			clients: []kradiusv1.RadiusClient{client("carrier", "uuid-nas", kradiusv1.RadiusClientSpec{
				CIDRs:                []kradiusv1.ClientCIDR{"198.51.100.0/24", "2001:db8::/32"},
				Profile:              kradiusv1.ProfileFaxBack,
				MessageAuthenticator: kradiusv1.MessageAuthenticatorOff,
				FaxBack:              &kradiusv1.FaxBackClientSpec{UUIDFormat: kradiusv1.UUIDFormatDash},
				RateLimit:            &kradiusv1.ClientRateLimit{RequestsPerSecond: 200, Burst: 400},
			})},
			secrets: map[string]string{"carrier/uuid-nas": "s3cret"},
		},
		// Sorted by namespace/name whatever the list order; a client whose
		// secret is missing is left out.
		{
			name: "sorted",
			clients: []kradiusv1.RadiusClient{
				client("west", "a", kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"192.0.2.3"}, MessageAuthenticator: kradiusv1.MessageAuthenticatorRequire}),
				client("carrier", "b", kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"192.0.2.2"}}),
				client("carrier", "no-secret", kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"192.0.2.4"}}),
				client("carrier", "a", kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"192.0.2.1"}, FaxBack: &kradiusv1.FaxBackClientSpec{UUIDFormat: kradiusv1.UUIDFormatHex}}),
			},
			secrets: map[string]string{"west/a": "wa", "carrier/b": "cb", "carrier/a": "ca"},
		},
		// RadSec-only (no cidrs, no secret), both ways, an identity
		// repeated in another case (written once); later clients claiming
		// an older one's identity or range are left out.
		{
			name: "radsec",
			clients: []kradiusv1.RadiusClient{
				client("carrier", "proxy", kradiusv1.RadiusClientSpec{Profile: "generic",
					RadSec: &kradiusv1.ClientRadSec{Identities: []kradiusv1.RadSecIdentity{"proxy.carrier.example", "spiffe://carrier.example/proxy", "PROXY.carrier.example"}}}),
				client("carrier", "both", kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"10.0.0.0/8", "10.0.0.1/8"},
					SecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "both"},
					RadSec:    &kradiusv1.ClientRadSec{Identities: []kradiusv1.RadSecIdentity{"nas-b.carrier.example"}}}),
				later(client("carrier", "same-name", kradiusv1.RadiusClientSpec{
					RadSec: &kradiusv1.ClientRadSec{Identities: []kradiusv1.RadSecIdentity{"Proxy.Carrier.Example"}}})),
				later(client("carrier", "same-range", kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"10.1.2.3/8"},
					SecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "r"}})),
			},
			secrets: map[string]string{"carrier/both": "sb", "carrier/same-range": "sr"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := clientsDocument(tc.clients, tc.secrets)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "render", "clients", tc.name+".yaml"), doc)
		})
	}
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// golden compares got with the file at path, or rewrites the file with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: write it with go test -short -run %s -update", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendering differs from %s at %s\nif the change is meant, rewrite it with go test -short -run %s -update",
			path, firstDiff(want, got), t.Name())
	}
}

// firstDiff names the first line where want and got part.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return fmt.Sprintf("line %d:\n  golden: %q\n  got:    %q", i+1, wl, gl)
		}
	}
	return "no line"
}

// TestRadSecEdgeConfigLoads runs the edge's RadSec config and a client
// table with RadSec clients through kradius's own loader, which loads the
// certificates: real ones, at the paths the pod mounts them.
func TestRadSecEdgeConfigLoads(t *testing.T) {
	rc := renderClusters()["radsec-nodeport"]
	cm, err := configMap(rc)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	write := func(path string, b []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(root+path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(root+path, b); err != nil {
			t.Fatal(err)
		}
	}
	ca, err := tlstest.NewCA("nas-ca")
	if err != nil {
		t.Fatal(err)
	}
	edge, err := ca.Server("east-edge.carrier.svc")
	if err != nil {
		t.Fatal(err)
	}
	write(radsecCertDir+"/"+corev1.TLSCertKey, edge.CertPEM)
	write(radsecCertDir+"/"+corev1.TLSPrivateKeyKey, edge.KeyPEM)
	write(radsecCADir+"/nas-ca.pem", ca.PEM)
	clients, err := clientsDocument([]kradiusv1.RadiusClient{
		{ObjectMeta: metav1.ObjectMeta{Name: "proxy", Namespace: "carrier"}, Spec: kradiusv1.RadiusClientSpec{
			RadSec: &kradiusv1.ClientRadSec{Identities: []kradiusv1.RadSecIdentity{"proxy.carrier.example"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "both", Namespace: "carrier"}, Spec: kradiusv1.RadiusClientSpec{
			CIDRs:     []kradiusv1.ClientCIDR{"192.0.2.0/24"},
			SecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"},
			RadSec:    &kradiusv1.ClientRadSec{Identities: []kradiusv1.RadSecIdentity{"nas-b.carrier.example"}}}},
	}, map[string]string{"carrier/both": "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	write(clientsDir+"/clients.yaml", clients)
	edgeYAML := strings.ReplaceAll(cm.Data["edge.yaml"], "/etc/kradius/", root+"/etc/kradius/")
	write(configDir+"/edge.yaml", []byte(edgeYAML))
	fs := flag.NewFlagSet("kradius", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := config.Load([]string{"-config", root + configDir + "/edge.yaml"}, fs)
	if err != nil {
		t.Fatalf("kradius refuses the RadSec edge config: %v\n%s\n%s", err, edgeYAML, clients)
	}
	if !cfg.Edge.RadSec.Enabled() || cfg.Edge.RadSec.Listen != ":2083" {
		t.Errorf("edge.radsec %+v, want it listening on :2083", cfg.Edge.RadSec)
	}
	// The other components neither mount nor name the certificates.
	for _, comp := range []string{"accounts", "dids", "cdr"} {
		if strings.Contains(cm.Data[comp+".yaml"], "radsec") {
			t.Errorf("%s.yaml names RadSec:\n%s", comp, cm.Data[comp+".yaml"])
		}
	}
}

// TestConfigChangeRollsItsComponents: a pod template carries the hash of
// its component's kradius.yaml, so that a change to the file rolls the
// pods that read it, and only those; the same spec renders the same hash.
func TestConfigChangeRollsItsComponents(t *testing.T) {
	hashes := func(rc *kradiusv1.RadiusCluster) map[string]string {
		t.Helper()
		cm, err := configMap(rc)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, comp := range components {
			out[comp] = deployment(rc, comp, cm).Spec.Template.Annotations[configHashAnnotation]
		}
		return out
	}
	rc := renderClusters()["defaults"]
	before := hashes(rc)
	if again := hashes(rc); !maps.Equal(again, before) {
		t.Fatalf("the same spec rendered %v, then %v", before, again)
	}
	for comp, h := range before {
		if len(h) != 64 {
			t.Errorf("%s: config hash %q, want a SHA-256 in hex", comp, h)
		}
	}

	edgeOnly := rc.DeepCopy()
	edgeOnly.Spec.Edge.SharedReplyCache = !rc.Spec.Edge.SharedReplyCache
	for comp, h := range hashes(edgeOnly) {
		if changed := h != before[comp]; changed != (comp == "edge") {
			t.Errorf("the edge's reply cache changed: %s's config hash changed %v, want %v", comp, changed, comp == "edge")
		}
	}

	everyone := rc.DeepCopy()
	everyone.Spec.Tracing = &kradiusv1.TracingSpec{OTLPEndpoint: "collector:4317", SamplingRatio: "0.5"}
	for comp, h := range hashes(everyone) {
		if h == before[comp] {
			t.Errorf("tracing changed: %s's config hash did not", comp)
		}
	}
}
