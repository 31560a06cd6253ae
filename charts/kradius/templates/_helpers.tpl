{{/*
The chart's name, or nameOverride.
*/}}
{{- define "kradius.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name every object's name starts with: the release name, with the
chart's name unless the release name holds it already. Truncated to 46 so
that the longest Service name, <fullname>-operator-metrics, still fits in 63.
*/}}
{{- define "kradius.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 46 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 46 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 46 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chart-version, for the helm.sh/chart label.
*/}}
{{- define "kradius.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "kradius.labels" -}}
helm.sh/chart: {{ include "kradius.chart" . }}
{{ include "kradius.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kradius
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels of the kradius pods the chart renders.
*/}}
{{- define "kradius.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kradius.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component's objects. Call with (dict "ctx" $ "component" "edge").
*/}}
{{- define "kradius.componentLabels" -}}
{{ include "kradius.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Selector labels of one component's pods. Call with (dict "ctx" $ "component" "edge").
*/}}
{{- define "kradius.componentSelectorLabels" -}}
{{ include "kradius.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
A component's object name: <fullname>-<component>.
*/}}
{{- define "kradius.componentFullname" -}}
{{- printf "%s-%s" (include "kradius.fullname" .ctx) .component }}
{{- end }}

{{/*
The labels that select a component's pods wherever they come from: the
chart's (direct mode), or those the operator gives the pods of the
RadiusCluster (app.kubernetes.io/name is always "kradius" there, and the
instance is the RadiusCluster's name). Call with (dict "ctx" $ "component" "edge").
*/}}
{{- define "kradius.podSelector" -}}
{{- if .ctx.Values.operator.enabled }}
app.kubernetes.io/name: kradius
app.kubernetes.io/instance: {{ include "kradius.clusterName" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- else }}
{{- include "kradius.componentSelectorLabels" . }}
{{- end }}
{{- end }}

{{/*
The labels that select every kradius pod of the release (not the operator's).
*/}}
{{- define "kradius.allPodsSelector" -}}
{{- if .Values.operator.enabled }}
app.kubernetes.io/name: kradius
app.kubernetes.io/instance: {{ include "kradius.clusterName" . }}
app.kubernetes.io/managed-by: kradius-operator
{{- else }}
{{- include "kradius.selectorLabels" . }}
{{- end }}
{{- end }}

{{/*
The name of the object the edge's UDP Service has: the operator names it
<cluster>-edge.
*/}}
{{- define "kradius.edgeServiceName" -}}
{{- if .Values.operator.enabled }}
{{- printf "%s-edge" (include "kradius.clusterName" .) }}
{{- else }}
{{- include "kradius.componentFullname" (dict "ctx" . "component" "edge") }}
{{- end }}
{{- end }}

{{/*
The RadiusCluster's name (operator mode).
*/}}
{{- define "kradius.clusterName" -}}
{{- default (include "kradius.fullname" .) .Values.radiusCluster.name }}
{{- end }}

{{/*
The operator's object names and labels. Its app.kubernetes.io/name is
<name>-operator, so that no selector of the kradius pods matches it.
*/}}
{{- define "kradius.operator.fullname" -}}
{{- printf "%s-operator" (include "kradius.fullname" .) }}
{{- end }}

{{- define "kradius.operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kradius.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "kradius.operator.labels" -}}
helm.sh/chart: {{ include "kradius.chart" . }}
{{ include "kradius.operator.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kradius
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "kradius.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "kradius.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference: repository@digest, or repository:tag (the chart's
appVersion when tag is empty). Call with (dict "image" .Values.image "ctx" $).
*/}}
{{- define "kradius.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/*
The ports every component uses inside its pod (as the operator renders them).
*/}}
{{- define "kradius.port.ops" -}}9812{{- end }}
{{- define "kradius.port.grpc" -}}9090{{- end }}
{{- define "kradius.port.auth" -}}1812{{- end }}
{{- define "kradius.port.acct" -}}1813{{- end }}
{{- define "kradius.port.radsec" -}}2083{{- end }}

{{/*
Mount points inside the pods.
*/}}
{{- define "kradius.dir.config" -}}/etc/kradius/config{{- end }}
{{- define "kradius.dir.clients" -}}/etc/kradius/clients{{- end }}
{{- define "kradius.dir.secrets" -}}/etc/kradius/secrets{{- end }}
{{- define "kradius.dir.nasSecrets" -}}/etc/kradius/nas-secrets{{- end }}
{{- /* RadSec's Secrets are mounted whole, never by subPath, so that the
       kubelet swaps in a renewed certificate, which the edge reads again. */}}
{{- define "kradius.dir.radsecCertificate" -}}/etc/kradius/radsec/certificate{{- end }}
{{- define "kradius.dir.radsecClientCA" -}}/etc/kradius/radsec/client-ca{{- end }}

{{/*
kradius.mergeInto merges .src into .dst, recursively, in place: a map merges
into a map, anything else replaces. Unlike sprig's mergeOverwrite it lets a
false, a 0 or an "" replace what is below it, so that a component's
`config` can turn off what the shared `config` turned on.
*/}}
{{- define "kradius.mergeInto" -}}
{{- $dst := .dst }}
{{- range $k, $v := .src }}
{{- if and (kindIs "map" $v) (kindIs "map" (get $dst $k)) }}
{{- include "kradius.mergeInto" (dict "dst" (get $dst $k) "src" $v) }}
{{- else if kindIs "map" $v }}
{{- $_ := set $dst $k (deepCopy $v) }}
{{- else }}
{{- $_ := set $dst $k $v }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The distinct Secrets the NAS entries of `clients` refer to, sorted, as a
JSON list. Each is mounted whole in the edge pods, so that a new client
whose secret is a new key of one of them needs no new volume, and the edge
reloads its table without a restart.
*/}}
{{- define "kradius.nasSecretNames" -}}
{{- $names := list }}
{{- range .Values.clients }}
{{- with .secretRef }}{{ $names = append $names .name }}{{ end }}
{{- with .firebrick }}{{ with .nonceKeySecretRef }}{{ $names = append $names .name }}{{ end }}{{ end }}
{{- end }}
{{- $names | uniq | sortAlpha | toJson }}
{{- end }}

{{/*
The path of a NAS secret file in the edge pods. Call with a secretRef.
*/}}
{{- define "kradius.nasSecretPath" -}}
{{- printf "%s/%s/%s" (include "kradius.dir.nasSecrets" "") .name .key }}
{{- end }}

{{/*
The host:port addresses' ports, unique, as a JSON list of numbers.
*/}}
{{- define "kradius.ports" -}}
{{- $ports := list }}
{{- range . }}
{{- $m := regexFind ":[0-9]+$" . }}
{{- if $m }}
{{- $ports = append $ports (trimPrefix ":" $m | int) }}
{{- end }}
{{- end }}
{{- $ports | uniq | toJson }}
{{- end }}

{{/*
kradius.componentConfig is one component's kradius.yaml (direct mode): the
chart's defaults, under the shared `config`, under the component's own
`config`, under the chart's fixed settings (which `config` may not hold:
kradius.validate refuses them). Call with (dict "ctx" $ "component" "edge").
*/}}
{{- define "kradius.componentConfig" -}}
{{- $ := .ctx }}
{{- $comp := .component }}
{{- $v := $.Values }}
{{- $cfg := dict }}
{{- /* Defaults: one consumer group per release, as the operator makes one
       per cluster, so that two releases on one Kafka never share their
       accounting. */}}
{{- if has $comp (list "edge" "cdr") }}
{{- $_ := set $cfg "accounting" (dict "kafka" (dict "group_id" (printf "kradius-cdr-%s-%s" $.Release.Namespace (include "kradius.fullname" $)))) }}
{{- end }}
{{- include "kradius.mergeInto" (dict "dst" $cfg "src" (deepCopy $v.config)) }}
{{- include "kradius.mergeInto" (dict "dst" $cfg "src" (deepCopy (index $v $comp).config)) }}
{{- /* The fixed settings. */}}
{{- $fixed := dict "target" $comp "log" (dict "format" "json") "http" (dict "listen" (printf ":%s" (include "kradius.port.ops" ""))) }}
{{- $secrets := include "kradius.dir.secrets" "" }}
{{- if include "kradius.usesRedis" (dict "ctx" $ "component" $comp) }}
{{- $r := $v.redis }}
{{- $redis := dict "addresses" $r.addresses "key_prefix" $r.keyPrefix }}
{{- if eq $r.mode "sentinel" }}{{ $_ := set $redis "master_name" $r.masterName }}{{ end }}
{{- if $r.username }}{{ $_ := set $redis "username" $r.username }}{{ end }}
{{- if $r.passwordSecretRef.name }}{{ $_ := set $redis "password_file" (printf "%s/redis-password/%s" $secrets $r.passwordSecretRef.key) }}{{ end }}
{{- if and (ne $r.mode "cluster") $r.db }}{{ $_ := set $redis "db" $r.db }}{{ end }}
{{- if $r.tls.enabled }}
{{- $_ := set $redis "tls_enabled" true }}
{{- $tls := dict }}
{{- if $r.tls.caSecretRef.name }}{{ $_ := set $tls "ca_file" (printf "%s/redis-ca/%s" $secrets $r.tls.caSecretRef.key) }}{{ end }}
{{- if $r.tls.serverName }}{{ $_ := set $tls "server_name" $r.tls.serverName }}{{ end }}
{{- if $tls }}{{ $_ := set $redis "tls" $tls }}{{ end }}
{{- end }}
{{- $_ := set $fixed "store" (dict "backend" "redis" "redis" $redis) }}
{{- end }}
{{- if has $comp (list "accounts" "dids") }}
{{- $_ := set $fixed "grpc" (dict "listen" (printf ":%s" (include "kradius.port.grpc" ""))) }}
{{- end }}
{{- if has $comp (list "edge" "cdr") }}
{{- $k := $v.kafka }}
{{- $kafka := dict "brokers" $k.brokers "create_topics" $k.createTopics "partitions" $k.partitions "replication_factor" $k.replicationFactor "topics" (dict "accounting" $k.topics.accounting "cdr" $k.topics.cdr "settlement" $k.topics.settlement) }}
{{- if $k.tls.enabled }}
{{- $tls := dict "enabled" true }}
{{- if $k.tls.caSecretRef.name }}{{ $_ := set $tls "ca_file" (printf "%s/kafka-ca/%s" $secrets $k.tls.caSecretRef.key) }}{{ end }}
{{- if $k.tls.serverName }}{{ $_ := set $tls "server_name" $k.tls.serverName }}{{ end }}
{{- $_ := set $kafka "tls" $tls }}
{{- end }}
{{- if $k.sasl.enabled }}
{{- $_ := set $kafka "sasl" (dict "mechanism" $k.sasl.mechanism "username" $k.sasl.username "password_file" (printf "%s/kafka-password/%s" $secrets $k.sasl.passwordSecretRef.key)) }}
{{- end }}
{{- $_ := set $fixed "accounting" (dict "log" "kafka" "kafka" $kafka) }}
{{- end }}
{{- if eq $comp "edge" }}
{{- $_ := set $fixed "edge" (dict "auth_listen" (printf ":%s" (include "kradius.port.auth" "")) "acct_listen" (printf ":%s" (include "kradius.port.acct" "")) "clients_file" (printf "%s/clients.yaml" (include "kradius.dir.clients" ""))) }}
{{- if $v.edge.sharedReplyCache }}{{ $_ := set $fixed.edge "reply_cache" (dict "shared" "redis") }}{{ end }}
{{- with $v.edge.radsec }}
{{- if .enabled }}
{{- $cert := include "kradius.dir.radsecCertificate" "" }}
{{- $tls := dict "cert_file" (printf "%s/tls.crt" $cert) "key_file" (printf "%s/tls.key" $cert) "client_ca_file" (printf "%s/%s" (include "kradius.dir.radsecClientCA" "") .clientCAKey) }}
{{- $radsec := dict "listen" (printf ":%s" (include "kradius.port.radsec" "")) "tls" $tls }}
{{- with .maxConnections }}{{ $_ := set $radsec "max_connections" . }}{{ end }}
{{- $_ := set $fixed.edge "radsec" $radsec }}
{{- end }}
{{- end }}
{{- $_ := set $fixed "backends" (dict "accounts" (printf "%s:%s" (include "kradius.componentFullname" (dict "ctx" $ "component" "accounts")) (include "kradius.port.grpc" "")) "dids" (printf "%s:%s" (include "kradius.componentFullname" (dict "ctx" $ "component" "dids")) (include "kradius.port.grpc" ""))) }}
{{- end }}
{{- include "kradius.mergeInto" (dict "dst" $cfg "src" $fixed) }}
{{- toYaml $cfg }}
{{- end }}

{{/*
The Secrets a component's pods mount under kradius.dir.secrets (direct mode),
as a JSON list of {volume, secret}: Redis's for the services and cdr, Kafka's
for the edge and cdr, as the component's configuration names them.
*/}}
{{/*
Whether a component talks to Redis (direct mode): the services and cdr
always, the edge when it shares its reply cache there. Empty for no.
*/}}
{{- define "kradius.usesRedis" -}}
{{- if or (has .component (list "accounts" "dids" "cdr")) (and (eq .component "edge") .ctx.Values.edge.sharedReplyCache) }}true{{ end }}
{{- end }}

{{- define "kradius.componentSecrets" -}}
{{- $v := .ctx.Values }}
{{- $out := list }}
{{- if include "kradius.usesRedis" . }}
{{- if $v.redis.passwordSecretRef.name }}{{ $out = append $out (dict "volume" "redis-password" "secret" $v.redis.passwordSecretRef.name) }}{{ end }}
{{- if and $v.redis.tls.enabled $v.redis.tls.caSecretRef.name }}{{ $out = append $out (dict "volume" "redis-ca" "secret" $v.redis.tls.caSecretRef.name) }}{{ end }}
{{- end }}
{{- if has .component (list "edge" "cdr") }}
{{- if $v.kafka.sasl.enabled }}{{ $out = append $out (dict "volume" "kafka-password" "secret" $v.kafka.sasl.passwordSecretRef.name) }}{{ end }}
{{- if and $v.kafka.tls.enabled $v.kafka.tls.caSecretRef.name }}{{ $out = append $out (dict "volume" "kafka-ca" "secret" $v.kafka.tls.caSecretRef.name) }}{{ end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
The client table file (direct mode): `clients:` in the binary's schema, each
secret a secret_file in the mounted Secrets, sorted by name so that an
unchanged set renders the same bytes and the edges do not reload for nothing.
A RadSec-only client has no cidrs and no secret: RFC 6614's is fixed.
*/}}
{{- define "kradius.clientsFile" -}}
{{- $entries := list }}
{{- $byName := dict }}
{{- range $c := .Values.clients }}
{{- $e := dict "name" $c.name "profile" (default "faxback" $c.profile) }}
{{- if $c.cidrs }}
{{- $_ := set $e "cidrs" $c.cidrs }}
{{- with $c.secretRef }}{{ $_ := set $e "secret_file" (include "kradius.nasSecretPath" .) }}{{ end }}
{{- end }}
{{- with $c.radsec }}{{ $_ := set $e "radsec" (dict "identities" .identities) }}{{ end }}
{{- with include "kradius.messageAuthenticator" $c }}{{ $_ := set $e "message_authenticator" . }}{{ end }}
{{- with $c.faxback }}{{ $_ := set $e "faxback" (deepCopy .) }}{{ end }}
{{- with $c.rateLimit }}{{ $_ := set $e "rate_limit" (dict "requests_per_second" .requestsPerSecond "burst" (default .requestsPerSecond .burst)) }}{{ end }}
{{- with $c.dialogic }}{{ $_ := set $e "dialogic" (deepCopy .) }}{{ end }}
{{- with $c.firebrick }}
{{- $fb := omit . "nonceKeySecretRef" }}
{{- with .nonceKeySecretRef }}{{ $_ := set $fb "nonce_key_file" (include "kradius.nasSecretPath" .) }}{{ end }}
{{- $_ := set $e "firebrick" $fb }}
{{- end }}
{{- $_ := set $byName $c.name $e }}
{{- end }}
{{- range $name := keys $byName | sortAlpha }}
{{- $entries = append $entries (get $byName $name) }}
{{- end }}
{{- toYaml (dict "clients" $entries) }}
{{- end }}

{{/*
A pod's topology spread: the component's own constraints, or the shared
ones; a constraint without labelSelector gets the component's selector.
Call with (dict "ctx" $ "component" "edge").
*/}}
{{- define "kradius.topologySpread" -}}
{{- $c := index .ctx.Values .component }}
{{- $list := .ctx.Values.topologySpreadConstraints }}
{{- if not (kindIs "invalid" $c.topologySpreadConstraints) }}{{ $list = $c.topologySpreadConstraints }}{{ end }}
{{- $out := list }}
{{- range $list }}
{{- $t := deepCopy . }}
{{- if not (hasKey $t "labelSelector") }}
{{- $_ := set $t "labelSelector" (dict "matchLabels" (include "kradius.componentSelectorLabels" $ | fromYaml)) }}
{{- end }}
{{- $out = append $out $t }}
{{- end }}
{{- with $out }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/*
A client's Message-Authenticator policy, "" when unset. A bare `off` in the
values is YAML 1.1's false, which means off.
*/}}
{{- define "kradius.messageAuthenticator" -}}
{{- if kindIs "bool" .messageAuthenticator }}
{{- if not .messageAuthenticator }}off{{ end }}
{{- else }}
{{- .messageAuthenticator | default "" }}
{{- end }}
{{- end }}

{{/*
Labels of one component's pods: the selector's, and what the values add.
Not the chart's version: a chart upgrade that changes nothing of the pods
must not roll them. Call with (dict "ctx" $ "component" "edge").
*/}}
{{- define "kradius.podLabels" -}}
{{ include "kradius.componentSelectorLabels" . }}
app.kubernetes.io/part-of: kradius
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- with (index .ctx.Values .component).podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}
