package v1alpha1

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// crdDir is where `make generate` writes the CRDs (controller-gen crd).
const crdDir = "../../operator/config/crd/bases"

// loadCRD reads a generated CRD as plain data, so that the api module needs
// no dependency on k8s.io/apiextensions-apiserver. The API server's own
// validation of these CRDs (CEL compilation and cost, defaulting, the
// rules themselves) is tested in the operator module against envtest.
func loadCRD(t *testing.T, plural string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(crdDir, "kradius.dev_"+plural+".yaml"))
	if err != nil {
		t.Fatalf("%v (run make generate)", err)
	}
	var crd map[string]any
	if err := yaml.UnmarshalStrict(b, &crd); err != nil {
		t.Fatalf("%s: %v", plural, err)
	}
	return crd
}

// get walks maps by key; a key "[n]" indexes a list.
func get(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		if strings.HasPrefix(k, "[") {
			var n int
			if _, err := fmt.Sscanf(k, "[%d]", &n); err != nil {
				t.Fatalf("bad index %q", k)
			}
			l, ok := v.([]any)
			if !ok || n >= len(l) {
				t.Fatalf("%s: not a list with an element %d", strings.Join(path[:i], "."), n)
			}
			v = l[n]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object", strings.Join(path[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("%s: no %q", strings.Join(path[:i], "."), k)
		}
	}
	return v
}

func str(t *testing.T, v any, path ...string) string {
	t.Helper()
	s, ok := get(t, v, path...).(string)
	if !ok {
		t.Fatalf("%s: not a string", strings.Join(path, "."))
	}
	return s
}

// props returns the schema of a property path under the version's
// openAPIV3Schema: props(v, "spec", "edge") is .properties.spec.properties.edge.
func props(t *testing.T, version any, names ...string) map[string]any {
	t.Helper()
	s := get(t, version, "schema", "openAPIV3Schema")
	for _, n := range names {
		if n == "[]" {
			s = get(t, s, "items")
			continue
		}
		s = get(t, s, "properties", n)
	}
	return s.(map[string]any)
}

// rules returns the CEL rules of a schema.
func rules(s map[string]any) []string {
	var out []string
	l, _ := s["x-kubernetes-validations"].([]any)
	for _, r := range l {
		out = append(out, r.(map[string]any)["rule"].(string))
	}
	return out
}

func hasRule(t *testing.T, s map[string]any, substr string) {
	t.Helper()
	for _, r := range rules(s) {
		if strings.Contains(r, substr) {
			return
		}
	}
	t.Errorf("no CEL rule containing %q in %q", substr, rules(s))
}

func enum(s map[string]any) []string {
	var out []string
	l, _ := s["enum"].([]any)
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

func TestCRDs(t *testing.T) {
	for _, c := range []struct {
		plural, kind string
		shortNames   []string
		columns      []string
		check        func(t *testing.T, version any)
	}{
		{
			plural: "radiusclusters", kind: "RadiusCluster", shortNames: []string{"rc"},
			columns: []string{"Ready", "Edge", "Image", "Age"},
			check: func(t *testing.T, v any) {
				if got := str(t, v, "additionalPrinterColumns", "[1]", "jsonPath"); got != `.status.components[?(@.name=="edge")].readyReplicas` {
					t.Errorf("Edge column: %s", got)
				}
				hasRule(t, props(t, v, "spec", "edge", "autoscaling"), "self.maxReplicas >= self.minReplicas")
				if got := get(t, props(t, v, "spec", "edge", "replicas"), "default"); got != 2.0 {
					t.Errorf("edge.replicas default %v", got)
				}
				if got := get(t, props(t, v, "spec", "cdr", "replicas"), "default"); got != 1.0 {
					t.Errorf("cdr.replicas default %v", got)
				}
				if got := str(t, props(t, v, "spec", "edge", "service", "externalTrafficPolicy"), "default"); got != "Local" {
					t.Errorf("externalTrafficPolicy default %q", got)
				}
				if got := str(t, props(t, v, "spec", "redis", "keyPrefix"), "default"); got != "{kradius}" {
					t.Errorf("keyPrefix default %q", got)
				}
				hasRule(t, props(t, v, "spec", "redis", "addresses", "[]"), "lastIndexOf(':')")
				hasRule(t, props(t, v, "spec", "edge", "service", "loadBalancerIP"), "isIP(self)")
				radsec := props(t, v, "spec", "edge", "radsec")
				sameFields(t, radsec, []string{"enabled", "port", "certificateSecretRef", "clientCASecretRef", "maxConnections"})
				hasRule(t, radsec, "has(self.certificateSecretRef)")
				hasRule(t, radsec, "has(self.clientCASecretRef)")
				if got := get(t, props(t, v, "spec", "edge", "radsec", "port"), "default"); got != 2083.0 {
					t.Errorf("edge.radsec.port default %v", got)
				}
				if got := str(t, props(t, v, "spec", "edge", "radsec", "clientCASecretRef", "key"), "default"); got != "ca.crt" {
					t.Errorf("edge.radsec.clientCASecretRef.key default %q", got)
				}
				if got := enum(props(t, v, "spec", "kafka", "sasl", "mechanism")); !slices.Equal(got, []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}) {
					t.Errorf("sasl.mechanism enum %q", got)
				}
				if got := str(t, props(t, v, "status", "components"), "x-kubernetes-list-map-keys", "[0]"); got != "name" {
					t.Errorf("components map key %q", got)
				}
				required(t, props(t, v, "spec"), "image", "redis", "kafka")
			},
		},
		{
			plural: "radiusclients", kind: "RadiusClient", shortNames: []string{"rcl"},
			columns: []string{"Cluster", "Profile", "CIDR", "RadSec", "Ready", "Age"},
			check: func(t *testing.T, v any) {
				if got := enum(props(t, v, "spec", "messageAuthenticator")); !slices.Equal(got, []string{"require", "auto", "off"}) {
					t.Errorf("messageAuthenticator enum %q", got)
				}
				if got := str(t, props(t, v, "spec", "messageAuthenticator"), "default"); got != "auto" {
					t.Errorf("messageAuthenticator default %q", got)
				}
				if got := enum(props(t, v, "spec", "faxback", "uuidFormat")); !slices.Equal(got, []string{"binary", "hex", "dash"}) {
					t.Errorf("uuidFormat enum %q", got)
				}
				cidrs := props(t, v, "spec", "cidrs")
				if cidrs["minItems"] != 1.0 || cidrs["x-kubernetes-list-type"] != "set" {
					t.Errorf("cidrs: minItems %v, list type %v", cidrs["minItems"], cidrs["x-kubernetes-list-type"])
				}
				hasRule(t, props(t, v, "spec", "cidrs", "[]"), "isCIDR(self) || isIP(self)")
				// cidrs and secretRef go together; radsec may stand in for both.
				required(t, props(t, v, "spec"), "clusterRef")
				hasRule(t, props(t, v, "spec"), "has(self.cidrs) || has(self.radsec)")
				hasRule(t, props(t, v, "spec"), "!has(self.cidrs) || has(self.secretRef)")
				hasRule(t, props(t, v, "spec"), "has(self.cidrs) || !has(self.secretRef)")
				ids := props(t, v, "spec", "radsec", "identities")
				if ids["minItems"] != 1.0 || ids["maxItems"] != 64.0 || ids["x-kubernetes-list-type"] != "set" {
					t.Errorf("radsec.identities: minItems %v, maxItems %v, list type %v", ids["minItems"], ids["maxItems"], ids["x-kubernetes-list-type"])
				}
				hasRule(t, ids, "lowerAscii()")
				if id := props(t, v, "spec", "radsec", "identities", "[]"); id["minLength"] != 1.0 || id["maxLength"] != 253.0 {
					t.Errorf("radsec.identities[]: minLength %v, maxLength %v", id["minLength"], id["maxLength"])
				}
				required(t, props(t, v, "spec", "radsec"), "identities")
			},
		},
		{
			plural: "accounts", kind: "Account",
			columns: []string{"Account", "Type", "Cluster", "UUID", "Synced", "Age"},
			check: func(t *testing.T, v any) {
				if got := enum(props(t, v, "spec", "type")); !slices.Equal(got, []string{"0", "1", "4", "5", "8", "9", "10"}) {
					t.Errorf("type enum %q", got)
				}
				for field, want := range map[string][]string{
					"rcvFormat":       {"", "tiff", "pdf"},
					"rcvFailoverMode": {"", "as-needed", "always", "load-balance-group-member"},
					"callAheadMode":   {"", "never", "dynamic", "always"},
					"uploadLogs":      {"", "never", "after-errors", "after-all-sessions"},
				} {
					if got := enum(props(t, v, "spec", field)); !slices.Equal(got, want) {
						t.Errorf("%s enum %q, want %q", field, got, want)
					}
				}
				for field, want := range map[string]float64{
					"name": 64, "cdrInfo": 64, "customer": 64, "source": 64, "rcvEmail": 128, "sndEmail": 128,
					"rcvCSID": 20, "sndTSID": 20, "sndANI": 32, "rcvFailoverAccount": 64, "queueProfile": 247,
					"serialNumber": 64, "provisioningArg": 247, "loginGroup": 64, "ruleGroup": 64,
				} {
					if got := props(t, v, "spec", field)["maxLength"]; got != want {
						t.Errorf("%s maxLength %v, want %v", field, got, want)
					}
				}
				hasRule(t, props(t, v, "spec"), "size(bytes(self.name)) <= 16")
				hasRule(t, props(t, v, "spec"), "self.type in [8, 9, 10]")
				hasRule(t, props(t, v), "self.metadata.name")
				hasRule(t, props(t, v), "oldSelf")
				hasRule(t, props(t, v, "spec", "clusterRef"), "self == oldSelf")
				if got := str(t, props(t, v, "spec", "macAddress"), "pattern"); got != `^([-:.]*([0-9A-Fa-f][-:.]*){12})?$` {
					t.Errorf("macAddress pattern %s", got)
				}
				for _, f := range []string{"saveCDR", "sendEnabled", "receiveEnabled"} {
					if got := get(t, props(t, v, "spec", f), "default"); got != true {
						t.Errorf("%s default %v", f, got)
					}
				}
				// The provisioning file's field names, less password and
				// passwordHash, plus the Kubernetes ones.
				fileFields := []string{"name", "uuid", "type", "loginGroup", "ruleGroup", "cdrInfo", "customer",
					"source", "rcvEmail", "sndEmail", "rcvFormat", "rcvCSID", "sndTSID", "sndANI", "saveCDR",
					"sendEnabled", "receiveEnabled", "sendTimeExpired", "receiveTimeExpired", "rcvFailoverAccount",
					"rcvFailoverMode", "queueProfile", "callAheadMode", "sendOnBehalfOf", "uploadLogs", "macAddress",
					"serialNumber", "provisioningArg", "members"}
				sameFields(t, props(t, v, "spec"), append(fileFields, "clusterRef", "passwordSecretRef", "longName"))
				required(t, props(t, v, "spec"), "clusterRef")
			},
		},
		{
			plural: "dids", kind: "DID",
			columns: []string{"Number", "Account", "Enabled", "Cluster", "Synced", "Age"},
			check: func(t *testing.T, v any) {
				sameFields(t, props(t, v, "spec"), []string{"number", "account", "enabled", "lineNum", "lineId",
					"queueProfile", "ani", "clusterRef"})
				if got := props(t, v, "spec", "lineNum")["maximum"]; got != 4294967295.0 {
					t.Errorf("lineNum maximum %v", got)
				}
				hasRule(t, props(t, v, "spec", "number"), "self == oldSelf")
				required(t, props(t, v, "spec"), "clusterRef", "number", "account")
			},
		},
		{
			plural: "sipusers", kind: "SIPUser",
			columns: []string{"User", "Extension", "Cluster", "Realms", "Synced", "Age"},
			check: func(t *testing.T, v any) {
				// The import format's fields of kradius.firebrick.v1.User, its
				// ha1 and passwords coming from the two Secrets.
				sameFields(t, props(t, v, "spec"), []string{"name", "extension", "ddi", "cui", "methods", "redirectContact",
					"clusterRef", "passwordsSecretRef", "ha1SecretRef"})
				required(t, props(t, v, "spec"), "clusterRef")
				hasRule(t, props(t, v, "spec"), "has(self.passwordsSecretRef) || has(self.ha1SecretRef)")
				hasRule(t, props(t, v), "oldSelf.metadata.name")
				hasRule(t, props(t, v, "spec", "clusterRef"), "self == oldSelf")
				if got := str(t, props(t, v, "spec", "name"), "pattern"); got != `^[^:\x20\t]+$` {
					t.Errorf("name pattern %s", got)
				}
				if got := str(t, props(t, v, "spec", "ddi", "[]"), "pattern"); got != `^\+?[0-9]+$` {
					t.Errorf("ddi pattern %s", got)
				}
				if got := props(t, v, "spec", "methods")["maxItems"]; got != 16.0 {
					t.Errorf("methods maxItems %v", got)
				}
				required(t, props(t, v, "spec", "passwordsSecretRef"), "name")
			},
		},
		{
			plural: "siproutes", kind: "SIPRoute",
			columns: []string{"Pattern", "Legs", "Cluster", "Synced", "Age"},
			check: func(t *testing.T, v any) {
				sameFields(t, props(t, v, "spec"), []string{"pattern", "legs", "rejectMessage", "clusterRef"})
				sameFields(t, props(t, v, "spec", "legs", "[]"), []string{"target", "delaySeconds", "cli", "dialled",
					"displayName", "cui", "recordingEmails"})
				required(t, props(t, v, "spec"), "clusterRef", "pattern")
				required(t, props(t, v, "spec", "legs", "[]"), "target")
				if got := str(t, props(t, v, "spec", "pattern"), "pattern"); got != `^(\*|\+?[0-9]+\*?)$` {
					t.Errorf("pattern pattern %s", got)
				}
				if got := str(t, props(t, v, "spec", "legs", "[]", "target"), "pattern"); got != `^([a-z][a-z0-9+.-]*:.+|[^@]*@.+)$` {
					t.Errorf("target pattern %s", got)
				}
				if got := props(t, v, "spec", "legs")["maxItems"]; got != 32.0 {
					t.Errorf("legs maxItems %v", got)
				}
				hasRule(t, props(t, v, "spec", "pattern"), "self == oldSelf")
				hasRule(t, props(t, v, "spec"), "size(self.legs) == 0")
			},
		},
		{
			plural: "carriers", kind: "Carrier",
			columns: []string{"Carrier", "CIDRs", "Primary", "Cluster", "Synced", "Age"},
			check: func(t *testing.T, v any) {
				sameFields(t, props(t, v, "spec"), []string{"name", "cui", "sourceCidrs", "rejectMessage", "clusterRef", "trunks", "primary", "allowedPrefixes"})
				sameFields(t, props(t, v, "spec", "trunks", "[]"), []string{"img", "trunkId"})
				hasRule(t, props(t, v, "spec", "trunks", "[]", "img"), "isIP(self)")
				required(t, props(t, v, "spec"), "clusterRef")
				cidrs := props(t, v, "spec", "sourceCidrs")
				if cidrs["maxItems"] != 256.0 || cidrs["x-kubernetes-list-type"] != "set" {
					t.Errorf("sourceCidrs: maxItems %v, list type %v", cidrs["maxItems"], cidrs["x-kubernetes-list-type"])
				}
				hasRule(t, props(t, v, "spec", "sourceCidrs", "[]"), "isCIDR(self)")
				hasRule(t, props(t, v), "oldSelf.metadata.name")
				if got := str(t, props(t, v, "spec", "name"), "pattern"); got != `^[^@:\x00-\x20\x7f]+$` {
					t.Errorf("name pattern %s", got)
				}
			},
		},
	} {
		t.Run(c.kind, func(t *testing.T) {
			crd := loadCRD(t, c.plural)
			if got := str(t, crd, "kind"); got != "CustomResourceDefinition" {
				t.Fatalf("kind %q", got)
			}
			if got := str(t, crd, "metadata", "name"); got != c.plural+".kradius.dev" {
				t.Errorf("name %q", got)
			}
			spec := get(t, crd, "spec")
			if got := str(t, spec, "group"); got != "kradius.dev" {
				t.Errorf("group %q", got)
			}
			if got := str(t, spec, "scope"); got != "Namespaced" {
				t.Errorf("scope %q", got)
			}
			names := get(t, spec, "names")
			if got := str(t, names, "kind"); got != c.kind {
				t.Errorf("names.kind %q", got)
			}
			if got := str(t, names, "plural"); got != c.plural {
				t.Errorf("names.plural %q", got)
			}
			var short []string
			for _, s := range get(t, names, "categories").([]any) {
				if s != "kradius" {
					t.Errorf("category %v", s)
				}
			}
			if l, ok := names.(map[string]any)["shortNames"].([]any); ok {
				for _, s := range l {
					short = append(short, s.(string))
				}
			}
			if !slices.Equal(short, c.shortNames) {
				t.Errorf("shortNames %q, want %q", short, c.shortNames)
			}

			versions := get(t, spec, "versions").([]any)
			if len(versions) != 1 {
				t.Fatalf("%d versions", len(versions))
			}
			v := versions[0]
			if str(t, v, "name") != "v1alpha1" || get(t, v, "served") != true || get(t, v, "storage") != true {
				t.Errorf("version: %v", v)
			}
			if _, ok := get(t, v, "subresources", "status").(map[string]any); !ok {
				t.Error("no status subresource")
			}
			var cols []string
			for _, col := range get(t, v, "additionalPrinterColumns").([]any) {
				cols = append(cols, str(t, col, "name"))
			}
			if !slices.Equal(cols, c.columns) {
				t.Errorf("printer columns %q, want %q", cols, c.columns)
			}

			// Every status: conditions as a map keyed by type, and
			// observedGeneration.
			cond := props(t, v, "status", "conditions")
			if cond["x-kubernetes-list-type"] != "map" || str(t, cond, "x-kubernetes-list-map-keys", "[0]") != "type" {
				t.Errorf("status.conditions: list type %v, keys %v", cond["x-kubernetes-list-type"], cond["x-kubernetes-list-map-keys"])
			}
			if got := str(t, props(t, v, "status", "observedGeneration"), "type"); got != "integer" {
				t.Errorf("status.observedGeneration type %q", got)
			}
			required(t, props(t, v), "spec")

			// Every field is documented: the comments are the CRD's
			// reference.
			undocumented(t, "spec", props(t, v, "spec"))
			undocumented(t, "status", props(t, v, "status"))

			c.check(t, v)
		})
	}
}

// required checks the schema's required list holds exactly want.
func required(t *testing.T, s map[string]any, want ...string) {
	t.Helper()
	var got []string
	if l, ok := s["required"].([]any); ok {
		for _, r := range l {
			got = append(got, r.(string))
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("required %q, want %q", got, want)
	}
}

// sameFields checks the schema's properties are exactly want.
func sameFields(t *testing.T, s map[string]any, want []string) {
	t.Helper()
	var got []string
	for k := range s["properties"].(map[string]any) {
		got = append(got, k)
	}
	want = slices.Clone(want)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("fields %q, want %q", got, want)
	}
}

// undocumented reports properties without a description, recursively.
func undocumented(t *testing.T, path string, s map[string]any) {
	t.Helper()
	if d, _ := s["description"].(string); strings.TrimSpace(d) == "" {
		t.Errorf("%s has no description", path)
	}
	if p, ok := s["properties"].(map[string]any); ok {
		for k, sub := range p {
			undocumented(t, path+"."+k, sub.(map[string]any))
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		if _, obj := items["properties"]; obj {
			undocumented(t, path+"[]", items)
		}
	}
}

// TestSchemeMatchesCRDs checks that every kind registered by AddToScheme has
// a generated CRD, and every CRD a registered kind.
func TestSchemeMatchesCRDs(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for kind := range s.KnownTypes(GroupVersion) {
		// metav1.AddToGroupVersion adds the options and event types.
		if !strings.HasSuffix(kind, "List") && !strings.HasSuffix(kind, "Options") && kind != "WatchEvent" {
			kinds = append(kinds, kind)
		}
	}
	var crds []string
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		plural := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "kradius.dev_"), ".yaml")
		crds = append(crds, str(t, loadCRD(t, plural), "spec", "names", "kind"))
	}
	sort.Strings(kinds)
	sort.Strings(crds)
	if !slices.Equal(kinds, crds) {
		t.Errorf("scheme kinds %q, CRD kinds %q", kinds, crds)
	}
	for _, k := range kinds {
		for _, kind := range []string{k, k + "List"} {
			obj, err := s.New(GroupVersion.WithKind(kind))
			if err != nil {
				t.Errorf("%s: %v", kind, err)
				continue
			}
			if cp := obj.DeepCopyObject(); cp == nil {
				t.Errorf("%s: DeepCopyObject returned nil", kind)
			}
		}
	}
}

// TestDeepCopyIndependent checks that a deep copy shares no pointers, slices
// or maps with the original.
func TestDeepCopyIndependent(t *testing.T) {
	yes := true
	n := int32(3)
	a := &Account{Spec: AccountSpec{SaveCDR: &yes, Members: []AccountName{"a"}}}
	c := &RadiusCluster{Spec: RadiusClusterSpec{Edge: EdgeSpec{Replicas: &n, Service: EdgeServiceSpec{Annotations: map[string]string{"k": "v"}}}}}
	a2, c2 := a.DeepCopy(), c.DeepCopy()
	*a2.Spec.SaveCDR = false
	a2.Spec.Members[0] = "b"
	*c2.Spec.Edge.Replicas = 5
	c2.Spec.Edge.Service.Annotations["k"] = "w"
	if !*a.Spec.SaveCDR || a.Spec.Members[0] != "a" || *c.Spec.Edge.Replicas != 3 || c.Spec.Edge.Service.Annotations["k"] != "v" {
		t.Error("the deep copy shares memory with the original")
	}
	r := &SIPRoute{Spec: SIPRouteSpec{Legs: []SIPRouteLeg{{Target: "tel:1", RecordingEmails: []string{"a@x"}}}}}
	u := &SIPUser{Spec: SIPUserSpec{PasswordsSecretRef: &SecretNameReference{Name: "s"}, DDI: []SIPNumber{"1"}}}
	r2, u2 := r.DeepCopy(), u.DeepCopy()
	r2.Spec.Legs[0].RecordingEmails[0] = "b@x"
	u2.Spec.PasswordsSecretRef.Name = "t"
	u2.Spec.DDI[0] = "2"
	if r.Spec.Legs[0].RecordingEmails[0] != "a@x" || u.Spec.PasswordsSecretRef.Name != "s" || u.Spec.DDI[0] != "1" {
		t.Error("the deep copy of a SIPRoute or SIPUser shares memory with the original")
	}
	rcl := &RadiusClient{Spec: RadiusClientSpec{RadSec: &ClientRadSec{Identities: []RadSecIdentity{"a.example"}}}}
	rs := &RadiusCluster{Spec: RadiusClusterSpec{Edge: EdgeSpec{RadSec: &EdgeRadSecSpec{ClientCASecretRef: &CASecretReference{Name: "ca"}}}}}
	rcl2, rs2 := rcl.DeepCopy(), rs.DeepCopy()
	rcl2.Spec.RadSec.Identities[0] = "b.example"
	rs2.Spec.Edge.RadSec.ClientCASecretRef.Name = "other"
	if rcl.Spec.RadSec.Identities[0] != "a.example" || rs.Spec.Edge.RadSec.ClientCASecretRef.Name != "ca" {
		t.Error("the deep copy of RadSec settings shares memory with the original")
	}
}
