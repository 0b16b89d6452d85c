package v1alpha1

// LocalObjectReference names an object in the same namespace as the object
// that holds the reference. There is deliberately no namespace field: a
// reference can never be turned into a read of another tenant's namespace.
// +structType=atomic
type LocalObjectReference struct {
	// Name of the referenced object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`
}

// Phase is a one-word summary of an object's conditions, for printer columns.
// Tools should read the conditions instead.
// +kubebuilder:validation:Enum=Pending;Ready;Progressing;Failed;Terminating
type Phase string

const (
	// PhasePending means the object waits for something outside it.
	PhasePending Phase = "Pending"
	// PhaseReady means the object is reconciled and serving.
	PhaseReady Phase = "Ready"
	// PhaseProgressing means the operator is moving the object to its spec.
	PhaseProgressing Phase = "Progressing"
	// PhaseFailed means the object cannot make progress without a spec change.
	PhaseFailed Phase = "Failed"
	// PhaseTerminating means the object is being deleted.
	PhaseTerminating Phase = "Terminating"
)
