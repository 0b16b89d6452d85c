package tritonserver

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// reclaimPorts returns the hook that runs before a child's apply: it removes
// a port that another field manager added or edited under the name of a
// port the operator renders (`kubectl edit` of a Service's port number does
// this). Ports are keyed by number, so the apply would add the operator's
// port next to it and be refused for the duplicate name; the server could
// never heal. Ports under other names are left alone.
func (r *Reconciler) reclaimPorts(srv *servingv1alpha1.KalypsoTritonServer) apply.BeforeApply {
	return func(ctx context.Context, live client.Object, desired *unstructured.Unstructured) error {
		patch := collidingPortsPatch(live, desired)
		if patch == nil {
			return nil
		}
		data, err := json.Marshal(patch)
		if err != nil {
			return err
		}
		log.FromContext(ctx).Info("removing ports another manager set under the operator's port names", "kind", desired.GetKind(), "name", live.GetName())
		if err := r.Patch(ctx, live, client.RawPatch(types.StrategicMergePatchType, data), client.FieldOwner(render.FieldOwner)); err != nil {
			return fmt.Errorf("removing colliding ports of %s %s: %w", desired.GetKind(), live.GetName(), err)
		}
		r.Recorder.Eventf(srv, live, corev1.EventTypeWarning, servingv1alpha1.EventReasonPortsReclaimed, "Reconcile",
			"%s %s: removed ports another manager set under the names of the server's ports", desired.GetKind(), live.GetName())
		return nil
	}
}

// collidingPortsPatch is the strategic merge patch deleting the live ports
// that take the name of a rendered port with another number; nil when none.
func collidingPortsPatch(live client.Object, desired *unstructured.Unstructured) map[string]any {
	switch l := live.(type) {
	case *corev1.Service:
		want, _, _ := unstructured.NestedSlice(desired.Object, "spec", "ports")
		var drop []any
		for _, p := range l.Spec.Ports {
			if collides(want, "port", p.Name, int64(p.Port)) {
				drop = append(drop, map[string]any{"port": p.Port, "$patch": "delete"})
			}
		}
		if len(drop) > 0 {
			return map[string]any{"spec": map[string]any{"ports": drop}}
		}
	case *appsv1.Deployment:
		containers, _, _ := unstructured.NestedSlice(desired.Object, "spec", "template", "spec", "containers")
		var patched []any
		for _, c := range l.Spec.Template.Spec.Containers {
			want := portsOf(containers, c.Name)
			var drop []any
			for _, p := range c.Ports {
				if collides(want, "containerPort", p.Name, int64(p.ContainerPort)) {
					drop = append(drop, map[string]any{"containerPort": p.ContainerPort, "$patch": "delete"})
				}
			}
			if len(drop) > 0 {
				patched = append(patched, map[string]any{"name": c.Name, "ports": drop})
			}
		}
		if len(patched) > 0 {
			return map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": patched}}}}
		}
	}
	return nil
}

// collides reports whether a live port (name, number) takes the name of a
// wanted port with another number.
func collides(want []any, numberField, name string, number int64) bool {
	for _, w := range want {
		m, ok := w.(map[string]any)
		if !ok || name == "" || m["name"] != name {
			continue
		}
		wn, _, _ := unstructured.NestedFieldNoCopy(m, numberField)
		if fmt.Sprint(wn) != fmt.Sprint(number) {
			return true
		}
	}
	return false
}

// portsOf returns the rendered ports of the named container.
func portsOf(containers []any, name string) []any {
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == name {
			ports, _ := m["ports"].([]any)
			return ports
		}
	}
	return nil
}
