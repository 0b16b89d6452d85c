package v1alpha1

// ModelStatusReading tunes how the operator reads which models a server's
// pods serve: it asks each pod whose container is ready, on the pod's own IP
// and HTTP port, for Triton's repository index, when the pods change and on a
// jittered interval. Reading needs the operator's access to pods to be
// configured (see the manager's --triton-access flag); when it is not, the
// ModelsReady condition says so and Ready follows the Deployment alone.
type ModelStatusReading struct {
	// Enabled reads the model status of this server (default true). With
	// modelControl.mode explicit and reading off, the declared models are
	// passed to Triton as --load-model arguments at start instead.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// IntervalSeconds between two readings of a pod's index when nothing
	// changed (default 30; each reading waits a random extra of up to 10%).
	// +optional
	// +kubebuilder:validation:Minimum=5
	// +kubebuilder:validation:Maximum=3600
	IntervalSeconds *int32 `json:"intervalSeconds,omitempty"`
}

// ModelState is a model's state as Triton's repository index reports it.
// +kubebuilder:validation:Enum=READY;UNAVAILABLE;LOADING;UNLOADING;UNKNOWN
type ModelState string

// Model states, Triton's names.
const (
	ModelStateReady       ModelState = "READY"
	ModelStateUnavailable ModelState = "UNAVAILABLE"
	ModelStateLoading     ModelState = "LOADING"
	ModelStateUnloading   ModelState = "UNLOADING"
	ModelStateUnknown     ModelState = "UNKNOWN"
)

// MaxModelStatuses bounds status.models; MaxModelReasonBytes bounds a reason.
const (
	MaxModelStatuses    = 128
	MaxModelReasonBytes = 256
)

// ModelStatus is one model of a server as its ready pods report it.
type ModelStatus struct {
	// Name of the model in the repository.
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name"`

	// Versions of the model that Triton lists (at most 8).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=19
	Versions []string `json:"versions,omitempty"`

	// State is READY when every ready replica serves the model; otherwise
	// the state on the first replica (by pod name) that does not.
	State ModelState `json:"state"`

	// Reason Triton gives for a state other than READY, truncated.
	// +optional
	// +kubebuilder:validation:MaxLength=300
	Reason string `json:"reason,omitempty"`

	// ReadyReplicas is the number of the server's ready replicas serving it.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`

	// Declared is true for a model of modelControl.models.
	// +optional
	Declared bool `json:"declared,omitempty"`
}
