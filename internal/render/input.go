package render

import (
	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// FieldOwner is the server-side apply field manager of every child.
const FieldOwner = "kalypso-serving"

// Label keys set on every child.
const (
	LabelName         = "app.kubernetes.io/name"
	LabelInstance     = "app.kubernetes.io/instance"
	LabelManagedBy    = "app.kubernetes.io/managed-by"
	LabelComponent    = "app.kubernetes.io/component"
	LabelTritonServer = "kalypso-serving.io/tritonserver"
	LabelApplication  = "kalypso-serving.io/application"
	LabelProject      = "kalypso-serving.io/project"
	LabelEnvironment  = "kalypso-serving.io/environment"

	// ManagedByValue marks objects this operator created.
	ManagedByValue = "kalypso-serving"
	// NameValue is the app.kubernetes.io/name of a Triton server's children.
	NameValue = "tritonserver"
)

// AnnotationStorageSecret carries a digest of the storage Secret's identity
// and version (never its values) so that pods roll when credentials change.
const AnnotationStorageSecret = "kalypso-serving.io/storage-secret-version"

// Input is everything a server's children depend on.
type Input struct {
	// Server is the KalypsoTritonServer, with API defaults applied.
	Server *servingv1alpha1.KalypsoTritonServer
	// Application is the referenced KalypsoApplication.
	Application *servingv1alpha1.KalypsoApplication
	// SecretVersion identifies the current version of the storage Secret
	// (e.g. its resourceVersion); empty without a Secret.
	SecretVersion string
	// OperatorLoadsModels is true when the operator reads this server's
	// pods and so loads the models of mode explicit through Triton's API:
	// the pod template then carries no --load-model (editing the set restarts
	// no pod) and a readiness gate the operator sets once a pod serves the set.
	OperatorLoadsModels bool
}

// ModelsReadyGate is the pod readiness gate of a server whose declared
// models the operator loads: a pod receives traffic only once it is True.
const ModelsReadyGate = "serving.kalypso.io/models-ready"

// ReadsModels reports whether the spec lets the operator read the server's
// model status (spec.modelStatus.enabled, default true).
func ReadsModels(spec servingv1alpha1.KalypsoTritonServerSpec) bool {
	return spec.ModelStatus == nil || spec.ModelStatus.Enabled == nil || *spec.ModelStatus.Enabled
}

// LoadsModels reports whether the operator loads the server's models itself.
func LoadsModels(in Input) bool {
	mc := in.Server.Spec.TritonConfig.ModelControl
	return in.OperatorLoadsModels && mc != nil && mc.Mode == servingv1alpha1.ModelControlExplicit
}

// Labels returns the labels of every child of the server.
func Labels(in Input) map[string]string {
	l := SelectorLabels(in.Server.Name)
	l[LabelManagedBy] = ManagedByValue
	l[LabelApplication] = in.Server.Spec.ApplicationRef.Name
	return l
}

// SelectorLabels selects a server's pods. Only labels derived from the
// server's name are used: they can never change, so a selector never has to.
func SelectorLabels(server string) map[string]string {
	return map[string]string{
		LabelName:         NameValue,
		LabelInstance:     server,
		LabelTritonServer: server,
	}
}
