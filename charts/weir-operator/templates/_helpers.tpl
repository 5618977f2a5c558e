{{/* Chart name, overridable with nameOverride. */}}
{{- define "weir-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name: fullnameOverride, else the release name when it already contains the chart
name, else <release>-<chart>; at most 63 characters (DNS label).
*/}}
{{- define "weir-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* name-version, the helm.sh/chart label. */}}
{{- define "weir-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "weir-operator.labels" -}}
helm.sh/chart: {{ include "weir-operator.chart" . }}
{{ include "weir-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: weir
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the operator pods; never change them (Deployment selectors are immutable). */}}
{{- define "weir-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weir-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "weir-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "weir-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator image, repository:tag (tag defaults to the appVersion). */}}
{{- define "weir-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Lease the replicas elect their leader through. */}}
{{- define "weir-operator.leaseName" -}}
{{- default (include "weir-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* Name of the ConfigMap holding job-defaults.yaml. */}}
{{- define "weir-operator.jobDefaultsName" -}}
{{- printf "%s-job-defaults" (include "weir-operator.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The rules the operator needs on StreamJobs and their children, in every namespace it watches. Leases are
separate (weir-operator.leaseRules), granted in the release namespace only.
*/}}
{{- define "weir-operator.watchRules" -}}
- apiGroups: ["weir.dev"]
  resources: ["streamjobs"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["weir.dev"]
  resources: ["streamjobs/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["weir.dev"]
  resources: ["streamjobs/finalizers"]
  verbs: ["update"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  # delete: a teardown removes the job's pods at once, so the next deployment never overlaps them
  verbs: ["get", "list", "watch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* Milliseconds of a duration string such as 1m30s (the schema has checked its form). */}}
{{- define "weir-operator.durationMs" -}}
{{- $units := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 }}
{{- $total := 0 }}
{{- range $part := regexFindAll "[0-9]+(ms|s|m|h)" . -1 }}
{{- $n := regexFind "^[0-9]+" $part | atoi }}
{{- $total = add $total (mul $n (get $units (regexReplaceAll "^[0-9]+" $part ""))) }}
{{- end }}
{{- $total }}
{{- end }}

{{/*
Checks across values that values.schema.json cannot express; fails naming the fields. Leader election needs
leaseDuration > renewDeadline > retryPeriod (as client-go and the operator's elector require).
*/}}
{{- define "weir-operator.validate" -}}
{{- $le := .Values.leaderElection }}
{{- $lease := include "weir-operator.durationMs" $le.leaseDuration | atoi }}
{{- $renew := include "weir-operator.durationMs" $le.renewDeadline | atoi }}
{{- $retry := include "weir-operator.durationMs" $le.retryPeriod | atoi }}
{{- if le $lease $renew }}
{{- fail (printf "leaderElection.renewDeadline (%s) must be shorter than leaderElection.leaseDuration (%s)" $le.renewDeadline $le.leaseDuration) }}
{{- end }}
{{- if le $renew $retry }}
{{- fail (printf "leaderElection.retryPeriod (%s) must be shorter than leaderElection.renewDeadline (%s)" $le.retryPeriod $le.renewDeadline) }}
{{- end }}
{{- if and (not .Values.serviceAccount.create) .Values.rbac.create (not .Values.serviceAccount.name) }}
{{- fail "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false and rbac.create is true (the bindings would grant the namespace's default ServiceAccount)" }}
{{- end }}
{{- end }}
