package controller

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kradiusv1 "kradius.dev/api/v1alpha1"
	"kradius.dev/services/config"
	"kradius.dev/services/eventually"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/password"
	"kradius.dev/services/tlstest"
)

func TestRadiusClusterObjects(t *testing.T) {
	ns := namespace(t)
	rc := cluster(t, ns, "prod")
	ctx := context.Background()
	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }
	for _, comp := range components {
		var d appsv1.Deployment
		eventually.True(t, "deployment "+comp, func() bool { return k8s.Get(ctx, key("prod-"+comp), &d) == nil })
		if len(d.OwnerReferences) != 1 || d.OwnerReferences[0].Name != "prod" {
			t.Errorf("%s: owner references %v", comp, d.OwnerReferences)
		}
		if args := d.Spec.Template.Spec.Containers[0].Args; strings.Join(args, " ") != "-config /etc/kradius/config/"+comp+".yaml" {
			t.Errorf("%s: args %v", comp, args)
		}
		// The API server accepted the resource and field references: the
		// limit reaches the Go runtime, the pod's identity the traces.
		env := map[string]*corev1.EnvVarSource{}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			env[e.Name] = e.ValueFrom
		}
		if v := env["GOMEMLIMIT"]; v == nil || v.ResourceFieldRef == nil || v.ResourceFieldRef.Resource != "limits.memory" {
			t.Errorf("%s: GOMEMLIMIT %+v, want it from limits.memory", comp, v)
		}
		for name, path := range map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace", "NODE_NAME": "spec.nodeName"} {
			if v := env[name]; v == nil || v.FieldRef == nil || v.FieldRef.FieldPath != path {
				t.Errorf("%s: %s %+v, want it from %s", comp, name, v, path)
			}
		}
		var pdb policyv1.PodDisruptionBudget
		eventually.True(t, comp+" PDB", func() bool { return k8s.Get(ctx, key("prod-"+comp), &pdb) == nil })
	}
	var edge corev1.Service
	eventually.True(t, "edge Service", func() bool { return k8s.Get(ctx, key("prod-edge"), &edge) == nil })
	if edge.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal || edge.Spec.Ports[0].Protocol != corev1.ProtocolUDP {
		t.Errorf("edge Service: %+v", edge.Spec)
	}
	var h autoscalingv2.HorizontalPodAutoscaler
	eventually.True(t, "edge HPA", func() bool { return k8s.Get(ctx, key("prod-edge"), &h) == nil })
	if h.Spec.MaxReplicas < *h.Spec.MinReplicas {
		t.Errorf("edge HPA: %+v", h.Spec)
	}
	// Every component's config is one the binary accepts: read by its own
	// loader, from the files its pod mounts, where it mounts them.
	for _, comp := range components {
		var d appsv1.Deployment
		if err := k8s.Get(ctx, key("prod-"+comp), &d); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadMounted(t, ctx, d)
		if err != nil {
			t.Errorf("%s: kradius refuses its config: %v", comp, err)
		} else if cfg.Target != comp {
			t.Errorf("%s: config for target %q", comp, cfg.Target)
		}
	}
	// Status: no pods run under envtest, so the cluster is not Ready.
	eventually.True(t, "status", func() bool {
		var got kradiusv1.RadiusCluster
		return k8s.Get(ctx, client.ObjectKeyFromObject(rc), &got) == nil && len(got.Status.Components) == 4 &&
			got.Status.Conditions != nil && got.Status.Conditions[0].Status == metav1.ConditionFalse
	})
}

// loadMounted runs config.Load on a Deployment's container arguments, as
// kradius does in its pod, with the ConfigMaps and Secrets it mounts
// written where it mounts them, under a temporary root. Paths in the files
// are the pod's: they are moved under the root as well.
func loadMounted(t *testing.T, ctx context.Context, d appsv1.Deployment) (config.Config, error) {
	t.Helper()
	root := t.TempDir()
	pod := d.Spec.Template.Spec
	files := map[string][]byte{} // path in the pod -> contents
	var filled []string          // the mount paths files came from
	for _, m := range pod.Containers[0].VolumeMounts {
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 {
			t.Fatalf("mount %s of a volume the pod lacks", m.Name)
		}
		key := client.ObjectKey{Namespace: d.Namespace}
		switch v := pod.Volumes[i]; {
		case v.ConfigMap != nil:
			var cm corev1.ConfigMap
			key.Name = v.ConfigMap.Name
			eventually.True(t, "ConfigMap "+key.Name, func() bool { return k8s.Get(ctx, key, &cm) == nil })
			for name, doc := range cm.Data {
				files[m.MountPath+"/"+name] = []byte(doc)
			}
			filled = append(filled, m.MountPath)
		case v.Secret != nil:
			var s corev1.Secret
			key.Name = v.Secret.SecretName
			eventually.True(t, "Secret "+key.Name, func() bool { return k8s.Get(ctx, key, &s) == nil })
			for name, b := range s.Data {
				files[m.MountPath+"/"+name] = b
			}
			filled = append(filled, m.MountPath)
		case v.EmptyDir != nil:
			// Scratch space: nothing of the config is there.
		default:
			t.Fatalf("volume %s: neither a ConfigMap, a Secret nor an emptyDir", v.Name)
		}
	}
	for path, b := range files {
		for _, dir := range filled {
			b = bytes.ReplaceAll(b, []byte(dir+"/"), []byte(root+dir+"/"))
		}
		if err := os.MkdirAll(filepath.Dir(root+path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(root+path, b); err != nil {
			t.Fatal(err)
		}
	}
	args := slices.Clone(pod.Containers[0].Args)
	for i, a := range args {
		if strings.HasPrefix(a, "/") {
			args[i] = root + a
		}
	}
	fs := flag.NewFlagSet("kradius", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return config.Load(args, fs)
}

func TestRadiusClientTable(t *testing.T) {
	ns := namespace(t)
	cluster(t, ns, "edge-test")
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ps-secret", Namespace: ns}, Data: map[string][]byte{"secret": []byte("testing123")}}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	c := &kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: "portserver", Namespace: ns}, Spec: kradiusv1.RadiusClientSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "edge-test"}, CIDRs: []kradiusv1.ClientCIDR{"192.0.2.0/24", "198.51.100.7"},
		SecretRef:            &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "ps-secret"}, Key: "secret"},
		MessageAuthenticator: "off",
	}}
	if err := k8s.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	// The table the edges mount loads as the edge loads it.
	loaded := func(wantSecret string) bool {
		var s corev1.Secret
		if k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "edge-test-clients"}, &s) != nil {
			return false
		}
		path := t.TempDir() + "/clients.yaml"
		if err := writeFile(path, s.Data["clients.yaml"]); err != nil {
			t.Fatal(err)
		}
		clients, secrets, err := config.LoadClientsFile(path)
		return err == nil && len(clients) == 1 && string(secrets[clients[0].Name]) == wantSecret && len(clients[0].CIDRs) == 2
	}
	eventually.True(t, "client table with the client", func() bool { return loaded("testing123") })
	eventually.True(t, "RadiusClient Synced", func() bool {
		var got kradiusv1.RadiusClient
		return k8s.Get(ctx, client.ObjectKeyFromObject(c), &got) == nil && synced(got.Status.Conditions) != nil && synced(got.Status.Conditions).Status == metav1.ConditionTrue
	})
	// A new secret reaches the table.
	secret.Data["secret"] = []byte("rotated")
	if err := k8s.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "rotated secret in the client table", func() bool { return loaded("rotated") })
}

// TestRadiusClientFollowsItsSecretAndCluster: a client made before its
// cluster and its Secret says what it waits for, then Synced once both
// exist, and not Synced again when its Secret goes, with nothing but
// those changes to requeue it.
func TestRadiusClientFollowsItsSecretAndCluster(t *testing.T) {
	ns := namespace(t)
	ctx := context.Background()
	c := &kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: "early", Namespace: ns}, Spec: kradiusv1.RadiusClientSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "later"}, CIDRs: []kradiusv1.ClientCIDR{"192.0.2.9"},
		SecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "later-secret"}, Key: "secret"},
	}}
	if err := k8s.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	conds := func() []metav1.Condition { return c.Status.Conditions }
	syncedAs(t, c, conds, metav1.ConditionFalse, kradiusv1.ReasonClusterNotFound)

	cluster(t, ns, "later")
	syncedAs(t, c, conds, metav1.ConditionFalse, kradiusv1.ReasonSecretNotFound)

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "later-secret", Namespace: ns}, Data: map[string][]byte{"secret": []byte("testing123")}}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	syncedAs(t, c, conds, metav1.ConditionTrue, kradiusv1.ReasonSynced)

	if err := k8s.Delete(ctx, secret); err != nil {
		t.Fatal(err)
	}
	syncedAs(t, c, conds, metav1.ConditionFalse, kradiusv1.ReasonSecretNotFound)
}

// TestRadiusClusterConfigChange: a spec change that changes only the
// edge's kradius.yaml changes the edge's pod template, which rolls its
// pods, and leaves the others' as they were.
func TestRadiusClusterConfigChange(t *testing.T) {
	ns := namespace(t)
	rc := cluster(t, ns, "conf")
	ctx := context.Background()
	hash := func(comp string) string {
		return ofTemplate(ns, "conf-"+comp, func(p corev1.PodTemplateSpec) string { return p.Annotations[configHashAnnotation] })
	}
	before := map[string]string{}
	for _, comp := range components {
		eventually.True(t, comp+" rendered", func() bool { before[comp] = hash(comp); return before[comp] != "" })
	}
	eventually.NoError(t, "the shared reply cache turned on", func() error {
		var live kradiusv1.RadiusCluster
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(rc), &live); err != nil {
			return err
		}
		live.Spec.Edge.SharedReplyCache = true
		return k8s.Update(ctx, &live)
	})
	eventually.True(t, "the edge's template changed", func() bool { return hash("edge") != before["edge"] })
	// The status is written once every object of the change is applied.
	eventually.True(t, "the change's status", func() bool {
		var live kradiusv1.RadiusCluster
		return k8s.Get(ctx, client.ObjectKeyFromObject(rc), &live) == nil && live.Generation > 1 && live.Status.ObservedGeneration == live.Generation
	})
	for _, comp := range components {
		if comp != "edge" && hash(comp) != before[comp] {
			t.Errorf("%s's config hash changed with the edge's reply cache", comp)
		}
	}
}

func TestInvalidResourcesRefused(t *testing.T) {
	ns := namespace(t)
	ctx := context.Background()
	ref := corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}
	for name, obj := range map[string]client.Object{
		"bad CIDR": &kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: "bad-cidr", Namespace: ns}, Spec: kradiusv1.RadiusClientSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, CIDRs: []kradiusv1.ClientCIDR{"10.0.0.0/33"}, SecretRef: &ref}},
		"name over 16 bytes": &kradiusv1.Account{ObjectMeta: metav1.ObjectMeta{Name: "n", Namespace: ns}, Spec: kradiusv1.AccountSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, Name: "this-name-is-too-long"}},
		"bad type": &kradiusv1.Account{ObjectMeta: metav1.ObjectMeta{Name: "t", Namespace: ns}, Spec: kradiusv1.AccountSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, Type: 3}},
		"SIP user without a password": &kradiusv1.SIPUser{ObjectMeta: metav1.ObjectMeta{Name: "u", Namespace: ns}, Spec: kradiusv1.SIPUserSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}}},
		"SIP user name with ':'": &kradiusv1.SIPUser{ObjectMeta: metav1.ObjectMeta{Name: "u2", Namespace: ns}, Spec: kradiusv1.SIPUserSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, Name: "a:b", PasswordsSecretRef: &kradiusv1.SecretNameReference{Name: "s"}}},
		"SIP route pattern": &kradiusv1.SIPRoute{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Spec: kradiusv1.SIPRouteSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, Pattern: "44*1"}},
		"SIP route target": &kradiusv1.SIPRoute{ObjectMeta: metav1.ObjectMeta{Name: "tg", Namespace: ns}, Spec: kradiusv1.SIPRouteSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, Pattern: "*", Legs: []kradiusv1.SIPRouteLeg{{Target: "bogus"}}}},
		"SIP route legs and a reject message": &kradiusv1.SIPRoute{ObjectMeta: metav1.ObjectMeta{Name: "rm", Namespace: ns}, Spec: kradiusv1.SIPRouteSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, Pattern: "*", Legs: []kradiusv1.SIPRouteLeg{{Target: "tel:1"}}, RejectMessage: "no"}},
		"carrier CIDR": &kradiusv1.Carrier{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: ns}, Spec: kradiusv1.CarrierSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, SourceCIDRs: []kradiusv1.CarrierCIDR{"10.0.0.0/33"}}},
		"carrier address without bits": &kradiusv1.Carrier{ObjectMeta: metav1.ObjectMeta{Name: "c2", Namespace: ns}, Spec: kradiusv1.CarrierSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, SourceCIDRs: []kradiusv1.CarrierCIDR{"192.0.2.1"}}},
		"carrier name with '@'": &kradiusv1.Carrier{ObjectMeta: metav1.ObjectMeta{Name: "c3", Namespace: ns}, Spec: kradiusv1.CarrierSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "x"}, Name: "@a"}},
	} {
		if err := k8s.Create(ctx, obj); !apierrors.IsInvalid(err) {
			t.Errorf("%s: created (%v); want the API server to refuse it", name, err)
		}
	}
}

func TestAccountAndDIDSync(t *testing.T) {
	ns := namespace(t)
	cluster(t, ns, "prod")
	ctx := context.Background()
	pw := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "carol-pw", Namespace: ns}, Data: map[string][]byte{"password": []byte("s3cret")}}
	if err := k8s.Create(ctx, pw); err != nil {
		t.Fatal(err)
	}
	a := &kradiusv1.Account{ObjectMeta: metav1.ObjectMeta{Name: "carol", Namespace: ns}, Spec: kradiusv1.AccountSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Type: 4,
		PasswordSecretRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "carol-pw"}, Key: "password"},
	}}
	if err := k8s.Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	verifies := func(p string) bool {
		got, err := testStore.GetAccount(ctx, "carol")
		ok, _ := password.Verify(got.PasswordHash, p)
		return err == nil && ok && got.Type == 4
	}
	eventually.True(t, "account in the store", func() bool { return verifies("s3cret") })

	// A password change in the Secret reaches the store.
	pw.Data["password"] = []byte("n3w")
	if err := k8s.Update(ctx, pw); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "new password in the store", func() bool { return verifies("n3w") })

	d := &kradiusv1.DID{ObjectMeta: metav1.ObjectMeta{Name: "did-1", Namespace: ns}, Spec: kradiusv1.DIDSpec{
		ClusterRef: kradiusv1.ClusterReference{Name: "prod"}, Number: "5551230001", Account: "carol"}}
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "DID in the store", func() bool { _, err := testStore.GetDID(ctx, "5551230001"); return err == nil })

	// Deleting an account that owns a DID waits, says why, and finishes
	// once the DID is gone.
	if err := k8s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "Conflict while the DID exists", func() bool {
		var got kradiusv1.Account
		return k8s.Get(ctx, client.ObjectKeyFromObject(a), &got) == nil && synced(got.Status.Conditions) != nil &&
			synced(got.Status.Conditions).Reason == kradiusv1.ReasonConflict
	})
	if err := k8s.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "DID and account gone from the store and the API", func() bool {
		_, errD := testStore.GetDID(ctx, "5551230001")
		_, errA := testStore.GetAccount(ctx, "carol")
		gone := apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(a), &kradiusv1.Account{}))
		return errors.Is(errD, fbdata.ErrNotFound) && errors.Is(errA, fbdata.ErrNotFound) && gone
	})
}

func TestAccountSyncedFalse(t *testing.T) {
	ns := namespace(t)
	cluster(t, ns, "prod")
	down := &kradiusv1.RadiusCluster{ObjectMeta: metav1.ObjectMeta{Name: "down", Namespace: ns, Annotations: map[string]string{AdminAddressAnnotation: "127.0.0.1:1"}},
		Spec: kradiusv1.RadiusClusterSpec{Image: "kradius:test", Redis: kradiusv1.RedisSpec{Addresses: []kradiusv1.HostPort{"r:6379"}}, Kafka: kradiusv1.KafkaSpec{Brokers: []kradiusv1.HostPort{"k:9092"}}}}
	ctx := context.Background()
	if err := k8s.Create(ctx, down); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cluster, reason string
		spec                  func(*kradiusv1.AccountSpec)
	}{
		{"malformed-qp", "prod", kradiusv1.ReasonInvalid, func(s *kradiusv1.AccountSpec) { s.QueueProfile = "<QPXml" }},
		{"no-secret", "prod", kradiusv1.ReasonSecretNotFound, func(s *kradiusv1.AccountSpec) {
			s.PasswordSecretRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "p"}
		}},
		{"no-cluster", "nowhere", kradiusv1.ReasonClusterNotFound, func(*kradiusv1.AccountSpec) {}},
		{"backend-down", "down", kradiusv1.ReasonUnavailable, func(*kradiusv1.AccountSpec) {}},
	} {
		a := &kradiusv1.Account{ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: ns}, Spec: kradiusv1.AccountSpec{ClusterRef: kradiusv1.ClusterReference{Name: tc.cluster}}}
		tc.spec(&a.Spec)
		if err := k8s.Create(ctx, a); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		eventually.True(t, tc.name+" Synced=False "+tc.reason, func() bool {
			var got kradiusv1.Account
			c := (*metav1.Condition)(nil)
			if k8s.Get(ctx, client.ObjectKeyFromObject(a), &got) == nil {
				c = synced(got.Status.Conditions)
			}
			return c != nil && c.Status == metav1.ConditionFalse && c.Reason == tc.reason
		})
	}
}

// ofTemplate is what field reads of the pod template of ns's Deployment
// name, "" while there is none.
func ofTemplate(ns, name string, field func(corev1.PodTemplateSpec) string) string {
	var d appsv1.Deployment
	if k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &d) != nil {
		return ""
	}
	return field(d.Spec.Template)
}

// TestRadiusClusterImageChange: a new spec.image (helm upgrade) reaches
// every component's Deployment, which Kubernetes then rolls.
func TestRadiusClusterImageChange(t *testing.T) {
	ns := namespace(t)
	rc := cluster(t, ns, "prod")
	ctx := context.Background()
	image := func(comp string) string {
		return ofTemplate(ns, "prod-"+comp, func(p corev1.PodTemplateSpec) string { return p.Spec.Containers[0].Image })
	}
	for _, comp := range components {
		eventually.True(t, comp+" on kradius:test", func() bool { return image(comp) == "kradius:test" })
	}
	// The operator writes the cluster's status meanwhile: a conflict is
	// its write, and the change is made again on the newer object.
	eventually.NoError(t, "the image change", func() error {
		var live kradiusv1.RadiusCluster
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(rc), &live); err != nil {
			return err
		}
		live.Spec.Image = "kradius:next"
		return k8s.Update(ctx, &live)
	})
	for _, comp := range components {
		eventually.True(t, comp+" on kradius:next", func() bool { return image(comp) == "kradius:next" })
	}
}

// TestRadSecValidation: the API server takes a RadiusClient known by its
// address, by its certificate, or both, and a RadiusCluster serving RadSec
// with its two Secrets; it refuses the combinations the edge would.
func TestRadSecValidation(t *testing.T) {
	ns := namespace(t)
	ctx := context.Background()
	ref := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}
	ids := func(names ...kradiusv1.RadSecIdentity) *kradiusv1.ClientRadSec {
		return &kradiusv1.ClientRadSec{Identities: names}
	}
	many := make([]kradiusv1.RadSecIdentity, 65)
	for i := range many {
		many[i] = kradiusv1.RadSecIdentity(fmt.Sprintf("nas-%d.example", i))
	}
	n := 0
	rcl := func(spec kradiusv1.RadiusClientSpec) client.Object {
		n++
		spec.ClusterRef = kradiusv1.ClusterReference{Name: "x"}
		return &kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d", n), Namespace: ns}, Spec: spec}
	}
	cert, ca := &kradiusv1.SecretNameReference{Name: "edge-tls"}, &kradiusv1.CASecretReference{Name: "nas-ca"}
	rcs := func(r *kradiusv1.EdgeRadSecSpec) client.Object {
		n++
		return &kradiusv1.RadiusCluster{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rc%d", n), Namespace: ns}, Spec: kradiusv1.RadiusClusterSpec{
			Image: "kradius:test", Redis: kradiusv1.RedisSpec{Addresses: []kradiusv1.HostPort{"redis:6379"}},
			Kafka: kradiusv1.KafkaSpec{Brokers: []kradiusv1.HostPort{"kafka:9092"}}, Edge: kradiusv1.EdgeSpec{RadSec: r}}}
	}
	for _, c := range []struct {
		name   string
		obj    client.Object
		refuse string // "": accepted
	}{
		{"by address, as before", rcl(kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"192.0.2.1"}, SecretRef: ref}), ""},
		{"RadSec only", rcl(kradiusv1.RadiusClientSpec{RadSec: ids("nas-a.example", "spiffe://carrier.example/nas-a", "192.0.2.9", "NAS A")}), ""},
		{"both ways", rcl(kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"192.0.2.2"}, SecretRef: ref, RadSec: ids("nas-b.example")}), ""},
		{"neither", rcl(kradiusv1.RadiusClientSpec{}), "a client needs cidrs (its source addresses), radsec (its certificate names), or both"},
		{"cidrs without a secret", rcl(kradiusv1.RadiusClientSpec{CIDRs: []kradiusv1.ClientCIDR{"192.0.2.3"}, RadSec: ids("nas-c.example")}), "secretRef is required with cidrs"},
		{"a secret without cidrs", rcl(kradiusv1.RadiusClientSpec{SecretRef: ref, RadSec: ids("nas-d.example")}), "secretRef is set without cidrs"},
		{"no identities", rcl(kradiusv1.RadiusClientSpec{RadSec: ids()}), "spec.radsec.identities"},
		{"an identity twice, in another case", rcl(kradiusv1.RadiusClientSpec{RadSec: ids("nas-e.example", "NAS-E.example")}), "an identity is listed twice"},
		{"an identity with a trailing space", rcl(kradiusv1.RadiusClientSpec{RadSec: ids("nas-f.example ")}), "spec.radsec.identities[0]"},
		{"an identity too long", rcl(kradiusv1.RadiusClientSpec{RadSec: ids(kradiusv1.RadSecIdentity(strings.Repeat("a", 254)))}), "spec.radsec.identities[0]"},
		{"too many identities", rcl(kradiusv1.RadiusClientSpec{RadSec: &kradiusv1.ClientRadSec{Identities: many}}), "spec.radsec.identities"},
		{"a cluster serving RadSec", rcs(&kradiusv1.EdgeRadSecSpec{Enabled: true, CertificateSecretRef: cert, ClientCASecretRef: ca}), ""},
		{"RadSec off, no Secrets", rcs(&kradiusv1.EdgeRadSecSpec{}), ""},
		{"RadSec without a certificate", rcs(&kradiusv1.EdgeRadSecSpec{Enabled: true, ClientCASecretRef: ca}), "certificateSecretRef is required with enabled"},
		{"RadSec without a client CA", rcs(&kradiusv1.EdgeRadSecSpec{Enabled: true, CertificateSecretRef: cert}), "clientCASecretRef is required with enabled"},
	} {
		err := k8s.Create(ctx, c.obj)
		switch {
		case c.refuse == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.refuse != "" && !apierrors.IsInvalid(err):
			t.Errorf("%s: created (%v); want the API server to refuse it", c.name, err)
		case c.refuse != "" && !strings.Contains(err.Error(), c.refuse):
			t.Errorf("%s: the refusal does not say %q: %v", c.name, c.refuse, err)
		}
	}
	// The defaults: RFC 6614's port, and cert-manager's key for the CA.
	var got kradiusv1.RadiusCluster
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rc12"}, &got); err != nil {
		t.Fatal(err)
	}
	if r := got.Spec.Edge.RadSec; r.Port != 2083 || r.ClientCASecretRef.Key != "ca.crt" {
		t.Errorf("defaults: port %d, client CA key %q; want 2083 and ca.crt", r.Port, r.ClientCASecretRef.Key)
	}
}

// TestRadSecCluster: a cluster serving RadSec gives its edge the port,
// the Service's TCP port and the certificates, in a config kradius loads;
// a RadSec-only client joins the table, and a later client claiming its
// identity waits as a Conflict until the first goes.
func TestRadSecCluster(t *testing.T) {
	ns := namespace(t)
	ctx := context.Background()
	ca, err := tlstest.NewCA("nas-ca")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("radsec-edge." + ns + ".svc")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "edge-tls", Namespace: ns}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: server.CertPEM, corev1.TLSPrivateKeyKey: server.KeyPEM}},
		{ObjectMeta: metav1.ObjectMeta{Name: "nas-ca", Namespace: ns}, Data: map[string][]byte{"ca.crt": ca.PEM}},
	} {
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	rc := &kradiusv1.RadiusCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "radsec", Namespace: ns, Annotations: map[string]string{AdminAddressAnnotation: adminAddr}},
		Spec: kradiusv1.RadiusClusterSpec{
			Image: "kradius:test",
			Redis: kradiusv1.RedisSpec{Addresses: []kradiusv1.HostPort{"redis:6379"}},
			Kafka: kradiusv1.KafkaSpec{Brokers: []kradiusv1.HostPort{"kafka:9092"}},
			Edge: kradiusv1.EdgeSpec{RadSec: &kradiusv1.EdgeRadSecSpec{Enabled: true,
				CertificateSecretRef: &kradiusv1.SecretNameReference{Name: "edge-tls"},
				ClientCASecretRef:    &kradiusv1.CASecretReference{Name: "nas-ca"}}},
		},
	}
	if err := k8s.Create(ctx, rc); err != nil {
		t.Fatal(err)
	}
	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }
	newClient := func(name string, id kradiusv1.RadSecIdentity) *kradiusv1.RadiusClient {
		c := &kradiusv1.RadiusClient{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: kradiusv1.RadiusClientSpec{
			ClusterRef: kradiusv1.ClusterReference{Name: "radsec"}, Profile: "generic",
			RadSec: &kradiusv1.ClientRadSec{Identities: []kradiusv1.RadSecIdentity{id}}}}
		if err := k8s.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Named in creation order: a tie in creation time, which counts whole
	// seconds, goes to the name.
	first := newClient("a-proxy", "proxy.carrier.example")
	table := func() []config.ClientConfig {
		var s corev1.Secret
		if k8s.Get(ctx, key("radsec-clients"), &s) != nil {
			return nil
		}
		path := t.TempDir() + "/clients.yaml"
		if err := writeFile(path, s.Data["clients.yaml"]); err != nil {
			t.Fatal(err)
		}
		clients, _, err := config.LoadClientsFile(path)
		if err != nil {
			t.Fatalf("the edge refuses the client table: %v\n%s", err, s.Data["clients.yaml"])
		}
		return clients
	}
	inTable := func(name string) bool {
		return slices.ContainsFunc(table(), func(c config.ClientConfig) bool { return c.Name == ns+"/"+name })
	}
	syncedAs := func(c *kradiusv1.RadiusClient, reason string) bool {
		var got kradiusv1.RadiusClient
		if k8s.Get(ctx, client.ObjectKeyFromObject(c), &got) != nil {
			return false
		}
		s := synced(got.Status.Conditions)
		return s != nil && s.Reason == reason && s.ObservedGeneration == got.Generation
	}
	eventually.True(t, "the RadSec-only client in the table", func() bool { return inTable("a-proxy") })
	eventually.True(t, "the RadSec-only client Synced", func() bool { return syncedAs(first, kradiusv1.ReasonSynced) })

	var d appsv1.Deployment
	eventually.True(t, "edge Deployment", func() bool { return k8s.Get(ctx, key("radsec-edge"), &d) == nil })
	cfg, err := loadMounted(t, ctx, d)
	if err != nil {
		t.Fatalf("kradius refuses the edge's config: %v", err)
	}
	if cfg.Edge.RadSec.Listen != ":2083" {
		t.Errorf("edge.radsec.listen %q, want :2083", cfg.Edge.RadSec.Listen)
	}
	var svc corev1.Service
	eventually.True(t, "edge Service", func() bool { return k8s.Get(ctx, key("radsec-edge"), &svc) == nil })
	protocols := map[string]corev1.Protocol{}
	for _, p := range svc.Spec.Ports {
		protocols[fmt.Sprintf("%s/%d", p.Name, p.Port)] = p.Protocol
	}
	if want := map[string]corev1.Protocol{"auth/1812": "UDP", "acct/1813": "UDP", "radsec/2083": "TCP"}; !maps.Equal(protocols, want) {
		t.Errorf("edge Service ports %v, want %v", protocols, want)
	}

	second := newClient("b-proxy", "PROXY.carrier.example")
	eventually.True(t, "the later claim a Conflict", func() bool { return syncedAs(second, kradiusv1.ReasonConflict) })
	if !inTable("a-proxy") || inTable("b-proxy") {
		t.Errorf("the table holds %v; want a-proxy's claim, without b-proxy", table())
	}
	if err := k8s.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the later client Synced once the first goes", func() bool { return syncedAs(second, kradiusv1.ReasonSynced) })
	eventually.True(t, "the later client in the table", func() bool { return inTable("b-proxy") && !inTable("a-proxy") })
}
