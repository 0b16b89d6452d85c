// Package v1alpha1 contains the KalypsoServing API: KalypsoProject (a tenant
// workspace made of governed environment namespaces), KalypsoApplication (what
// the servers of one application share) and KalypsoTritonServer (one Triton
// Inference Server deployment).
//
// +kubebuilder:object:generate=true
// +groupName=serving.kalypso.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "serving.kalypso.io", Version: "v1alpha1"}

	// SchemeBuilder is used to add go types to the GroupVersionKind scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
