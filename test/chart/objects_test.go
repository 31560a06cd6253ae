package chart

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"kradius.dev/services/config"
	"kradius.dev/services/tlstest"
)

// object is one rendered Kubernetes object.
type object map[string]any

// get walks maps by key; nil when a key is missing.
func get(v any, path ...string) any {
	if o, ok := v.(object); ok {
		v = map[string]any(o)
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any, path ...string) []any {
	l, _ := get(v, path...).([]any)
	return l
}

func (o object) id() string {
	return fmt.Sprintf("%s %s/%s", str(o, "kind"), str(o, "metadata", "namespace"), str(o, "metadata", "name"))
}

// parseObjects decodes a multi-document stream; documents of comments only
// are skipped.
func parseObjects(t *testing.T, stream string) []object {
	t.Helper()
	var out []object
	for i, doc := range docSeparator.Split(stream, -1) {
		// Into a plain map: yaml.v3 would decode nested maps into the
		// named type too, which get's type switch does not take.
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("document %d does not parse: %v\n%s", i, err, doc)
		}
		if m != nil {
			out = append(out, object(m))
		}
	}
	return out
}

func renderScenario(t *testing.T, s scenario) []object {
	t.Helper()
	out, err := render(t, []string{s.valuesFile})
	if err != nil {
		t.Fatal(err)
	}
	return parseObjects(t, out)
}

// clusterScoped are the kinds the chart renders without a namespace.
var clusterScoped = []string{"ClusterRole", "ClusterRoleBinding"}

// TestObjects checks what every scenario renders: each object is
// well-formed and unique, carries the chart's labels, and every pod the
// chart runs is restricted.
func TestObjects(t *testing.T) {
	t.Parallel()
	for _, s := range scenarios(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			objs := renderScenario(t, s)
			seen := map[string]bool{}
			deployments := map[string]object{}
			for _, o := range objs {
				if str(o, "kind") == "Deployment" {
					deployments[str(o, "metadata", "name")] = o
				}
			}
			for _, o := range objs {
				for _, key := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
					if str(o, key...) == "" {
						t.Errorf("%s: no %s", o.id(), strings.Join(key, "."))
					}
				}
				if n := str(o, "metadata", "name"); len(n) > maxNameLength(o) {
					t.Errorf("%s: the name is %d characters, more than %d", o.id(), len(n), maxNameLength(o))
				}
				if scoped := slices.Contains(clusterScoped, str(o, "kind")); scoped != (str(o, "metadata", "namespace") == "") {
					t.Errorf("%s: namespace %q for a kind that is cluster-scoped: %v", o.id(), str(o, "metadata", "namespace"), scoped)
				}
				if seen[o.id()] {
					t.Errorf("%s: rendered twice", o.id())
				}
				seen[o.id()] = true
				if str(o, "metadata", "labels", "app.kubernetes.io/part-of") != "kradius" {
					t.Errorf("%s: no app.kubernetes.io/part-of: kradius label", o.id())
				}
				switch str(o, "kind") {
				case "Deployment":
					checkRestricted(t, o)
					checkSelector(t, o)
				case "HorizontalPodAutoscaler":
					checkCPURequest(t, o, deployments)
				}
			}
		})
	}
}

// checkRestricted holds a Deployment's pod to the restricted Pod Security
// Standard, with a writable /tmp as its only writable place.
func checkRestricted(t *testing.T, d object) {
	t.Helper()
	pod := get(d, "spec", "template", "spec")
	want := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %s is %v, want %v", d.id(), what, got, want)
		}
	}
	want("pod securityContext.runAsNonRoot", get(pod, "securityContext", "runAsNonRoot"), true)
	want("pod securityContext.seccompProfile.type", get(pod, "securityContext", "seccompProfile", "type"), "RuntimeDefault")
	tmpVolumes := map[string]bool{}
	for _, v := range list(pod, "volumes") {
		if get(v, "emptyDir") != nil {
			tmpVolumes[str(v, "name")] = true
		}
	}
	for _, c := range list(pod, "containers") {
		name := "container " + str(c, "name")
		sc := get(c, "securityContext")
		want(name+" runAsNonRoot", get(sc, "runAsNonRoot"), true)
		want(name+" runAsUser", get(sc, "runAsUser"), 65532)
		want(name+" readOnlyRootFilesystem", get(sc, "readOnlyRootFilesystem"), true)
		want(name+" allowPrivilegeEscalation", get(sc, "allowPrivilegeEscalation"), false)
		want(name+" capabilities.drop", get(sc, "capabilities", "drop"), []any{"ALL"})
		want(name+" seccompProfile.type", get(sc, "seccompProfile", "type"), "RuntimeDefault")
		tmp := false
		for _, m := range list(c, "volumeMounts") {
			if str(m, "mountPath") == "/tmp" && tmpVolumes[str(m, "name")] {
				tmp = true
			}
		}
		if !tmp {
			t.Errorf("%s: %s has no emptyDir at /tmp", d.id(), name)
		}
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			if get(c, probe, "httpGet") == nil {
				t.Errorf("%s: %s has no HTTP %s", d.id(), name, probe)
			}
		}
	}
}

// checkCPURequest: an autoscaler on CPU utilization needs the pods it
// scales to request CPU, or it never scales.
func checkCPURequest(t *testing.T, hpa object, deployments map[string]object) {
	t.Helper()
	d, ok := deployments[str(hpa, "spec", "scaleTargetRef", "name")]
	if !ok {
		t.Errorf("%s scales %s, which is not rendered", hpa.id(), str(hpa, "spec", "scaleTargetRef", "name"))
		return
	}
	for _, c := range list(d, "spec", "template", "spec", "containers") {
		if get(c, "resources", "requests", "cpu") == nil {
			t.Errorf("%s: container %s requests no CPU, and %s scales it on CPU utilization", d.id(), str(c, "name"), hpa.id())
		}
	}
}

// checkSelector: a Deployment's selector must select its own pods.
func checkSelector(t *testing.T, d object) {
	t.Helper()
	labels, _ := get(d, "spec", "template", "metadata", "labels").(map[string]any)
	sel, _ := get(d, "spec", "selector", "matchLabels").(map[string]any)
	if len(sel) == 0 {
		t.Errorf("%s: an empty selector", d.id())
	}
	for k, v := range sel {
		if labels[k] != v {
			t.Errorf("%s: selector %s=%v, but the pods' label is %v", d.id(), k, v, labels[k])
		}
	}
}

// TestComponentConfig passes each kradius.yaml the chart renders in direct
// mode, with the client table, through kradius's own loader and
// validation (unknown keys are errors there), with each file it names
// present, as the pod mounts them; and checks that the pod does mount them.
func TestComponentConfig(t *testing.T) {
	t.Parallel()
	for _, s := range scenarios(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			objs := renderScenario(t, s)
			byID := map[string]object{}
			for _, o := range objs {
				byID[str(o, "kind")+"/"+str(o, "metadata", "name")] = o
			}
			var clients string
			checked := 0
			for _, o := range objs {
				if str(o, "kind") == "Secret" && get(o, "stringData", "clients.yaml") != nil {
					clients = str(o, "stringData", "clients.yaml")
				}
			}
			for _, o := range objs {
				comp := str(o, "metadata", "labels", "app.kubernetes.io/component")
				if str(o, "kind") != "ConfigMap" || !slices.Contains([]string{"edge", "accounts", "dids", "cdr"}, comp) {
					continue
				}
				checked++
				cfg := str(o, "data", "kradius.yaml")
				d, ok := byID["Deployment/"+str(o, "metadata", "name")]
				if !ok {
					t.Fatalf("%s: no Deployment of that name", o.id())
				}
				checkMounted(t, d, cfg, clients)
				loadConfig(t, comp, cfg, clients)
			}
			if strings.HasPrefix(s.name, "direct") && checked != 4 {
				t.Errorf("%d component configurations, want 4", checked)
			}
		})
	}
}

// mountedFile is a file the configuration names in a pod.
var mountedFile = regexp.MustCompile(`/etc/kradius/[^\s"']+`)

// checkMounted: every file a component's configuration (and the edge's
// client table) names is under a volume its container mounts.
func checkMounted(t *testing.T, d object, cfg, clients string) {
	t.Helper()
	var mounts []string
	for _, c := range list(d, "spec", "template", "spec", "containers") {
		for _, m := range list(c, "volumeMounts") {
			mounts = append(mounts, str(m, "mountPath")+"/")
		}
	}
	files := mountedFile.FindAllString(cfg, -1)
	if strings.Contains(cfg, "clients_file:") {
		files = append(files, mountedFile.FindAllString(clients, -1)...)
	}
	for _, f := range files {
		if !slices.ContainsFunc(mounts, func(m string) bool { return strings.HasPrefix(f, m) }) {
			t.Errorf("%s: the configuration names %s, which no volume mount holds (mounts %v)", d.id(), f, mounts)
		}
	}
}

// loadConfig runs config.Load on a component's kradius.yaml, with the
// pod's paths moved under a temporary directory and each file they name
// written there: RadSec's certificate, key and client CA as real PEM, which
// kradius loads as it validates, and any other file a secret of 48 bytes
// (the FireBrick nonce key needs 32).
func loadConfig(t *testing.T, comp, cfg, clients string) {
	t.Helper()
	root := t.TempDir()
	move := func(s string) string { return strings.ReplaceAll(s, "/etc/kradius/", root+"/etc/kradius/") }
	cfg, clients = move(cfg), move(clients)
	pem := radsecPEM(t)
	write := func(path, content string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range regexp.MustCompile(regexp.QuoteMeta(root)+`/etc/kradius/[^\s"']+`).FindAllString(cfg+"\n"+clients, -1) {
		content := strings.Repeat("s3cr3t-", 7)[:48] + "\n"
		for dir, b := range pem {
			if strings.HasPrefix(f, root+dir) {
				content = string(b[filepath.Base(f)])
				if content == "" {
					content = string(b["*"])
				}
			}
		}
		write(f, content)
	}
	write(filepath.Join(root, "etc/kradius/clients/clients.yaml"), clients)
	file := filepath.Join(root, "etc/kradius/config/kradius.yaml")
	write(file, cfg)
	fs := flag.NewFlagSet("kradius", flag.ContinueOnError)
	fs.SetOutput(&strings.Builder{})
	c, err := config.Load([]string{"-config", file}, fs)
	if err != nil {
		t.Fatalf("the %s configuration does not load: %v\n%s", comp, err, cfg)
	}
	if c.Target != comp {
		t.Errorf("the %s configuration runs -target=%s", comp, c.Target)
	}
}

// radsecPEM is what the edge pod's RadSec volumes hold, by mount path and
// then file name ("*": any key, the client CA's): a server certificate and
// key, and the CA of the NAS's certificates.
func radsecPEM(t *testing.T) map[string]map[string][]byte {
	t.Helper()
	ca, err := tlstest.NewCA("nas-ca")
	if err != nil {
		t.Fatal(err)
	}
	edge, err := ca.Server("edge.kradius.svc")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]map[string][]byte{
		"/etc/kradius/radsec/certificate/": {"tls.crt": edge.CertPEM, "tls.key": edge.KeyPEM},
		"/etc/kradius/radsec/client-ca/":   {"*": ca.PEM},
	}
}

// maxNameLength is the longest name an object may have: a Service's is a
// DNS label, and the operator names the Services of a RadiusCluster
// <cluster>-accounts and so on; others are DNS subdomains.
func maxNameLength(o object) int {
	switch str(o, "kind") {
	case "Service":
		return 63
	case "RadiusCluster":
		return 63 - len("-accounts")
	}
	return 253
}

// TestLongReleaseName: with the longest release name Helm takes (53
// characters), every name the chart makes still fits where it must, a
// Service's DNS label above all.
func TestLongReleaseName(t *testing.T) {
	t.Parallel()
	release := strings.Repeat("r", 53)
	for _, base := range []string{"direct-sentinel-tls-sasl", "operator-with-cluster"} {
		out, err := runHelm(t, "template", release, chartDir, "--namespace", namespace, "--values", ciValues(base),
			"--set", "radiusCluster.name=")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range parseObjects(t, out) {
			if n := str(o, "metadata", "name"); len(n) > maxNameLength(o) {
				t.Errorf("%s: %s: the name is %d characters, more than %d", base, o.id(), len(n), maxNameLength(o))
			}
		}
	}
}

// TestMessageAuthenticatorOff: a bare `off`, which YAML 1.1 reads as
// false, is the policy off, in the client table and in a RadiusClient.
func TestMessageAuthenticatorOff(t *testing.T) {
	t.Parallel()
	const client = "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secretRef: {name: s, key: k}\n    messageAuthenticator: off\n"
	out, err := render(t, []string{ciValues("direct-minimal")}, client)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `message_authenticator: "off"`) {
		t.Errorf("the client table does not say message_authenticator: \"off\":\n%s", out)
	}
	out, err = render(t, []string{ciValues("operator-with-cluster")}, client)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `messageAuthenticator: "off"`) {
		t.Errorf("the RadiusClient does not say messageAuthenticator: \"off\":\n%s", out)
	}
}
