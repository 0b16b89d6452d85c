package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Pod fields of a KalypsoTritonServer. They have the JSON shape of their
// core/v1 counterparts, bounded and validated so that a spec the API server
// admits renders into a pod the API server admits too: a mistake is refused
// here, naming the field, instead of by the Deployment later.

// LabelValue is a label value: at most 63 letters, digits, '-', '_' or
// '.', starting and ending with a letter or digit.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
type LabelValue string

// LabelKey is a label key: [prefix/]name, the prefix a DNS subdomain and
// the name at most 63 letters, digits, '-', '_' or '.'.
// +kubebuilder:validation:MaxLength=317
// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`
type LabelKey string

// Toleration is a core/v1 Toleration.
// +kubebuilder:validation:XValidation:rule="has(self.key) || (has(self.operator) && self.operator == 'Exists')",message="a toleration without a key needs operator Exists"
// +kubebuilder:validation:XValidation:rule="!has(self.operator) || self.operator != 'Exists' || !has(self.value) || size(self.value) == 0",message="a toleration with operator Exists takes no value"
// +kubebuilder:validation:XValidation:rule="!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",message="tolerationSeconds needs effect NoExecute"
type Toleration struct {
	// Key of the taint; empty with operator Exists tolerates every taint.
	// +optional
	Key LabelKey `json:"key,omitempty"`
	// Operator: Equal (default) or Exists.
	// +optional
	// +kubebuilder:validation:Enum=Exists;Equal
	Operator corev1.TolerationOperator `json:"operator,omitempty"`
	// Value of the taint, for operator Equal.
	// +optional
	Value LabelValue `json:"value,omitempty"`
	// Effect to tolerate; empty means all.
	// +optional
	// +kubebuilder:validation:Enum=NoSchedule;PreferNoSchedule;NoExecute
	Effect corev1.TaintEffect `json:"effect,omitempty"`
	// TolerationSeconds bounds how long a NoExecute taint is tolerated.
	// +optional
	// +kubebuilder:validation:Minimum=0
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// TopologySpreadConstraint is a core/v1 TopologySpreadConstraint.
// +kubebuilder:validation:XValidation:rule="!has(self.minDomains) || self.whenUnsatisfiable == 'DoNotSchedule'",message="minDomains needs whenUnsatisfiable DoNotSchedule"
type TopologySpreadConstraint struct {
	// MaxSkew is the largest allowed difference of pod counts between domains.
	// +required
	// +kubebuilder:validation:Minimum=1
	MaxSkew int32 `json:"maxSkew"`
	// TopologyKey is the node label that defines a domain.
	// +required
	// +kubebuilder:validation:MinLength=1
	TopologyKey LabelKey `json:"topologyKey"`
	// WhenUnsatisfiable: DoNotSchedule or ScheduleAnyway.
	// +required
	// +kubebuilder:validation:Enum=DoNotSchedule;ScheduleAnyway
	WhenUnsatisfiable corev1.UnsatisfiableConstraintAction `json:"whenUnsatisfiable"`
	// LabelSelector of the pods counted; defaults to the server's pods.
	// +optional
	LabelSelector *LabelSelector `json:"labelSelector,omitempty"`
	// MinDomains is the least number of eligible domains.
	// +optional
	// +kubebuilder:validation:Minimum=1
	MinDomains *int32 `json:"minDomains,omitempty"`
	// NodeAffinityPolicy: Honor or Ignore.
	// +optional
	// +kubebuilder:validation:Enum=Honor;Ignore
	NodeAffinityPolicy *corev1.NodeInclusionPolicy `json:"nodeAffinityPolicy,omitempty"`
	// NodeTaintsPolicy: Honor or Ignore.
	// +optional
	// +kubebuilder:validation:Enum=Honor;Ignore
	NodeTaintsPolicy *corev1.NodeInclusionPolicy `json:"nodeTaintsPolicy,omitempty"`
	// MatchLabelKeys are pod label keys whose values narrow the selector.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	MatchLabelKeys []LabelKey `json:"matchLabelKeys,omitempty"`
}

// LabelSelector is a metav1.LabelSelector.
type LabelSelector struct {
	// MatchLabels are key/value pairs the labels must have.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="labelSelector.matchLabels keys must be label keys"
	MatchLabels map[string]LabelValue `json:"matchLabels,omitempty"`
	// MatchExpressions are requirements the labels must meet.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is a metav1.LabelSelectorRequirement.
// +kubebuilder:validation:XValidation:rule="self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",message="operators In and NotIn need values; Exists and DoesNotExist take none"
type LabelSelectorRequirement struct {
	// Key of the label.
	// +required
	// +kubebuilder:validation:MinLength=1
	Key LabelKey `json:"key"`
	// Operator: In, NotIn, Exists or DoesNotExist.
	// +required
	// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist
	Operator metav1.LabelSelectorOperator `json:"operator"`
	// Values for In and NotIn.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Values []LabelValue `json:"values,omitempty"`
}

// ContainerResources are the requests and limits of the tritonserver
// container.
// +kubebuilder:validation:XValidation:rule="(!has(self.requests) || self.requests.all(k, k in ['cpu', 'memory', 'ephemeral-storage'] || (k.contains('/') && !k.contains('kubernetes.io/')))) && (!has(self.limits) || self.limits.all(k, k in ['cpu', 'memory', 'ephemeral-storage'] || (k.contains('/') && !k.contains('kubernetes.io/'))))",message="resources: keys must be cpu, memory, ephemeral-storage or an extended resource such as example.com/device (hugepages are not supported)"
// +kubebuilder:validation:XValidation:rule="!has(self.requests) || self.requests.all(k, quantity(string(self.requests[k])).compareTo(quantity('0')) >= 0)",message="resources.requests: quantities must not be negative"
// +kubebuilder:validation:XValidation:rule="!has(self.limits) || self.limits.all(k, quantity(string(self.limits[k])).compareTo(quantity('0')) >= 0)",message="resources.limits: quantities must not be negative"
// +kubebuilder:validation:XValidation:rule="!has(self.requests) || self.requests.all(k, k == 'cpu' || quantity(string(self.requests[k])).isInteger())",message="resources.requests: memory, ephemeral-storage and extended resources are whole numbers (no m suffix or fraction of a byte)"
// +kubebuilder:validation:XValidation:rule="!has(self.limits) || self.limits.all(k, k == 'cpu' || quantity(string(self.limits[k])).isInteger())",message="resources.limits: memory, ephemeral-storage and extended resources are whole numbers (no m suffix or fraction of a byte)"
// +kubebuilder:validation:XValidation:rule="!has(self.requests) || !has(self.limits) || self.requests.all(k, !(k in self.limits) || quantity(string(self.requests[k])).compareTo(quantity(string(self.limits[k]))) <= 0)",message="resources: a request must not exceed its limit"
// +kubebuilder:validation:XValidation:rule="!has(self.requests) || self.requests.all(k, !k.contains('/') || (has(self.limits) && k in self.limits && quantity(string(self.requests[k])).compareTo(quantity(string(self.limits[k]))) == 0))",message="resources: an extended resource cannot be overcommitted: give it a limit equal to its request"
type ContainerResources struct {
	// Limits of the container.
	// +optional
	// +kubebuilder:validation:MaxProperties=7
	Limits corev1.ResourceList `json:"limits,omitempty"`
	// Requests of the container; a missing request defaults to its limit.
	// +optional
	// +kubebuilder:validation:MaxProperties=7
	Requests corev1.ResourceList `json:"requests,omitempty"`
}

// EnvVar is a core/v1 EnvVar: a value, or a value from a key of a Secret or
// ConfigMap of the server's namespace, or from a field of the pod.
// +kubebuilder:validation:XValidation:rule="!has(self.valueFrom) || !has(self.value) || size(self.value) == 0",message="env[]: give value or valueFrom, not both"
type EnvVar struct {
	// Name of the variable: printable ASCII other than '='.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[ -<>-~]+$`
	Name string `json:"name"`
	// Value of the variable.
	// +optional
	// +kubebuilder:validation:MaxLength=32768
	Value string `json:"value,omitempty"`
	// ValueFrom takes the value from a Secret, a ConfigMap or the pod.
	// +optional
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// EnvVarSource is one source of a variable's value.
// +kubebuilder:validation:XValidation:rule="[has(self.secretKeyRef), has(self.configMapKeyRef), has(self.fieldRef)].filter(x, x).size() == 1",message="env[].valueFrom needs exactly one of secretKeyRef, configMapKeyRef and fieldRef"
type EnvVarSource struct {
	// SecretKeyRef selects a key of a Secret in the server's namespace.
	// +optional
	SecretKeyRef *KeySelector `json:"secretKeyRef,omitempty"`
	// ConfigMapKeyRef selects a key of a ConfigMap in the server's namespace.
	// +optional
	ConfigMapKeyRef *KeySelector `json:"configMapKeyRef,omitempty"`
	// FieldRef selects a field of the pod.
	// +optional
	FieldRef *FieldSelector `json:"fieldRef,omitempty"`
}

// KeySelector names a key of a Secret or ConfigMap.
type KeySelector struct {
	// Name of the Secret or ConfigMap.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
	// Key in it.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
	// Optional: the variable is left unset when the key is missing.
	// +optional
	Optional *bool `json:"optional,omitempty"`
}

// FieldSelector selects a field of the pod.
type FieldSelector struct {
	// FieldPath, one of the pod fields Kubernetes exposes to variables.
	// +required
	// +kubebuilder:validation:Enum=metadata.name;metadata.namespace;metadata.uid;spec.nodeName;spec.serviceAccountName;status.hostIP;status.hostIPs;status.podIP;status.podIPs
	FieldPath string `json:"fieldPath"`
}
