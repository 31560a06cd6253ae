package chart

import (
	"errors"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// deploy/carrier is a carrier's two-site install: values layered per site,
// the NAS fleet and accounts as resources, and a guide whose commands name
// them all. These tests hold the four to the chart, to the CRDs (through
// TestAPIServerAccepts, which sends carrierObjects to a real
// kube-apiserver) and to each other, so that the example a carrier copies
// still installs.

var carrierDir = filepath.Join(repoRoot, "deploy", "carrier")

// carrierSites are the guide's releases, one per site, each named
// carrierRelease.
var carrierSites = []string{"site-a", "site-b"}

const carrierRelease = "kradius"

// carrierManifests are the files the guide applies at both sites.
var carrierManifests = []string{"nas-fleet.yaml", "accounts.yaml"}

// carrierValues are a site's values files in the order the guide's helm
// install gives them: the common ones, then the site's, which win.
func carrierValues(site string) []string {
	return []string{
		filepath.Join(carrierDir, "common-values.yaml"),
		filepath.Join(carrierDir, site+"-values.yaml"),
	}
}

// renderCarrierSite is `helm template` of a site under the guide's release
// name, which the objects' names, and so the guide's commands, depend on.
func renderCarrierSite(t *testing.T, site string) []object {
	t.Helper()
	args := []string{"template", carrierRelease, chartDir, "--namespace", namespace}
	for _, f := range carrierValues(site) {
		args = append(args, "--values", f)
	}
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return parseObjects(t, out)
}

// carrierManifest reads one of carrierManifests into the namespace the
// guide's `kubectl -n` puts it in: the files leave it to the command.
func carrierManifest(t *testing.T, name string) []object {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(carrierDir, name))
	if err != nil {
		t.Fatal(err)
	}
	objs := parseObjects(t, string(b))
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		if meta == nil {
			t.Fatalf("%s: %s has no metadata", name, o.id())
		}
		if _, ok := meta["namespace"]; !ok {
			meta["namespace"] = namespace
		}
	}
	return objs
}

// carrierObjects is everything the guide creates at a site, by a name for
// TestAPIServerAccepts's subtests.
func carrierObjects(t *testing.T) map[string][]object {
	t.Helper()
	out := map[string][]object{}
	for _, site := range carrierSites {
		out["carrier-"+site] = renderCarrierSite(t, site)
	}
	for _, m := range carrierManifests {
		out["carrier-"+strings.TrimSuffix(m, ".yaml")] = carrierManifest(t, m)
	}
	// The guide's RadSec section: a site with it on, and its RadiusClient.
	g := readCarrierRadSec(t)
	out["carrier-radsec"] = append(renderCarrierRadSec(t, carrierSites[0], g.values), g.client)
	return out
}

// TestCarrierLint: helm lint checks each site's layered values against
// values.schema.json, which refuses an unknown key, and renders them.
func TestCarrierLint(t *testing.T) {
	t.Parallel()
	for _, site := range carrierSites {
		t.Run(site, func(t *testing.T) {
			t.Parallel()
			args := []string{"lint", "--strict", chartDir, "--namespace", namespace}
			for _, f := range carrierValues(site) {
				args = append(args, "--values", f)
			}
			if out, err := runHelm(t, args...); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestCarrierSites checks what the guide promises of the two releases: each
// on Redis Sentinel with a password and TLS, and Kafka with TLS and
// SASL/SCRAM, every secret a Secret reference; the NAS's source address
// kept; and the sites sharing their cluster's name (so that one set of
// manifests fits both) but nothing they run on.
func TestCarrierSites(t *testing.T) {
	t.Parallel()
	clusters := map[string]object{}
	for _, site := range carrierSites {
		rc := findObject(t, renderCarrierSite(t, site), "RadiusCluster", "")
		clusters[site] = rc
		spec := get(rc, "spec")
		for _, c := range []struct {
			path []string
			want string
		}{
			{[]string{"redis", "passwordSecretRef", "name"}, "redis-auth"},
			{[]string{"redis", "tls", "caSecretRef", "name"}, "redis-ca"},
			{[]string{"kafka", "tls", "caSecretRef", "name"}, "kafka-ca"},
			{[]string{"kafka", "sasl", "mechanism"}, "SCRAM-SHA-512"},
			{[]string{"kafka", "sasl", "passwordSecretRef", "name"}, "kafka-auth"},
			{[]string{"edge", "service", "type"}, "LoadBalancer"},
			{[]string{"edge", "service", "externalTrafficPolicy"}, "Local"},
		} {
			if got := str(spec, c.path...); got != c.want {
				t.Errorf("%s: RadiusCluster spec.%s is %q, want %q", site, strings.Join(c.path, "."), got, c.want)
			}
		}
		for _, path := range [][]string{{"redis", "tls", "enabled"}, {"kafka", "tls", "enabled"}} {
			if get(spec, path...) != true {
				t.Errorf("%s: RadiusCluster spec.%s is %v, want true", site, strings.Join(path, "."), get(spec, path...))
			}
		}
		if str(spec, "redis", "masterName") == "" {
			t.Errorf("%s: no redis.masterName: the addresses would be taken for a Redis Cluster's seeds", site)
		}
		for _, a := range list(spec, "redis", "addresses") {
			if s, _ := a.(string); !strings.HasSuffix(s, ":26379") {
				t.Errorf("%s: redis address %v is not a Sentinel's (port 26379)", site, a)
			}
		}
	}

	a, b := clusters["site-a"], clusters["site-b"]
	if str(a, "metadata", "name") != str(b, "metadata", "name") {
		t.Errorf("the sites' RadiusClusters are %q and %q: one name lets the same manifests serve both",
			str(a, "metadata", "name"), str(b, "metadata", "name"))
	}
	for _, path := range [][]string{
		{"spec", "redis", "addresses"},
		{"spec", "kafka", "brokers"},
		{"spec", "edge", "service", "loadBalancerIP"},
	} {
		if got := get(a, path...); got == nil || slices.Equal(strs(got), strs(get(b, path...))) {
			t.Errorf("%s is %v at both sites: each site has its own", strings.Join(path, "."), got)
		}
	}
}

// strs is a string or a list of them as a list, for comparing.
func strs(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, e := range list(v) {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

// TestCarrierManifests checks the resources against what the values
// render, beyond what the CRDs can: every one names the sites' cluster, no
// address range is claimed by two NAS (the operator would report a
// Conflict), every NAS gets through the edge's NetworkPolicy, every
// account names its uuid (else each site picks its own), and every DID's
// account is there.
func TestCarrierManifests(t *testing.T) {
	t.Parallel()
	objs := renderCarrierSite(t, carrierSites[0])
	cluster := str(findObject(t, objs, "RadiusCluster", ""), "metadata", "name")
	allowed := edgeAllowedCIDRs(t, objs)

	claimed := map[netip.Prefix]string{}
	profiles := map[string]bool{}
	for _, c := range carrierManifest(t, "nas-fleet.yaml") {
		if str(c, "kind") != "RadiusClient" {
			t.Errorf("nas-fleet.yaml: %s is not a RadiusClient", c.id())
			continue
		}
		checkClusterRef(t, c, cluster)
		profiles[str(c, "spec", "profile")] = true
		for _, v := range list(c, "spec", "cidrs") {
			s, _ := v.(string)
			p, err := parseCIDR(s)
			if err != nil {
				t.Errorf("%s: cidrs: %v", c.id(), err)
				continue
			}
			if other, ok := claimed[p]; ok {
				t.Errorf("%s: %s is also %s's", c.id(), p, other)
			}
			claimed[p] = c.id()
			if !slices.ContainsFunc(allowed, func(a netip.Prefix) bool { return a.Bits() <= p.Bits() && a.Contains(p.Addr()) }) {
				t.Errorf("%s: %s is outside networkPolicy.edge.allowedCIDRs %v: its requests would not reach the edge", c.id(), p, allowed)
			}
		}
	}
	for _, p := range []string{"faxback", "firebrick", "dialogic"} {
		if !profiles[p] {
			t.Errorf("nas-fleet.yaml has no %s client", p)
		}
	}

	for _, m := range carrierManifests {
		checkYAML11(t, m)
	}

	accounts := map[string]bool{}
	var dids []object
	for _, o := range carrierManifest(t, "accounts.yaml") {
		checkClusterRef(t, o, cluster)
		switch str(o, "kind") {
		case "Account":
			accounts[strings.ToLower(orElse(str(o, "spec", "name"), str(o, "metadata", "name")))] = true
			if str(o, "spec", "uuid") == "" {
				t.Errorf("%s: no spec.uuid: each site's store would assign its own", o.id())
			}
		case "DID":
			dids = append(dids, o)
		default:
			t.Errorf("accounts.yaml: %s is neither an Account nor a DID", o.id())
		}
	}
	for _, d := range dids {
		if !accounts[strings.ToLower(str(d, "spec", "account"))] {
			t.Errorf("%s: account %q is not in accounts.yaml", d.id(), str(d, "spec", "account"))
		}
	}
}

// checkYAML11 refuses a plain scalar that YAML 1.1, which kubectl reads,
// takes for a boolean (a bare off is false): yaml.v3, which parses the
// manifests here, reads YAML 1.2 and would pass it on as a string.
func checkYAML11(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(filepath.Join(carrierDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		walkScalars(&doc, func(n *yaml.Node) {
			if n.Style == 0 && n.Tag == "!!str" && yaml11Booleans[strings.ToLower(n.Value)] {
				t.Errorf("%s:%d: %s is a boolean to kubectl (YAML 1.1): quote it", name, n.Line, n.Value)
			}
		})
	}
}

var yaml11Booleans = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true}

func walkScalars(n *yaml.Node, f func(*yaml.Node)) {
	if n.Kind == yaml.ScalarNode {
		f(n)
	}
	for _, c := range n.Content {
		walkScalars(c, f)
	}
}

func checkClusterRef(t *testing.T, o object, cluster string) {
	t.Helper()
	if got := str(o, "spec", "clusterRef", "name"); got != cluster {
		t.Errorf("%s: clusterRef %q, but the values' RadiusCluster is %q", o.id(), got, cluster)
	}
}

// parseCIDR reads a RadiusClient's range as the edge does: a bare address
// is a /32 or /128.
func parseCIDR(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err
}

// edgeAllowedCIDRs are the sources the edge's NetworkPolicy admits RADIUS
// from; none listed would admit any.
func edgeAllowedCIDRs(t *testing.T, objs []object) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, o := range objs {
		if str(o, "kind") != "NetworkPolicy" || str(o, "metadata", "labels", "app.kubernetes.io/component") != "edge" {
			continue
		}
		for _, rule := range list(o, "spec", "ingress") {
			for _, from := range list(rule, "from") {
				if c := str(from, "ipBlock", "cidr"); c != "" {
					p, err := netip.ParsePrefix(c)
					if err != nil {
						t.Fatalf("%s: %v", o.id(), err)
					}
					out = append(out, p)
				}
			}
		}
		return out
	}
	t.Fatal("no edge NetworkPolicy in the render")
	return nil
}

// TestCarrierGuide holds the guide to the files: every file it names is
// there, the objects its commands name are the release's, and every Secret
// key the values and manifests refer to is one its `kubectl create secret`
// commands make.
func TestCarrierGuide(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(carrierDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	guide := string(b)
	for _, m := range regexp.MustCompile(`deploy/carrier/[\w.-]+`).FindAllString(guide, -1) {
		if _, err := os.Stat(filepath.Join(repoRoot, m)); err != nil {
			t.Errorf("the guide names %s: %v", m, err)
		}
	}

	checkGuideNames(t, guide, renderCarrierSite(t, carrierSites[0]))

	created := guideSecrets(guide)
	if len(created) == 0 {
		t.Fatal("the guide creates no Secret")
	}
	var objs []object
	for _, site := range carrierSites {
		objs = append(objs, findObject(t, renderCarrierSite(t, site), "RadiusCluster", ""))
	}
	for _, m := range carrierManifests {
		objs = append(objs, carrierManifest(t, m)...)
	}
	for _, o := range objs {
		for _, ref := range secretRefs(get(o, "spec"), "spec") {
			keys, ok := created[ref.name]
			switch {
			case !ok:
				t.Errorf("%s: %s names Secret %q, which the guide does not create", o.id(), ref.path, ref.name)
			case !keys[ref.key]:
				t.Errorf("%s: %s names key %q of Secret %q, which the guide does not create", o.id(), ref.path, ref.key, ref.name)
			}
		}
	}
}

// checkGuideNames checks the names the guide's commands use against a
// site's render: the chart's Deployments and Services, the RadiusCluster,
// and what the operator names after it (<cluster>-edge ...).
func checkGuideNames(t *testing.T, guide string, objs []object) {
	t.Helper()
	cluster := str(findObject(t, objs, "RadiusCluster", ""), "metadata", "name")
	names := map[string]map[string]bool{"deployment": {}, "service": {}, "radiuscluster": {cluster: true}}
	for _, o := range objs {
		if kind := strings.ToLower(str(o, "kind")); names[kind] != nil {
			names[kind][str(o, "metadata", "name")] = true
		}
	}
	for _, c := range []string{"edge", "accounts", "dids", "cdr"} {
		names["deployment"][cluster+"-"+c] = true
	}
	names["service"][cluster+"-edge"] = true
	for _, m := range regexp.MustCompile(`\b(deployment|radiuscluster)/([a-z0-9-]+)|get (service) ([a-z0-9-]+)|job="([^"]+)"`).FindAllStringSubmatch(guide, -1) {
		kind, name := m[1]+m[3], m[2]+m[4]
		if m[5] != "" {
			// The ServiceMonitor's job is the metrics Service's name.
			kind, name = "service", m[5]
		}
		if !names[kind][name] {
			t.Errorf("the guide names %s %q, which the release does not have (%s)", kind, name, strings.Join(slices.Sorted(maps.Keys(names[kind])), ", "))
		}
	}
}

// guideSecrets are the Secrets the guide's `kubectl create secret generic`
// commands make, each with its keys.
func guideSecrets(guide string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	command := regexp.MustCompile(`create secret generic ([a-z0-9.-]+)`)
	key := regexp.MustCompile(`--from-(?:literal|file)=([^=\s]+)=`)
	for _, line := range strings.Split(strings.ReplaceAll(guide, "\\\n", " "), "\n") {
		m := command.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if out[m[1]] == nil {
			out[m[1]] = map[string]bool{}
		}
		for _, k := range key.FindAllStringSubmatch(line, -1) {
			out[m[1]][k[1]] = true
		}
	}
	return out
}

// secretRef is one reference to a key of a Secret, and where it is.
type secretRef struct{ path, name, key string }

// secretRefs finds every *SecretRef ({name, key}) under v.
func secretRefs(v any, path string) []secretRef {
	var out []secretRef
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := path + "." + k
			if strings.HasSuffix(strings.ToLower(k), "secretref") {
				out = append(out, secretRef{p, str(e, "name"), str(e, "key")})
				continue
			}
			out = append(out, secretRefs(e, p)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, secretRefs(e, path+"[]")...)
		}
	}
	return out
}

// carrierRadSec are the guide's RadSec snippets: the values that turn it
// on, the RadiusClient of a NAS that comes over it, and the cert-manager
// Certificate whose Secret the edge shows.
type carrierRadSec struct {
	values, text        string
	client, certificate object
}

// readCarrierRadSec takes the YAML blocks of the guide's RadSec section
// apart by what they hold.
func readCarrierRadSec(t *testing.T) carrierRadSec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(carrierDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## RadSec")
	if !ok {
		t.Fatal("the guide has no RadSec section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var out carrierRadSec
	out.text = section
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(section, -1) {
		block := dedent(m[1])
		switch {
		case strings.Contains(block, "kind: Certificate"):
			out.certificate = parseObjects(t, block)[0]
		case strings.Contains(block, "kind: RadiusClient"):
			out.client = parseObjects(t, block)[0]
			meta := out.client["metadata"].(map[string]any)
			meta["namespace"] = namespace
		default:
			out.values = block
		}
	}
	if out.values == "" || out.client == nil || out.certificate == nil {
		t.Fatalf("the guide's RadSec section lacks its values, its RadiusClient or its Certificate:\n%s", section)
	}
	return out
}

// dedent removes the indentation a Markdown list gives a code block.
func dedent(block string) string {
	lines := strings.Split(block, "\n")
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[indent:]
		}
	}
	return strings.Join(lines, "\n")
}

// renderCarrierRadSec is a site's render with the guide's RadSec values
// over its own.
func renderCarrierRadSec(t *testing.T, site, values string) []object {
	t.Helper()
	f, err := os.CreateTemp(helmHome, "values-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(f.Name()) })
	if _, err := f.WriteString(values); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	args := []string{"template", carrierRelease, chartDir, "--namespace", namespace}
	for _, v := range append(carrierValues(site), f.Name()) {
		args = append(args, "--values", v)
	}
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return parseObjects(t, out)
}

// TestCarrierRadSec holds the guide's RadSec section to the chart: its
// values render at both sites into a RadiusCluster serving RadSec from the
// Secrets the section makes (the Certificate's, and the CA it creates),
// and its RadiusClient names the sites' cluster. TestAPIServerAccepts
// sends both to the API server.
func TestCarrierRadSec(t *testing.T) {
	t.Parallel()
	g := readCarrierRadSec(t)
	for _, site := range carrierSites {
		r := get(findObject(t, renderCarrierRadSec(t, site, g.values), "RadiusCluster", ""), "spec", "edge", "radsec")
		if get(r, "enabled") != true {
			t.Errorf("%s: the guide's values leave spec.edge.radsec %v", site, r)
		}
		if got, want := str(r, "certificateSecretRef", "name"), str(g.certificate, "spec", "secretName"); got != want {
			t.Errorf("%s: the edge shows Secret %q, but the guide's Certificate writes %q", site, got, want)
		}
		ca, key := str(r, "clientCASecretRef", "name"), str(r, "clientCASecretRef", "key")
		if !guideSecrets(g.text)[ca][key] {
			t.Errorf("%s: the client CA is key %q of Secret %q, which the guide does not create", site, key, ca)
		}
	}
	checkClusterRef(t, g.client, str(findObject(t, renderCarrierSite(t, carrierSites[0]), "RadiusCluster", ""), "metadata", "name"))
	if get(g.client, "spec", "cidrs") != nil || get(g.client, "spec", "secretRef") != nil {
		t.Errorf("the guide's RadSec-only RadiusClient has cidrs or a secretRef: %v", get(g.client, "spec"))
	}
}
