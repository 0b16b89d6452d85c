// Package v1alpha1 contains the KalypsoServing API: KalypsoProject (a tenant
// workspace made of governed environment namespaces), KalypsoApplication (what
// the servers of one application share) and KalypsoTritonServer (one Triton
// Inference Server deployment).
//
// +kubebuilder:object:generate=true
// +groupName=serving.kalypso.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "serving.kalypso.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this group-version.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&KalypsoProject{}, &KalypsoProjectList{},
		&KalypsoApplication{}, &KalypsoApplicationList{},
		&KalypsoTritonServer{}, &KalypsoTritonServerList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
