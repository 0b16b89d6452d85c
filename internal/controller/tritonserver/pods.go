package tritonserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/index"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/modelsync"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// serverPods lists the server's pods from the pod cache (labelled by the
// operator, stripped to what is read). A pod counts only when its
// controller is a ReplicaSet named after the server's Deployment and the
// pod's template hash, the name the Deployment controller gives it; a pod
// that merely copies the labels is never asked.
func (r *Reconciler) serverPods(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer) ([]corev1.Pod, error) {
	var list corev1.PodList
	// By the server index: a label selector would scan every pod of the namespace.
	if err := r.List(ctx, &list, client.InNamespace(srv.Namespace), client.MatchingFields{index.PodServer: srv.Name}); err != nil {
		return nil, fmt.Errorf("listing the pods of %s: %w", srv.Name, err)
	}
	out := list.Items[:0]
	for _, p := range list.Items {
		if p.Labels[render.LabelInstance] != srv.Name || p.Labels[render.LabelName] != render.NameValue {
			continue
		}
		owner := metav1.GetControllerOf(&p)
		hash := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		if owner == nil || owner.Kind != "ReplicaSet" || hash == "" || owner.Name != srv.Name+"-"+hash {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// targetOf returns where to ask a pod for its models: its own IP and the
// server's HTTP port, once its tritonserver container is ready and while
// the pod is not being deleted.
func targetOf(p *corev1.Pod, port int32) (modelsync.Target, bool) {
	if !p.DeletionTimestamp.IsZero() || p.Status.Phase != corev1.PodRunning || !podCondition(p, corev1.ContainersReady) {
		return modelsync.Target{}, false
	}
	ip, err := netip.ParseAddr(p.Status.PodIP)
	if err != nil || port <= 0 || port > 65535 {
		return modelsync.Target{}, false
	}
	return modelsync.Target{Pod: p.Name, UID: p.UID, Addr: netip.AddrPortFrom(ip, uint16(port))}, true
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// gateTrue reports the operator's readiness gate on the pod.
func gateTrue(p *corev1.Pod) bool { return podCondition(p, render.ModelsReadyGate) }

// setGate writes the readiness gate condition with a strategic merge patch
// of the pod's status that carries this one condition: the kubelet's
// conditions are merged by type and left alone.
func (r *Reconciler) setGate(ctx context.Context, p *corev1.Pod, serves bool, message string) error {
	status, reason := corev1.ConditionFalse, "ModelsNotServed"
	if serves {
		status, reason = corev1.ConditionTrue, "ModelsServed"
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{{
		Type: render.ModelsReadyGate, Status: status, Reason: reason, Message: message,
		LastTransitionTime: metav1.Now(),
	}}}})
	if err != nil {
		return err
	}
	if err := r.Status().Patch(ctx, p, client.RawPatch(types.StrategicMergePatchType, patch)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("setting the models-ready gate of pod %s: %w", p.Name, err))
	}
	return nil
}

// serverOfPod maps a pod to its server by the operator's label.
func (r *Reconciler) serverOfPod(_ context.Context, o client.Object) []reconcile.Request {
	name := o.GetLabels()[render.LabelTritonServer]
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
}

// podChanged passes pod events that change what is read: the cache keeps
// pods stripped to those fields (see controller.StripPod), so any other
// difference is the resource version. A deleted pod's load state is dropped.
func (r *Reconciler) podChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Pod)
			n, ok2 := e.ObjectNew.(*corev1.Pod)
			if !ok1 || !ok2 {
				return true
			}
			return !equality.Semantic.DeepEqual(o.Status, n.Status) || !n.DeletionTimestamp.Equal(o.DeletionTimestamp) ||
				!equality.Semantic.DeepEqual(o.OwnerReferences, n.OwnerReferences)
		},
		DeleteFunc: func(e event.DeleteEvent) bool {
			r.Models.Forget(e.Object.GetUID())
			return true
		},
	}
}
