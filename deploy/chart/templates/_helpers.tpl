{{/*
Names. A namespaced object is <fullname>-<component>; a cluster-scoped one (ClusterRole,
ClusterRoleBinding) carries the release namespace too, so two releases of the same name in
different namespaces never collide.
*/}}
{{- define "herdless.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herdless.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<component>; call with (list $ "worker"). */}}
{{- define "herdless.componentName" -}}
{{- printf "%s-%s" (include "herdless.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{/* Cluster-scoped names: <namespace>-<fullname>-<component>. */}}
{{- define "herdless.clusterName" -}}
{{- $ := index . 0 -}}
{{- printf "%s-%s-%s" $.Release.Namespace (include "herdless.fullname" $) (index . 1) -}}
{{- end -}}

{{- define "herdless.serviceAccountName" -}}
{{- $ := index . 0 -}}
{{- $sa := (index $.Values (index . 1)).serviceAccount -}}
{{- if $sa.create -}}
{{- default (include "herdless.componentName" .) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{- define "herdless.leaseName" -}}
{{- default (include "herdless.componentName" (list . "scheduler")) .Values.scheduler.leaseName -}}
{{- end -}}

{{- define "herdless.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "herdless.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: herdless
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of one component's objects; call with (list $ "worker"). */}}
{{- define "herdless.componentLabels" -}}
{{ include "herdless.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "herdless.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herdless.name" (index . 0) }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "herdless.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* "aws-sm=50,aws-ps=8" from the budgets map, keys sorted (the flag's syntax). */}}
{{- define "herdless.budgets" -}}
{{- $pairs := list -}}
{{- range $type, $rps := .Values.budgets -}}
{{- $pairs = append $pairs (printf "%s=%v" $type $rps) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{- define "herdless.namespaceShards" -}}
{{- $pairs := list -}}
{{- range $ns, $shard := .Values.namespaceShards -}}
{{- $pairs = append $pairs (printf "%s=%s" $ns $shard) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* host:port of a standalone Redis: from redis.url, else host and port (also when the URL is in a Secret). */}}
{{- define "herdless.redisAddress" -}}
{{- if .Values.redis.url -}}
{{- (urlParse .Values.redis.url).host -}}
{{- else -}}
{{- printf "%s:%v" .Values.redis.host .Values.redis.port -}}
{{- end -}}
{{- end -}}

{{- define "herdless.redisTlsDir" -}}/etc/herdless/redis-tls{{- end -}}

{{/*
Redis for the processes, as core's config names it: HERDLESS_REDIS_URL (standalone), and the
HERDLESS_REDIS_* variables for the password, TLS, Sentinel and Cluster. Passwords only ever
come from existing Secrets (secretKeyRef), never from a value.
*/}}
{{- define "herdless.redisEnv" -}}
{{- $r := .Values.redis -}}
- name: HERDLESS_REDIS_MODE
  value: {{ $r.mode | quote }}
{{- if eq $r.mode "standalone" }}
{{- if $r.urlSecret.name }}
- name: HERDLESS_REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ $r.urlSecret.name | quote }}, key: {{ $r.urlSecret.key | quote }} } }
{{- else if $r.url }}
- name: HERDLESS_REDIS_URL
  value: {{ $r.url | quote }}
{{- else }}
- name: HERDLESS_REDIS_URL
  value: {{ printf "%s://%s:%v/%v" (ternary "rediss" "redis" $r.tls.enabled) $r.host $r.port $r.db | quote }}
{{- end }}
{{- else if eq $r.mode "sentinel" }}
- name: HERDLESS_REDIS_SENTINEL_MASTER_NAME
  value: {{ $r.sentinel.masterName | quote }}
- name: HERDLESS_REDIS_SENTINELS
  value: {{ join "," $r.sentinel.nodes | quote }}
- name: HERDLESS_REDIS_DB
  value: {{ $r.db | quote }}
{{- if $r.sentinel.auth.existingSecret }}
- name: HERDLESS_REDIS_SENTINEL_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $r.sentinel.auth.existingSecret | quote }}, key: {{ $r.sentinel.auth.passwordKey | quote }} } }
{{- end }}
{{- else if eq $r.mode "cluster" }}
- name: HERDLESS_REDIS_CLUSTER_NODES
  value: {{ join "," $r.cluster.nodes | quote }}
{{- end }}
{{- if $r.auth.username }}
- name: HERDLESS_REDIS_USERNAME
  value: {{ $r.auth.username | quote }}
{{- end }}
{{- if $r.auth.existingSecret }}
- name: HERDLESS_REDIS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $r.auth.existingSecret | quote }}, key: {{ $r.auth.passwordKey | quote }} } }
{{- end }}
{{- if $r.tls.enabled }}
- name: HERDLESS_REDIS_TLS
  value: "true"
{{- if $r.tls.caSecret.name }}
- name: HERDLESS_REDIS_TLS_CA_FILE
  value: {{ printf "%s/ca/%s" (include "herdless.redisTlsDir" .) $r.tls.caSecret.key | quote }}
{{- end }}
{{- if $r.tls.clientCertSecret.name }}
- name: HERDLESS_REDIS_TLS_CERT_FILE
  value: {{ printf "%s/client/tls.crt" (include "herdless.redisTlsDir" .) | quote }}
- name: HERDLESS_REDIS_TLS_KEY_FILE
  value: {{ printf "%s/client/tls.key" (include "herdless.redisTlsDir" .) | quote }}
{{- end }}
{{- if $r.tls.serverName }}
- name: HERDLESS_REDIS_TLS_SERVER_NAME
  value: {{ $r.tls.serverName | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* "team-a=2,batch=0.5" from a map of namespaces (the --namespace-weights and --namespace-caps syntax), keys sorted. */}}
{{- define "herdless.namespacePairs" -}}
{{- $pairs := list -}}
{{- range $ns, $v := . -}}
{{- $pairs = append $pairs (printf "%s=%v" $ns $v) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* Settings scheduler and workers must agree on (the planner plans by them, the limiter holds to them). */}}
{{- define "herdless.sharedEnv" -}}
- name: HERDLESS_QUEUE_PREFIX
  value: {{ .Values.queuePrefix | quote }}
- name: HERDLESS_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: HERDLESS_METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
- name: HERDLESS_TARGET_UTILISATION
  value: {{ .Values.targetUtilisation | quote }}
- name: HERDLESS_RESERVED_SHARE
  value: {{ .Values.reservedShare | quote }}
{{- with .Values.budgets }}
- name: HERDLESS_BUDGETS
  value: {{ include "herdless.budgets" $ | quote }}
{{- end }}
{{- with .Values.namespaceWeights }}
- name: HERDLESS_NAMESPACE_WEIGHTS
  value: {{ include "herdless.namespacePairs" . | quote }}
{{- end }}
{{- with .Values.namespaceCaps }}
- name: HERDLESS_NAMESPACE_CAPS
  value: {{ include "herdless.namespacePairs" . | quote }}
{{- end }}
{{- with .Values.watchNamespace }}
- name: HERDLESS_WATCH_NAMESPACE
  value: {{ . | quote }}
{{- end }}
{{- with .Values.controllerClass }}
- name: HERDLESS_CONTROLLER_CLASS
  value: {{ . | quote }}
{{- end }}
{{- with .Values.aws.endpoint }}
- name: HERDLESS_AWS_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with .Values.aws.region }}
- name: AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with .Values.otelEndpoint }}
- name: HERDLESS_OTEL_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Values the schema cannot check alone. */}}
{{- define "herdless.validate" -}}
{{- if and .Values.worker.autoscaling.enabled .Values.worker.keda.enabled -}}
{{- fail "worker.autoscaling.enabled and worker.keda.enabled: choose one (KEDA's ScaledObject makes its own HorizontalPodAutoscaler)" -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) -}}
{{- fail "metrics.serviceMonitor.enabled needs metrics.service.enabled (a ServiceMonitor selects the metrics Service)" -}}
{{- end -}}
{{- range $ns, $shard := .Values.namespaceShards -}}
{{- if not (has $shard $.Values.shards) -}}
{{- fail (printf "namespaceShards.%s: expected one of shards (%s), found %s" $ns (join ", " $.Values.shards) $shard) -}}
{{- end -}}
{{- end -}}
{{- end -}}
