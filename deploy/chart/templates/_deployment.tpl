{{/*
One component's Deployment (scheduler or worker); call with (list $ "worker" $componentEnv).
The image's entry point is `herdless`; args pick the command and add extraArgs, which win over
the environment (a flag wins over its HERDLESS_* variable).
*/}}
{{- define "herdless.deployment" -}}
{{- $ := index . 0 -}}
{{- $component := index . 1 -}}
{{- $componentEnv := index . 2 -}}
{{- $v := index $.Values $component -}}
{{- $r := $.Values.redis -}}
{{- $autoscaled := and (eq $component "worker") (or $v.autoscaling.enabled $v.keda.enabled) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "herdless.componentName" (list $ $component) }}
  namespace: {{ $.Release.Namespace }}
  labels: {{- include "herdless.componentLabels" (list $ $component) | nindent 4 }}
  {{- with $v.deploymentAnnotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- if not $autoscaled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: {{ $v.revisionHistoryLimit }}
  selector:
    matchLabels: {{- include "herdless.selectorLabels" (list $ $component) | nindent 6 }}
  {{- with $v.strategy }}
  strategy: {{- toYaml . | nindent 4 }}
  {{- end }}
  template:
    metadata:
      labels:
        {{- include "herdless.componentLabels" (list $ $component) | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $v.podAnnotations }}
      annotations: {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "herdless.serviceAccountName" (list $ $component) }}
      automountServiceAccountToken: true
      {{- with $.Values.imagePullSecrets }}
      imagePullSecrets: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . | quote }}
      {{- end }}
      securityContext: {{- toYaml $v.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with $v.nodeSelector }}
      nodeSelector: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.topologySpreadConstraints }}
      {{- $selector := dict "labelSelector" (dict "matchLabels" (include "herdless.selectorLabels" (list $ $component) | fromYaml)) }}
      {{- $constraints := list }}
      {{- range . }}
      {{- $constraints = append $constraints (merge (dict) . $selector) }}
      {{- end }}
      topologySpreadConstraints: {{- toYaml $constraints | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $component }}
          image: {{ include "herdless.image" $ | quote }}
          imagePullPolicy: {{ $.Values.image.pullPolicy }}
          args:
            - {{ $component }}
            {{- range $v.extraArgs }}
            - {{ . | quote }}
            {{- end }}
          env:
            {{- include "herdless.redisEnv" $ | nindent 12 }}
            {{- include "herdless.sharedEnv" $ | nindent 12 }}
            {{- with $v.kubeApiQps }}
            - name: HERDLESS_KUBE_API_QPS
              value: {{ . | quote }}
            {{- end }}
            {{- with $v.kubeApiBurst }}
            - name: HERDLESS_KUBE_API_BURST
              value: {{ . | quote }}
            {{- end }}
            {{- $componentEnv | nindent 12 }}
            - name: NODE_ENV
              value: production
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: metrics
              containerPort: {{ $.Values.metrics.port }}
              protocol: TCP
          {{- with $v.livenessProbe }}
          livenessProbe:
            httpGet: { path: /healthz, port: metrics }
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $v.readinessProbe }}
          readinessProbe:
            httpGet: { path: /readyz, port: metrics }
            {{- toYaml . | nindent 12 }}
          {{- end }}
          resources: {{- toYaml $v.resources | nindent 12 }}
          securityContext: {{- toYaml $v.securityContext | nindent 12 }}
          {{- if or (and $r.tls.enabled (or $r.tls.caSecret.name $r.tls.clientCertSecret.name)) $v.extraVolumeMounts }}
          volumeMounts:
            {{- if and $r.tls.enabled $r.tls.caSecret.name }}
            - { name: redis-tls-ca, mountPath: {{ printf "%s/ca" (include "herdless.redisTlsDir" $) }}, readOnly: true }
            {{- end }}
            {{- if and $r.tls.enabled $r.tls.clientCertSecret.name }}
            - { name: redis-tls-client, mountPath: {{ printf "%s/client" (include "herdless.redisTlsDir" $) }}, readOnly: true }
            {{- end }}
            {{- with $v.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- end }}
      {{- if or (and $r.tls.enabled (or $r.tls.caSecret.name $r.tls.clientCertSecret.name)) $v.extraVolumes }}
      volumes:
        {{- if and $r.tls.enabled $r.tls.caSecret.name }}
        - name: redis-tls-ca
          secret: { secretName: {{ $r.tls.caSecret.name | quote }}, items: [{ key: {{ $r.tls.caSecret.key | quote }}, path: {{ $r.tls.caSecret.key | quote }} }] }
        {{- end }}
        {{- if and $r.tls.enabled $r.tls.clientCertSecret.name }}
        - name: redis-tls-client
          secret: { secretName: {{ $r.tls.clientCertSecret.name | quote }} }
        {{- end }}
        {{- with $v.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
{{- end -}}
