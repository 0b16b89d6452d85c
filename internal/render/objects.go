package render

import (
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kalypsoserving/kalypso-serving/internal/apply"
)

// Child kinds of a KalypsoTritonServer, in apply order.
var (
	DeploymentGVK     = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	ServiceGVK        = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	PDBGVK            = schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"}
	HPAGVK            = schema.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}
	ServiceMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}
)

// Child is one rendered child: its kind, and the object to apply, or nil
// when the spec does not want this kind (and an existing one is deleted).
type Child struct {
	GVK    schema.GroupVersionKind
	Object *unstructured.Unstructured
}

// Children renders every child kind of the server, in apply order. An
// *InvalidSpecError or *InvalidStorageError means the spec cannot work.
func Children(in Input) ([]Child, error) {
	dep, err := Deployment(in)
	if err != nil {
		return nil, err
	}
	out := make([]Child, 0, 5)
	for _, c := range []struct {
		gvk schema.GroupVersionKind
		obj any
	}{
		{DeploymentGVK, dep},
		{ServiceGVK, Service(in)},
		{PDBGVK, PodDisruptionBudget(in)},
		{HPAGVK, HorizontalPodAutoscaler(in)},
		{ServiceMonitorGVK, ServiceMonitor(in)},
	} {
		child := Child{GVK: c.gvk}
		if !isNil(c.obj) {
			u, err := apply.ToUnstructured(c.obj)
			if err != nil {
				return nil, fmt.Errorf("render %s: %w", c.gvk.Kind, err)
			}
			u.SetGroupVersionKind(c.gvk)
			child.Object = u
		}
		out = append(out, child)
	}
	return out, nil
}

// isNil reports whether a renderer returned a typed nil pointer.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
