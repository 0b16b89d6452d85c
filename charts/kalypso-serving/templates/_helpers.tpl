{{/*
The prefix of every object's name: kalypso-serving unless fullnameOverride
says otherwise, whatever the release is called, so that the defaults give
the names config/ gives (and a kustomize installation can be adopted).
*/}}
{{- define "kalypso-serving.fullname" -}}
{{- default .Chart.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The manager's ServiceAccount and Deployment name. */}}
{{- define "kalypso-serving.managerName" -}}
{{- include "kalypso-serving.fullname" . }}-controller-manager
{{- end -}}

{{/* Labels of every object the chart owns. */}}
{{- define "kalypso-serving.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
Labels that select the manager's pods: the ones config/manager uses, since a
Deployment's selector cannot change once it exists.
*/}}
{{- define "kalypso-serving.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/component: manager
{{- end -}}

{{/* The manager image, pinned by digest when one is given. */}}
{{- define "kalypso-serving.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/*
The manager's flags, built from the values. A flag left empty (or null) is
not passed, so the manager's own default applies.
*/}}
{{- define "kalypso-serving.args" -}}
{{- $m := .Values.manager -}}
{{- $le := $m.leaderElection -}}
{{- if $le.enabled }}
- --leader-elect
{{- with $le.namespace }}
- --leader-election-namespace={{ . }}
{{- end }}
{{- with $le.leaseDuration }}
- --leader-elect-lease-duration={{ . }}
{{- end }}
{{- with $le.renewDeadline }}
- --leader-elect-renew-deadline={{ . }}
{{- end }}
{{- with $le.retryPeriod }}
- --leader-elect-retry-period={{ . }}
{{- end }}
{{- end }}
- --health-probe-bind-address=:{{ $m.healthProbePort }}
- --metrics-bind-address={{ if eq (int .Values.metrics.port) 0 }}0{{ else }}:{{ .Values.metrics.port }}{{ end }}
{{- if not .Values.metrics.secure }}
- --metrics-secure=false
{{- end }}
- --triton-access={{ $m.tritonAccess }}
{{- if not (kindIs "invalid" $m.kubeAPI.qps) }}
- --kube-api-qps={{ $m.kubeAPI.qps }}
{{- end }}
{{- if not (kindIs "invalid" $m.kubeAPI.burst) }}
- --kube-api-burst={{ int $m.kubeAPI.burst }}
{{- end }}
{{- if not (kindIs "invalid" $m.maxConcurrentReconciles) }}
- --max-concurrent-reconciles={{ int $m.maxConcurrentReconciles }}
{{- end }}
{{- with $m.modelStatusInterval }}
- --model-status-interval={{ . }}
{{- end }}
{{- with $m.tritonRequestTimeout }}
- --triton-request-timeout={{ . }}
{{- end }}
{{- with $m.tritonLoadTimeout }}
- --triton-load-timeout={{ . }}
{{- end }}
{{- with $m.pprofBindAddress }}
- --pprof-bind-address={{ . }}
{{- end }}
{{- with $m.log.level }}
- --zap-log-level={{ . }}
{{- end }}
{{- with $m.log.encoder }}
- --zap-encoder={{ . }}
{{- end }}
{{- with $m.log.stacktraceLevel }}
- --zap-stacktrace-level={{ . }}
{{- end }}
{{- with $m.log.timeEncoding }}
- --zap-time-encoding={{ . }}
{{- end }}
{{- range $m.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/*
A manifest kept in files/ (copied from config/ by `make manifests`), parsed.
Rendering fails when it is missing rather than installing half a chart.
*/}}
{{- define "kalypso-serving.file" -}}
{{- $content := .root.Files.Get .path -}}
{{- if not $content -}}
{{- fail (printf "%s is missing from the chart: run `make manifests`" .path) -}}
{{- end -}}
{{- $content -}}
{{- end -}}
