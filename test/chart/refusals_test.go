package chart

import (
	"path/filepath"
	"strings"
	"testing"
)

func ciValues(name string) string { return filepath.Join(chartDir, "ci", name+"-values.yaml") }

// refusal is a values document that helm must refuse, over a scenario's
// values, and what the message must say: at least the key at fault.
type refusal struct {
	name, base, values string
	want               []string
}

func checkRefusals(t *testing.T, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, err := render(t, []string{ciValues(c.base)}, c.values)
			if err == nil {
				t.Fatalf("helm template accepted:\n%s\nand rendered %d bytes", c.values, len(out))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestSchemaRefuses: values.schema.json refuses a key it does not know at
// every level, a wrong type and a value outside an enum, naming the key.
func TestSchemaRefuses(t *testing.T) {
	t.Parallel()
	const schemaErr = "values don't meet the specifications of the schema"
	checkRefusals(t, []refusal{
		{"misspelt top-level key", "operator-default", "replicaCount: 2", []string{schemaErr, "'replicaCount' not allowed"}},
		{"misspelt key", "operator-default", "edge:\n  replcas: 3", []string{schemaErr, "at '/edge'", "'replcas' not allowed"}},
		{"misspelt key in a Secret reference", "operator-default", "redis:\n  passwordSecretRef: {name: r, kye: password}", []string{"at '/redis/passwordSecretRef'", "'kye' not allowed"}},
		{"misspelt key in config", "direct-minimal", "config:\n  log:\n    levle: debug", []string{"at '/config/log'", "'levle' not allowed"}},
		{"misspelt key in a component's config", "direct-minimal", "cdr:\n  config:\n    accounting:\n      drain_timout: 10s", []string{"at '/cdr/config/accounting'", "'drain_timout' not allowed"}},
		{"misspelt key in a client", "direct-minimal", "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secretRef: {name: s, key: k}\n    profle: generic", []string{"at '/clients/0'", "'profle' not allowed"}},
		{"misspelt key in a profile's options", "direct-minimal", "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secretRef: {name: s, key: k}\n    faxback: {uuidformat: hex}", []string{"at '/clients/0/faxback'", "'uuidformat' not allowed"}},
		{"misspelt key in the security context", "operator-default", "containerSecurityContext:\n  readOnlyRootFilesytem: true", []string{"at '/containerSecurityContext'", "'readOnlyRootFilesytem' not allowed"}},
		{"wrong type", "operator-default", "edge:\n  replicas: three", []string{schemaErr, "at '/edge/replicas'", "want integer"}},
		{"wrong type in config", "direct-minimal", "config:\n  store:\n    long_names: \"yes\"", []string{"at '/config/store/long_names'", "want boolean"}},
		{"not a duration", "direct-minimal", "config:\n  backends:\n    timeout: 50 ms", []string{"at '/config/backends/timeout'"}},
		{"not host:port", "direct-minimal", "redis:\n  addresses: [redis-master]", []string{"at '/redis/addresses/0'"}},
		{"a key prefix without a hash tag", "direct-minimal", "redis:\n  keyPrefix: kradius", []string{"at '/redis/keyPrefix'"}},
		{"invalid enum", "operator-default", "edge:\n  service:\n    type: Loadbalancer", []string{schemaErr, "at '/edge/service/type'", "must be one of"}},
		{"invalid enum: traffic policy", "operator-default", "edge:\n  service:\n    externalTrafficPolicy: local", []string{"at '/edge/service/externalTrafficPolicy'", "must be one of"}},
		{"invalid enum: redis mode", "direct-minimal", "redis:\n  mode: replicated", []string{"at '/redis/mode'", "must be one of"}},
		{"invalid enum: SASL mechanism", "direct-minimal", "kafka:\n  sasl:\n    mechanism: SCRAM-SHA-1", []string{"at '/kafka/sasl/mechanism'", "must be one of"}},
		{"invalid enum: log level", "direct-minimal", "config:\n  log:\n    level: verbose", []string{"at '/config/log/level'", "must be one of"}},
		{"invalid enum: profile", "direct-minimal", "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secretRef: {name: s, key: k}\n    profile: cisco", []string{"at '/clients/0/profile'", "must be one of"}},
		{"misspelt key in edge.radsec", "direct-minimal", "edge:\n  radsec:\n    certSecret: tls", []string{"at '/edge/radsec'", "'certSecret' not allowed"}},
		{"RadSec port out of range", "operator-with-cluster", "edge:\n  radsec:\n    port: 70000", []string{"at '/edge/radsec/port'"}},
		{"a Secret name that is not one", "direct-minimal", "edge:\n  radsec:\n    clientCASecret: NAS_CA", []string{"at '/edge/radsec/clientCASecret'"}},
		{"misspelt key in a client's radsec", "direct-minimal", "clients:\n  - name: a\n    radsec: {identity: [a.example]}", []string{"at '/clients/0/radsec'", "'identity' not allowed"}},
		{"an identity with a trailing space", "direct-minimal", "clients:\n  - name: a\n    radsec: {identities: [\"a.example \"]}", []string{"at '/clients/0/radsec/identities/0'"}},
		{"no identities", "direct-minimal", "clients:\n  - name: a\n    radsec: {identities: []}", []string{"at '/clients/0/radsec/identities'"}},
	})
}

// TestRefusals: what the schema cannot say, the templates refuse with
// `fail`, the message starting with the key at fault.
func TestRefusals(t *testing.T) {
	t.Parallel()
	const client = "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secretRef: {name: s, key: k}\n"
	checkRefusals(t, []refusal{
		{"externalTrafficPolicy Cluster", "direct-minimal", "edge:\n  service:\n    externalTrafficPolicy: Cluster",
			[]string{"edge.service.externalTrafficPolicy: Cluster", "source address", "edge.service.acknowledgeSourceAddressLoss: true"}},
		{"externalTrafficPolicy Cluster, operator mode", "operator-with-cluster", "edge:\n  service:\n    externalTrafficPolicy: Cluster",
			[]string{"edge.service.externalTrafficPolicy: Cluster"}},
		{"inline Redis password", "direct-minimal", "redis:\n  password: hunter2", []string{"redis.password: secrets are not values", "redis.passwordSecretRef"}},
		{"inline SASL password", "direct-minimal", "kafka:\n  sasl:\n    password: hunter2", []string{"kafka.sasl.password: secrets are not values", "kafka.sasl.passwordSecretRef"}},
		{"inline client secret", "direct-minimal", "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secret: testing123\n    secretRef: {name: s, key: k}",
			[]string{"clients[0].secret: secrets are not values", "clients[0].secretRef"}},
		{"client secret_file", "direct-minimal", "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secret_file: /x\n    secretRef: {name: s, key: k}",
			[]string{"clients[0].secret_file: secrets are not values"}},
		{"inline nonce key file", "direct-minimal", "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secretRef: {name: s, key: k}\n    profile: firebrick\n    firebrick: {nonce_key_file: /k}",
			[]string{"clients[0].firebrick.nonce_key_file", "nonceKeySecretRef"}},
		{"HPA min above max", "direct-minimal", "edge:\n  autoscaling:\n    minReplicas: 5\n    maxReplicas: 3",
			[]string{"edge.autoscaling.minReplicas: 5 is above edge.autoscaling.maxReplicas (3)"}},
		{"HPA min above max, operator mode", "operator-with-cluster", "edge:\n  autoscaling:\n    minReplicas: 13",
			[]string{"edge.autoscaling.minReplicas: 13 is above edge.autoscaling.maxReplicas (12)"}},
		{"drain as long as the grace period", "direct-minimal", "edge:\n  drainSeconds: 30",
			[]string{"edge.drainSeconds: 30 is not below edge.terminationGracePeriodSeconds (30)"}},
		{"HPA without a CPU request", "direct-minimal", "edge:\n  resources:\n    requests: {cpu: null}",
			[]string{"edge.resources.requests.cpu: required with edge.autoscaling.enabled"}},
		{"config sets what the chart sets", "direct-minimal", "config:\n  store:\n    redis:\n      db: 3", []string{"config.store.redis: set by the chart", "use redis"}},
		{"a component's config sets what the chart sets", "direct-minimal", "edge:\n  config:\n    edge:\n      clients: []", []string{"edge.config.edge.clients: set by the chart", "use clients"}},
		{"config sets the transactional id", "direct-minimal", "cdr:\n  config:\n    accounting:\n      kafka:\n        transactional_id: x", []string{"cdr.config.accounting.kafka.transactional_id"}},
		{"config in operator mode", "operator-with-cluster", "config:\n  log:\n    level: debug", []string{"config: direct mode only"}},
		{"hostNetwork in operator mode", "operator-with-cluster", "edge:\n  hostNetwork: true", []string{"edge.hostNetwork: direct mode only"}},
		{"the shared reply cache set in config", "direct-minimal", "edge:\n  config:\n    edge:\n      reply_cache:\n        shared: redis", []string{"edge.config.edge.reply_cache.shared"}},
		{"a RadiusCluster in direct mode", "direct-minimal", "radiusCluster:\n  enabled: true", []string{"radiusCluster.enabled"}},
		{"clients in operator mode without a cluster", "operator-default", client, []string{"clients: in operator mode", "radiusCluster.enabled"}},
		{"firebrick options in operator mode", "operator-with-cluster", "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secretRef: {name: s, key: k}\n    profile: firebrick\n    firebrick: {realm: r}",
			[]string{"clients[0].firebrick: a RadiusClient has no firebrick options"}},
		{"two clients of one name", "direct-minimal", client + "  - name: a\n    cidrs: [10.0.0.2]\n    secretRef: {name: s, key: k2}", []string{`clients[1].name: "a" is also the name of clients[0]`}},
		{"a client without a secret", "direct-minimal", "clients:\n  - name: a\n    cidrs: [10.0.0.1]", []string{"clients[0].secretRef: required with cidrs", "clients[0].secretRef: {name: <secret>, key: <key>}"}},
		{"a client known by nothing", "direct-minimal", "clients:\n  - name: a\n    profile: generic", []string{`clients[0]: "a" has neither cidrs`, "nor radsec.identities"}},
		{"a client known by nothing, operator mode", "operator-with-cluster", "clients:\n  - name: a", []string{`clients[0]: "a" has neither cidrs`}},
		{"a secret without cidrs", "direct-sentinel-tls-sasl", "clients:\n  - name: a\n    secretRef: {name: s, key: k}\n    radsec: {identities: [a.example]}", []string{"clients[0].secretRef: set without cidrs", "RFC 6614"}},
		{"a RadSec-only client, RadSec off", "direct-minimal", "clients:\n  - name: a\n    radsec: {identities: [a.example]}", []string{"clients[0]: a RadSec-only client (no cidrs) needs edge.radsec.enabled: true"}},
		{"one identity, two clients", "direct-sentinel-tls-sasl", "clients:\n  - name: a\n    radsec: {identities: [nas.example]}\n  - name: b\n    cidrs: [10.0.0.2]\n    secretRef: {name: s, key: k}\n    radsec: {identities: [b.example, NAS.Example]}",
			[]string{`clients[1].radsec.identities[1]: "NAS.Example" is also clients[0]'s`}},
		{"one identity twice in a client", "operator-with-cluster", "clients:\n  - name: a\n    radsec: {identities: [nas.example, Nas.example]}", []string{`clients[0].radsec.identities[1]: "Nas.example" is also clients[0]'s`}},
		{"RadSec without a certificate", "direct-minimal", "edge:\n  radsec:\n    enabled: true\n    clientCASecret: ca", []string{"edge.radsec.certificateSecret: required with edge.radsec.enabled", "kubernetes.io/tls"}},
		{"RadSec without a client CA", "operator-with-cluster", "edge:\n  radsec:\n    clientCASecret: \"\"", []string{"edge.radsec.clientCASecret: required with edge.radsec.enabled"}},
		{"config sets RadSec", "direct-minimal", "edge:\n  config:\n    edge:\n      radsec:\n        listen: \":2083\"", []string{"edge.config.edge.radsec: set by the chart", "use edge.radsec"}},
		{"a RadSec node port in operator mode", "operator-with-cluster", "edge:\n  service:\n    nodePorts: {radsec: 32083}", []string{"edge.service.nodePorts: direct mode only"}},
		{"options of another profile", "direct-minimal", "clients:\n  - name: a\n    cidrs: [10.0.0.1]\n    secretRef: {name: s, key: k}\n    profile: generic\n    faxback: {uuid_format: hex}",
			[]string{`clients[0].faxback: set for a "generic" client`}},
		{"no Redis", "direct-minimal", "redis:\n  addresses: []", []string{"redis.addresses: required"}},
		{"no Kafka", "operator-with-cluster", "kafka:\n  brokers: []", []string{"kafka.brokers: required"}},
		{"Sentinel without a master", "direct-minimal", "redis:\n  mode: sentinel", []string{"redis.masterName: required with redis.mode sentinel"}},
		{"a master name without Sentinel", "direct-minimal", "redis:\n  masterName: m", []string{"redis.masterName: set with redis.mode standalone"}},
		{"standalone with two addresses", "direct-minimal", "redis:\n  addresses: [a:6379, b:6379]", []string{"redis.addresses: 2 addresses with redis.mode standalone"}},
		{"a database on a Redis Cluster", "direct-cluster-redis-no-netpol", "redis:\n  db: 1", []string{"redis.db: 1 with redis.mode cluster"}},
		{"TLS settings with TLS off", "direct-minimal", "kafka:\n  tls:\n    serverName: kafka", []string{"kafka.tls.enabled: false, but other kafka.tls keys are set"}},
		{"SASL without a user", "direct-minimal", "kafka:\n  sasl:\n    enabled: true\n    passwordSecretRef: {name: k, key: p}", []string{"kafka.sasl.username: required"}},
		{"SASL without a password", "direct-minimal", "kafka:\n  sasl:\n    enabled: true\n    username: u", []string{"kafka.sasl.passwordSecretRef.name: required"}},
		{"operator replicas without leader election", "operator-default", "operator:\n  replicas: 2\n  leaderElection: false", []string{"operator.leaderElection: false with operator.replicas 2"}},
		{"an alert that does not exist", "operator-with-cluster", "prometheusRule:\n  alerts:\n    KradiusDropHigh: {for: 1m}", []string{"prometheusRule.alerts.KradiusDropHigh: no such alert"}},
	})
}

// TestAcknowledgedSourceAddressLoss: externalTrafficPolicy Cluster renders
// once acknowledged, and the Service carries it.
func TestAcknowledgedSourceAddressLoss(t *testing.T) {
	t.Parallel()
	out, err := render(t, []string{ciValues("direct-minimal")}, "edge:\n  service:\n    externalTrafficPolicy: Cluster\n    acknowledgeSourceAddressLoss: true")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range parseObjects(t, out) {
		if str(o, "kind") == "Service" && str(o, "metadata", "name") == releaseName+"-kradius-edge" {
			if got := str(o, "spec", "externalTrafficPolicy"); got != "Cluster" {
				t.Errorf("the edge Service's externalTrafficPolicy is %q, want Cluster", got)
			}
			return
		}
	}
	t.Error("no edge Service rendered")
}
