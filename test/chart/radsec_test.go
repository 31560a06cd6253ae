package chart

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// radsecValues turn RadSec on over a scenario, with a RadSec-only client
// and one known both ways.
const radsecValues = `
edge:
  service:
    nodePorts: {radsec: 32083}
  radsec:
    enabled: true
    port: 443
    certificateSecret: edge-tls
    clientCASecret: nas-ca
    clientCAKey: nas-ca.pem
    maxConnections: 2048
networkPolicy:
  edge:
    radsecAllowedCIDRs: [198.51.100.0/24]
clients:
  - name: proxy
    profile: generic
    radsec: {identities: [proxy.carrier.example]}
  - name: both
    cidrs: [10.1.2.0/24]
    secretRef: {name: nas-secrets, key: both}
    radsec: {identities: [nas-b.carrier.example]}
`

// TestRadSecDirect: in direct mode the edge listens on RFC 6614's port with
// both Secrets mounted where its config names them, the Service and the
// NetworkPolicy open the TCP port, a RadSec-only client has no address or
// secret in the table, and kradius loads the result.
func TestRadSecDirect(t *testing.T) {
	t.Parallel()
	out, err := render(t, []string{ciValues("direct-minimal")}, "edge:\n  service:\n    type: NodePort\n"+radsecValues)
	if err != nil {
		t.Fatal(err)
	}
	objs := parseObjects(t, out)
	edge := findObject(t, objs, "Deployment", releaseName+"-kradius-edge")
	c := list(edge, "spec", "template", "spec", "containers")[0]
	if !slices.ContainsFunc(list(c, "ports"), func(p any) bool {
		return str(p, "name") == "radsec" && fmt.Sprint(get(p, "containerPort")) == "2083" && str(p, "protocol") == "TCP"
	}) {
		t.Errorf("the edge container has no radsec port 2083/TCP: %v", list(c, "ports"))
	}
	volumes := map[string]string{}
	for _, v := range list(edge, "spec", "template", "spec", "volumes") {
		volumes[str(v, "name")] = str(v, "secret", "secretName")
	}
	if volumes["radsec-certificate"] != "edge-tls" || volumes["radsec-client-ca"] != "nas-ca" {
		t.Errorf("the edge's RadSec volumes are %v, want edge-tls and nas-ca", volumes)
	}
	for _, m := range list(c, "volumeMounts") {
		if strings.HasPrefix(str(m, "name"), "radsec-") && (get(m, "readOnly") != true || get(m, "subPath") != nil) {
			t.Errorf("mount %v: RadSec's Secrets are mounted whole and read-only, so that a renewal reaches the edge", m)
		}
	}

	cfg := str(findObject(t, objs, "ConfigMap", releaseName+"-kradius-edge"), "data", "kradius.yaml")
	for _, want := range []string{"listen: :2083", "/etc/kradius/radsec/client-ca/nas-ca.pem", "/etc/kradius/radsec/certificate/tls.crt", "max_connections: 2048"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("the edge's kradius.yaml lacks %q:\n%s", want, cfg)
		}
	}
	for _, comp := range []string{"accounts", "dids", "cdr"} {
		if strings.Contains(str(findObject(t, objs, "ConfigMap", releaseName+"-kradius-"+comp), "data", "kradius.yaml"), "radsec") {
			t.Errorf("the %s configuration names RadSec", comp)
		}
	}

	svc := findObject(t, objs, "Service", releaseName+"-kradius-edge")
	if !slices.ContainsFunc(list(svc, "spec", "ports"), func(p any) bool {
		return str(p, "name") == "radsec" && str(p, "protocol") == "TCP" && fmt.Sprint(get(p, "port")) == "443" &&
			str(p, "targetPort") == "radsec" && fmt.Sprint(get(p, "nodePort")) == "32083"
	}) {
		t.Errorf("the edge Service has no radsec port 443/TCP to node port 32083: %v", list(svc, "spec", "ports"))
	}
	checkRadSecIngress(t, objs, "198.51.100.0/24")

	var table struct {
		Clients []map[string]any `yaml:"clients"`
	}
	if err := yaml.Unmarshal([]byte(str(findObject(t, objs, "Secret", releaseName+"-kradius-clients"), "stringData", "clients.yaml")), &table); err != nil {
		t.Fatal(err)
	}
	for _, e := range table.Clients {
		switch e["name"] {
		case "proxy":
			for _, k := range []string{"cidrs", "secret", "secret_file"} {
				if _, ok := e[k]; ok {
					t.Errorf("the RadSec-only client has %s: %v", k, e)
				}
			}
		case "both":
			if e["secret_file"] == nil || e["radsec"] == nil {
				t.Errorf("the client known both ways lacks its secret or its identities: %v", e)
			}
		}
	}
	loadConfig(t, "edge", cfg, str(findObject(t, objs, "Secret", releaseName+"-kradius-clients"), "stringData", "clients.yaml"))
}

// TestRadSecOperator: in operator mode edge.radsec becomes the
// RadiusCluster's spec.edge.radsec, a RadSec-only client a RadiusClient
// without cidrs or secretRef, and the chart's NetworkPolicy opens the
// operator's edge pods' TCP port.
func TestRadSecOperator(t *testing.T) {
	t.Parallel()
	// The operator allocates node ports; the values' one is for direct mode.
	out, err := render(t, []string{ciValues("operator-with-cluster")}, strings.Replace(radsecValues, "    nodePorts: {radsec: 32083}\n", "    nodePorts: {}\n", 1))
	if err != nil {
		t.Fatal(err)
	}
	objs := parseObjects(t, out)
	r := get(findObject(t, objs, "RadiusCluster", ""), "spec", "edge", "radsec")
	for path, want := range map[string]string{
		"enabled": "true", "port": "443", "certificateSecretRef.name": "edge-tls",
		"clientCASecretRef.name": "nas-ca", "clientCASecretRef.key": "nas-ca.pem", "maxConnections": "2048",
	} {
		if got := fmt.Sprint(get(r, strings.Split(path, ".")...)); got != want {
			t.Errorf("spec.edge.radsec.%s is %s, want %s", path, got, want)
		}
	}
	proxy := findObject(t, objs, "RadiusClient", "proxy")
	if get(proxy, "spec", "cidrs") != nil || get(proxy, "spec", "secretRef") != nil {
		t.Errorf("the RadSec-only RadiusClient has cidrs or a secretRef: %v", get(proxy, "spec"))
	}
	if got := list(proxy, "spec", "radsec", "identities"); len(got) != 1 || got[0] != "proxy.carrier.example" {
		t.Errorf("the RadSec-only RadiusClient's identities are %v", got)
	}
	checkRadSecIngress(t, objs, "198.51.100.0/24")
}

// TestRadSecOff: by default nothing of RadSec is rendered.
func TestRadSecOff(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"direct-minimal", "operator-default"} {
		out, err := render(t, []string{ciValues(base)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range parseObjects(t, out) {
			if str(o, "kind") == "Secret" || str(o, "kind") == "CustomResourceDefinition" {
				continue
			}
			b, err := yaml.Marshal(map[string]any(o))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "radsec") || strings.Contains(string(b), "2083") {
				t.Errorf("%s: %s renders RadSec, which is off:\n%s", base, o.id(), b)
			}
		}
	}
}

// TestNotesRadSecOnly: with only RadSec clients the notes still show the
// UDP probe, without saying that no NAS is allowed.
func TestNotesRadSecOnly(t *testing.T) {
	t.Parallel()
	f, err := os.CreateTemp(helmHome, "values-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(f.Name()) })
	_, err = f.WriteString(`operator: {enabled: false}
redis: {addresses: [redis-master.redis:6379]}
kafka: {brokers: [kafka.kafka:9092]}
edge:
  radsec: {enabled: true, certificateSecret: edge-tls, clientCASecret: nas-ca}
clients:
  - name: proxy
    radsec: {identities: [proxy.carrier.example]}
`)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	n := notes(t, f.Name())
	for _, want := range []string{"radclient -x $EDGE_IP:$AUTH_PORT auth \"<the client's shared secret>\"", "RADSEC_PORT=2083", "openssl s_client -connect $EDGE_IP:$RADSEC_PORT"} {
		if !strings.Contains(n, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, n)
		}
	}
	if strings.Contains(n, "No NAS is allowed yet") {
		t.Errorf("NOTES.txt says no NAS is allowed, with a RadSec client:\n%s", n)
	}
}

// checkRadSecIngress: the edge's NetworkPolicy admits TCP 2083, the port
// the pods listen on, from the given range only.
func checkRadSecIngress(t *testing.T, objs []object, from string) {
	t.Helper()
	for _, o := range objs {
		if str(o, "kind") != "NetworkPolicy" || str(o, "metadata", "labels", "app.kubernetes.io/component") != "edge" {
			continue
		}
		for _, rule := range list(o, "spec", "ingress") {
			ports := list(rule, "ports")
			if len(ports) == 1 && str(ports[0], "protocol") == "TCP" && fmt.Sprint(get(ports[0], "port")) == "2083" {
				if f := list(rule, "from"); len(f) != 1 || str(f[0], "ipBlock", "cidr") != from {
					t.Errorf("%s: RadSec is admitted from %v, want %s", o.id(), f, from)
				}
				return
			}
		}
		t.Errorf("%s admits no TCP 2083", o.id())
		return
	}
	t.Error("no edge NetworkPolicy in the render")
}
