package render

import (
	"fmt"
	"reflect"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

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

// Child is one rendered child of a server or an environment: its kind and
// key, and the object to apply, or nil when the spec does not want it (an
// existing one is deleted). It is the apply engine's child type.
type Child = apply.Child

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
		child, err := newChild(c.gvk, types.NamespacedName{Namespace: in.Server.Namespace, Name: in.Server.Name}, c.obj)
		if err != nil {
			return nil, err
		}
		out = append(out, child)
	}
	return out, nil
}

// newChild converts a rendered object (an apply configuration or a typed
// ServiceMonitor, or nil for absent) into a Child of the given kind.
func newChild(gvk schema.GroupVersionKind, key types.NamespacedName, obj any) (Child, error) {
	child := Child{GVK: gvk, Key: key}
	if isNil(obj) {
		return child, nil
	}
	u, err := apply.ToUnstructured(obj)
	if err != nil {
		return child, fmt.Errorf("render %s: %w", gvk.Kind, err)
	}
	if _, typed := obj.(*monitoringv1.ServiceMonitor); typed {
		// A typed struct (no apply configuration exists in the API module)
		// marshals empty values: drop them so the apply claims none.
		prune(u.Object)
	}
	u.SetGroupVersionKind(gvk)
	child.Object = u
	return child, nil
}

// isNil reports whether a renderer returned a typed nil pointer.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
