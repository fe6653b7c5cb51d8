{{/* The chart's name. */}}
{{- define "rollouts.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name: the release name, prefixed with the chart's unless it contains it. */}}
{{- define "rollouts.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "rollouts.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The name of the controller's objects (Deployment, ClusterRole, Roles, bindings). */}}
{{- define "rollouts.controller" -}}
{{- printf "%s-controller" (include "rollouts.fullname" .) -}}
{{- end -}}

{{- define "rollouts.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rollouts.controller" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "rollouts.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollouts.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "rollouts.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "rollouts.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: argo-py-rollouts
{{- end -}}

{{/*
What the controllers read and write in the namespaces they watch: exactly the requests they make
(tests/integration/test_rbac.py checks deploy/clusterrole.yaml against them, and the chart against that file).
docs/install.md says what each permission is for.
*/}}
{{- define "rollouts.namespacedRules" -}}
- apiGroups: [argoproj.io]
  resources: [rollouts]
  verbs: [list, watch, patch]
- apiGroups: [argoproj.io]
  resources: [rollouts/status]
  verbs: [patch]
- apiGroups: [argoproj.io]
  resources: [analysisruns]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [argoproj.io]
  resources: [analysisruns/status]
  verbs: [patch]
- apiGroups: [argoproj.io]
  resources: [experiments]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [argoproj.io]
  resources: [experiments/status]
  verbs: [patch]
- apiGroups: [argoproj.io]
  resources: [analysistemplates]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [networking.istio.io]
  resources: [virtualservices, destinationrules]
  verbs: [list, watch, patch]
# NGINX routing: the canary Ingress beside each stable one; Gateway API routing: HTTPRoute backendRef weights.
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [list, watch, create, patch]
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes]
  verbs: [list, watch, patch]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
- apiGroups: [argoproj.io]
  resources: [applications]
  verbs: [list, watch, create, update, patch, delete]
- apiGroups: [argoproj.io]
  resources: [applicationsets]
  verbs: [list, watch]
- apiGroups: [argoproj.io]
  resources: [applicationsets/status]
  verbs: [patch]
- apiGroups: [argoproj.io]
  resources: [appprojects]
  verbs: [list, watch, create]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [podtemplates]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [list, create, patch]
{{- end -}}

{{/* What only exists at cluster scope: granted only when the controller watches every namespace. */}}
{{- define "rollouts.clusterRules" -}}
- apiGroups: [argoproj.io]
  resources: [clusteranalysistemplates]
  verbs: [get, list, watch]
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
{{- end -}}
