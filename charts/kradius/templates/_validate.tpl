{{/*
kradius.validate refuses values the schema cannot: combinations, and keys
the schema lets through only so that the refusal can say what to do
instead. Every message starts with the key at fault.
*/}}
{{- define "kradius.validate" -}}
{{- $v := .Values }}
{{- $direct := not $v.operator.enabled }}
{{- $cluster := and $v.operator.enabled $v.radiusCluster.enabled }}

{{- /* The NAS's source address picks its client and secret. */}}
{{- if and (eq $v.edge.service.externalTrafficPolicy "Cluster") (not $v.edge.service.acknowledgeSourceAddressLoss) }}
{{- fail "edge.service.externalTrafficPolicy: Cluster lets kube-proxy replace the NAS's source address with a node's, and kradius identifies a NAS (its client entry and shared secret) by its source address: requests would be dropped as unknown_client or checked against the wrong secret. Keep Local (the default), use edge.hostNetwork, or, if your load balancer keeps the source address by other means, set edge.service.acknowledgeSourceAddressLoss: true" }}
{{- end }}

{{- if and (not $v.operator.enabled) (ge (int $v.edge.drainSeconds) (int $v.edge.terminationGracePeriodSeconds)) (gt (int $v.edge.drainSeconds) 0) }}
{{- fail (printf "edge.drainSeconds: %d is not below edge.terminationGracePeriodSeconds (%d): the pod would be killed while it drains, with requests in hand" (int $v.edge.drainSeconds) (int $v.edge.terminationGracePeriodSeconds)) }}
{{- end }}

{{- with $v.edge.radsec }}
{{- if and .enabled (not .certificateSecret) }}
{{- fail "edge.radsec.certificateSecret: required with edge.radsec.enabled: the kubernetes.io/tls Secret (tls.crt, tls.key) holding the edge's certificate, e.g. the secretName of a cert-manager Certificate" }}
{{- end }}
{{- if and .enabled (not .clientCASecret) }}
{{- fail "edge.radsec.clientCASecret: required with edge.radsec.enabled: the Secret holding the PEM CA that signs the NAS's client certificates (under edge.radsec.clientCAKey, ca.crt by default)" }}
{{- end }}
{{- end }}

{{- with $v.edge.autoscaling }}
{{- if and .enabled (gt (int .minReplicas) (int .maxReplicas)) }}
{{- fail (printf "edge.autoscaling.minReplicas: %d is above edge.autoscaling.maxReplicas (%d)" (int .minReplicas) (int .maxReplicas)) }}
{{- end }}
{{- if and .enabled (not (dig "requests" "cpu" "" (default dict $v.edge.resources))) }}
{{- fail "edge.resources.requests.cpu: required with edge.autoscaling.enabled: the autoscaler measures CPU utilization against the request" }}
{{- end }}
{{- end }}

{{- /* Secrets are references, never values. */}}
{{- if hasKey $v.redis "password" }}
{{- fail "redis.password: secrets are not values of this chart; create a Secret holding the password and set redis.passwordSecretRef: {name: <secret>, key: <key>}" }}
{{- end }}
{{- if hasKey $v.kafka.sasl "password" }}
{{- fail "kafka.sasl.password: secrets are not values of this chart; create a Secret holding the password and set kafka.sasl.passwordSecretRef: {name: <secret>, key: <key>}" }}
{{- end }}
{{- $names := dict }}
{{- $identities := dict }}
{{- range $i, $c := $v.clients }}
{{- range $key := list "secret" "secret_file" "secretFile" }}
{{- if hasKey $c $key }}
{{- fail (printf "clients[%d].%s: secrets are not values of this chart; create a Secret holding the shared secret and set clients[%d].secretRef: {name: <secret>, key: <key>}" $i $key $i) }}
{{- end }}
{{- end }}
{{- if and $c.firebrick (hasKey $c.firebrick "nonce_key_file") }}
{{- fail (printf "clients[%d].firebrick.nonce_key_file: the nonce key is a secret; create a Secret holding it and set clients[%d].firebrick.nonceKeySecretRef: {name: <secret>, key: <key>}" $i $i) }}
{{- end }}
{{- if hasKey $names $c.name }}
{{- fail (printf "clients[%d].name: %q is also the name of clients[%d]" $i $c.name (get $names $c.name)) }}
{{- end }}
{{- $_ := set $names $c.name $i }}
{{- include "kradius.validateClientTransport" (dict "i" $i "c" $c "radsec" $v.edge.radsec.enabled "identities" $identities) }}
{{- $profile := default "faxback" $c.profile }}
{{- range $p := list "faxback" "firebrick" "dialogic" }}
{{- if and (hasKey $c $p) (ne $p $profile) }}
{{- fail (printf "clients[%d].%s: set for a %q client (the options block goes under the client's own profile)" $i $p $profile) }}
{{- end }}
{{- end }}
{{- if $v.operator.enabled }}
{{- range $p := list "firebrick" "dialogic" }}
{{- if hasKey $c $p }}
{{- fail (printf "clients[%d].%s: a RadiusClient has no %s options yet; use direct mode (operator.enabled: false) for this client" $i $p $p) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- /* Modes. */}}
{{- if and $direct $v.radiusCluster.enabled }}
{{- fail "radiusCluster.enabled: a RadiusCluster is for the operator; in direct mode (operator.enabled: false) the chart renders the components itself. Set one or the other" }}
{{- end }}
{{- if $v.operator.enabled }}
{{- if $v.config }}
{{- fail "config: direct mode only (operator.enabled: false); in operator mode the operator writes each component's configuration from the RadiusCluster (radiusCluster, redis, kafka, edge ...)" }}
{{- end }}
{{- range $comp := list "edge" "accounts" "dids" "cdr" }}
{{- if (index $v $comp).config }}
{{- fail (printf "%s.config: direct mode only (operator.enabled: false); in operator mode the operator writes each component's configuration" $comp) }}
{{- end }}
{{- end }}
{{- if $v.edge.hostNetwork }}
{{- fail "edge.hostNetwork: direct mode only (operator.enabled: false): the operator renders the edge pods" }}
{{- end }}

{{- if or (not (kindIs "invalid" $v.edge.service.nodePorts.auth)) (not (kindIs "invalid" $v.edge.service.nodePorts.acct)) (not (kindIs "invalid" $v.edge.service.nodePorts.radsec)) }}
{{- fail "edge.service.nodePorts: direct mode only (operator.enabled: false): the RadiusCluster has no node ports" }}
{{- end }}
{{- if $v.edge.service.loadBalancerSourceRanges }}
{{- fail "edge.service.loadBalancerSourceRanges: direct mode only (operator.enabled: false): the RadiusCluster has no source ranges; use networkPolicy.edge.allowedCIDRs" }}
{{- end }}
{{- if ne $v.kafka.topics.settlement "kradius.settlement.v1" }}
{{- fail "kafka.topics.settlement: direct mode only (operator.enabled: false): the operator uses kradius.settlement.v1" }}
{{- end }}
{{- if and $v.clients (not $v.radiusCluster.enabled) }}
{{- fail "clients: in operator mode each client becomes a RadiusClient of the chart's RadiusCluster: set radiusCluster.enabled: true (or create RadiusClients yourself)" }}
{{- end }}
{{- end }}

{{- /* What the components need: they run on an external Redis and Kafka. */}}
{{- if or $direct $cluster }}
{{- if not $v.redis.addresses }}
{{- fail "redis.addresses: required: the host:port of the Redis server, the Sentinels, or the seeds of the Redis Cluster (this chart installs no Redis)" }}
{{- end }}
{{- if not $v.kafka.brokers }}
{{- fail "kafka.brokers: required: the host:port bootstrap brokers of the accounting log (this chart installs no Kafka)" }}
{{- end }}
{{- end }}
{{- with $v.redis }}
{{- if and (eq .mode "sentinel") (not .masterName) }}
{{- fail "redis.masterName: required with redis.mode sentinel (redis.addresses are then the Sentinels)" }}
{{- end }}
{{- if and (ne .mode "sentinel") .masterName }}
{{- fail (printf "redis.masterName: set with redis.mode %s; it is the Sentinel master's name: set redis.mode: sentinel, or leave it empty" .mode) }}
{{- end }}
{{- if and (eq .mode "standalone") (gt (len .addresses) 1) }}
{{- fail (printf "redis.addresses: %d addresses with redis.mode standalone, which takes one; several are the seeds of a Redis Cluster (redis.mode: cluster) or the Sentinels (redis.mode: sentinel)" (len .addresses)) }}
{{- end }}
{{- if and (eq .mode "cluster") .db }}
{{- fail (printf "redis.db: %d with redis.mode cluster: a Redis Cluster has only database 0" (int .db)) }}
{{- end }}
{{- if and (not .tls.enabled) (or .tls.caSecretRef.name .tls.serverName) }}
{{- fail "redis.tls.enabled: false, but other redis.tls keys are set" }}
{{- end }}
{{- end }}
{{- with $v.kafka }}
{{- if and (not .tls.enabled) (or .tls.caSecretRef.name .tls.serverName) }}
{{- fail "kafka.tls.enabled: false, but other kafka.tls keys are set" }}
{{- end }}
{{- if .sasl.enabled }}
{{- if not .sasl.username }}
{{- fail "kafka.sasl.username: required with kafka.sasl.enabled" }}
{{- end }}
{{- if not .sasl.passwordSecretRef.name }}
{{- fail "kafka.sasl.passwordSecretRef.name: required with kafka.sasl.enabled: the Secret holding the SASL password" }}
{{- end }}
{{- end }}
{{- if eq .topics.accounting .topics.cdr }}
{{- fail "kafka.topics.cdr: is also the accounting topic" }}
{{- end }}
{{- end }}
{{- if and $v.operator.enabled (gt (int $v.operator.replicas) 1) (not $v.operator.leaderElection) }}
{{- fail (printf "operator.leaderElection: false with operator.replicas %d: the replicas would reconcile at once and fight over every object; turn leader election on" (int $v.operator.replicas)) }}
{{- end }}
{{- if and $v.operator.adminTLS.enabled (not $v.operator.adminTLS.caSecretRef.name) }}
{{- fail "operator.adminTLS.caSecretRef.name: required with operator.adminTLS.enabled: the Secret holding the CA of the AdminServices" }}
{{- end }}
{{- if and $cluster $v.radiusCluster.tracing.enabled (not $v.radiusCluster.tracing.otlpEndpoint) }}
{{- fail "radiusCluster.tracing.otlpEndpoint: required with radiusCluster.tracing.enabled" }}
{{- end }}

{{- /* config may not hold what the chart sets. */}}
{{- if $direct }}
{{- $owned := list
  (list "target" "the chart runs each component with its own target")
  (list "log.format" "the chart logs json, one object a line")
  (list "http" "the ops port is 9812 (probes, metrics, the NetworkPolicies)")
  (list "admin" "the AdminService of the distributed shape is the accounts service's gRPC port")
  (list "grpc" "the gRPC port is 9090; TLS between the components is not in the chart yet")
  (list "backends.accounts" "the edge asks the chart's accounts Service")
  (list "backends.dids" "the edge asks the chart's dids Service")
  (list "backends.tls" "TLS between the components is not in the chart yet")
  (list "edge.auth_listen" "the pods listen on 1812; set edge.service.authPort for the Service")
  (list "edge.acct_listen" "the pods listen on 1813; set edge.service.acctPort for the Service")
  (list "edge.clients" "use clients, whose secrets are Secret references")
  (list "edge.clients_file" "the chart writes it from clients")
  (list "edge.reply_cache.shared" "use edge.sharedReplyCache")
  (list "edge.radsec" "use edge.radsec")
  (list "store.backend" "the chart uses redis")
  (list "store.embedded" "the chart uses redis")
  (list "store.redis" "use redis")
  (list "store.bootstrap" "provision with kradius import, or the operator's Account and DID resources")
  (list "accounting.log" "the chart uses kafka")
  (list "accounting.journal" "the chart uses kafka")
  (list "accounting.kafka.brokers" "use kafka.brokers")
  (list "accounting.kafka.tls" "use kafka.tls")
  (list "accounting.kafka.sasl" "use kafka.sasl")
  (list "accounting.kafka.topics" "use kafka.topics")
  (list "accounting.kafka.create_topics" "use kafka.createTopics")
  (list "accounting.kafka.partitions" "use kafka.partitions")
  (list "accounting.kafka.replication_factor" "use kafka.replicationFactor")
  (list "accounting.kafka.transactional_id" "each cdr pod needs its own: kradius's default (host and pid) gives one")
}}
{{- range $block := list "config" "edge.config" "accounts.config" "dids.config" "cdr.config" }}
{{- $cfg := $v.config }}
{{- if ne $block "config" }}{{ $cfg = (index $v (first (splitList "." $block))).config }}{{ end }}
{{- range $o := $owned }}
{{- $node := $cfg }}
{{- $found := true }}
{{- range $part := splitList "." (first $o) }}
{{- if and $found (kindIs "map" $node) (hasKey $node $part) }}
{{- $node = get $node $part }}
{{- else }}
{{- $found = false }}
{{- end }}
{{- end }}
{{- if $found }}
{{- fail (printf "%s.%s: set by the chart, not in %s: %s" $block (first $o) $block (last $o)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
kradius.validateClientTransport refuses a client the edge could not serve:
known neither by its address (cidrs, with the shared secret) nor by its
certificate (radsec), a secret without cidrs, a RadSec-only client with
RadSec off, and an identity another client, or the client itself under
another case, already has (the edge compares them without case and refuses
the whole table). Call with (dict "i" index "c" client "radsec"
edge.radsec.enabled "identities" dict-of-claims).
*/}}
{{- define "kradius.validateClientTransport" -}}
{{- $i := .i }}
{{- $c := .c }}
{{- if not (or $c.cidrs $c.radsec) }}
{{- fail (printf "clients[%d]: %q has neither cidrs (its source addresses, for RADIUS over UDP) nor radsec.identities (its certificate names, for RadSec): set one, or both" $i $c.name) }}
{{- end }}
{{- if and $c.cidrs (not $c.secretRef) }}
{{- fail (printf "clients[%d].secretRef: required with cidrs: create a Secret holding the shared secret and set clients[%d].secretRef: {name: <secret>, key: <key>}" $i $i) }}
{{- end }}
{{- if and $c.secretRef (not $c.cidrs) }}
{{- fail (printf "clients[%d].secretRef: set without cidrs: a RadSec-only client uses RFC 6614's fixed secret (radsec); remove secretRef, or add cidrs for RADIUS over UDP" $i) }}
{{- end }}
{{- if and (not $c.cidrs) (not .radsec) }}
{{- fail (printf "clients[%d]: a RadSec-only client (no cidrs) needs edge.radsec.enabled: true, or it cannot reach the edge" $i) }}
{{- end }}
{{- with $c.radsec }}
{{- range $j, $id := .identities }}
{{- $k := $id | trim | lower }}
{{- with get $.identities $k }}
{{- fail (printf "clients[%d].radsec.identities[%d]: %q is also %s's (identities are compared without case)" $i $j $id .) }}
{{- end }}
{{- $_ := set $.identities $k (printf "clients[%d]" $i) }}
{{- end }}
{{- end }}
{{- end }}
