package v1alpha1

import (
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Where, how many and how healthy: autoscaling, scheduling, probes and the
// disruption budget of a KalypsoTritonServer.

// Autoscaling configures a HorizontalPodAutoscaler.
// +kubebuilder:validation:XValidation:rule="self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not exceed maxReplicas"
// +kubebuilder:validation:XValidation:rule="has(self.targetCPUUtilizationPercentage) || has(self.queueTimeTargetMicroseconds)",message="autoscaling needs targetCPUUtilizationPercentage and/or queueTimeTargetMicroseconds"
type Autoscaling struct {
	// MinReplicas (default 1).
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MinReplicas int32 `json:"minReplicas,omitempty"`

	// MaxReplicas.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxReplicas int32 `json:"maxReplicas"`

	// TargetCPUUtilizationPercentage of the CPU request.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty"`

	// QueueTimeTargetMicroseconds targets the average queue time per request,
	// read as the Pods metric nv_inference_queue_duration_us_per_request that
	// a metrics adapter derives from Triton's nv_inference_queue_duration_us
	// and nv_inference_request_success counters.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=600000000
	QueueTimeTargetMicroseconds *int64 `json:"queueTimeTargetMicroseconds,omitempty"`
}

// Scheduling places the server's pods.
type Scheduling struct {
	// NodeSelector for the pods.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="scheduling.nodeSelector keys must be label keys ([prefix/]name)"
	NodeSelector map[string]LabelValue `json:"nodeSelector,omitempty"`
	// Tolerations for the pods. When GPUs are requested a toleration for the
	// nvidia.com/gpu taint is added unless one is given.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Tolerations []Toleration `json:"tolerations,omitempty"`
	// Affinity for the pods.
	// +optional
	Affinity *Affinity `json:"affinity,omitempty"`
	// TopologySpreadConstraints for the pods; their label selectors default
	// to the server's pods.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:XValidation:rule="self.all(c, self.exists_one(d, d.topologyKey == c.topologyKey && d.whenUnsatisfiable == c.whenUnsatisfiable))",message="scheduling.topologySpreadConstraints: a topologyKey and whenUnsatisfiable pair is given twice"
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// RuntimeClassName, e.g. nvidia.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	RuntimeClassName *string `json:"runtimeClassName,omitempty"`
	// PriorityClassName of the pods.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	PriorityClassName string `json:"priorityClassName,omitempty"`
}

// Probes tunes tritonserver's health checks.
type Probes struct {
	// StartupTimeoutSeconds is how long models may take to load before the
	// pod is restarted (default 1800).
	// +optional
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=86400
	StartupTimeoutSeconds *int32 `json:"startupTimeoutSeconds,omitempty"`
	// PeriodSeconds between startup and readiness checks (default 10); the
	// liveness check runs every 15 seconds, or this period when longer.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=300
	PeriodSeconds *int32 `json:"periodSeconds,omitempty"`
	// TimeoutSeconds of each check (default 5): raise it when Triton answers
	// health checks slowly under load.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=120
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
}

// PodDisruptionBudget configures the PDB created when replicas > 1.
type PodDisruptionBudget struct {
	// MaxUnavailable pods during voluntary disruptions (default 1).
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^(100|[1-9]?[0-9])%$')",message="podDisruptionBudget.maxUnavailable must be a count of at least 0 or a percentage from 0% to 100%"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// Rollout tunes the replacement of pods when the pod template changes.
// +kubebuilder:validation:XValidation:rule="!has(self.maxSurge) || !has(self.maxUnavailable) || !((type(self.maxSurge) == int ? self.maxSurge == 0 : self.maxSurge == '0%') && (type(self.maxUnavailable) == int ? self.maxUnavailable == 0 : self.maxUnavailable == '0%'))",message="rollout.maxSurge and rollout.maxUnavailable cannot both be zero"
type Rollout struct {
	// MaxSurge pods above the desired count during a rollout; set together
	// with maxUnavailable it overrides the quota-aware default.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^(100|[1-9]?[0-9])%$')",message="rollout.maxSurge must be a count of at least 0 or a percentage from 0% to 100%"
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`
	// MaxUnavailable pods during a rollout.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^(100|[1-9]?[0-9])%$')",message="rollout.maxUnavailable must be a count of at least 0 or a percentage from 0% to 100%"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
	// AllowDowntime lets a single-replica server whose quota has no room
	// for a surge pod roll by stopping its pod first. Without it such a
	// rollout is not started and the server reports Stalled with the numbers.
	// +optional
	AllowDowntime bool `json:"allowDowntime,omitempty"`
}
