{{- define "cairn-operator.fullname" -}}
{{ .Release.Name }}-cairn-operator
{{- end }}

{{- define "cairn-operator.serviceAccountName" -}}
{{ .Values.serviceAccount.name | default (include "cairn-operator.fullname" .) }}
{{- end }}

{{- define "cairn-operator.selectorLabels" -}}
app.kubernetes.io/name: cairn-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cairn-operator.labels" -}}
{{ include "cairn-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: cairn
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
