package render

import (
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// ownerReference makes the server the controller of a child, so garbage
// collection removes the child with the server and the child's events wake
// the server's reconciler.
func ownerReference(srv *servingv1alpha1.KalypsoTritonServer) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(servingv1alpha1.GroupVersion.String()).
		WithKind("KalypsoTritonServer").
		WithName(srv.Name).
		WithUID(srv.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}
