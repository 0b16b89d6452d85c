package render

import (
	"encoding/json"
	"fmt"

	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// convert turns a typed Kubernetes value into its apply configuration. Both
// share JSON field names, so a JSON round trip is exact; the user-supplied
// parts (affinity, tolerations, ...) pass through unchanged.
func convert[T any](v any) *T {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("render: marshalling %T: %v", v, err))
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		panic(fmt.Sprintf("render: unmarshalling into %T: %v", out, err))
	}
	return out
}

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
