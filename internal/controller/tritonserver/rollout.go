package tritonserver

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/outcome"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// fitRollout chooses the rollout strategy of the rendered Deployment, in
// place, before it is applied. The strategy is decided only when the pod
// template changes (a rollout starts): otherwise the live strategy is kept,
// so the Deployment is not rewritten as the quota's usage moves. When the
// namespace's quotas have no room for a surge pod, pods are replaced one at
// a time; a single replica does so only with rollout.allowDowntime, and
// otherwise the rollout is not started and the server is Stalled with the
// numbers. A strategy the spec sets explicitly is left alone.
func (r *Reconciler) fitRollout(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, desired *unstructured.Unstructured) error {
	if render.ExplicitRollout(srv.Spec.Rollout) {
		return nil
	}
	var live appsv1.Deployment
	if err := r.Get(ctx, client.ObjectKeyFromObject(desired), &live); err != nil {
		return client.IgnoreNotFound(err) // a first Deployment replaces nothing
	}
	if !metav1.IsControlledBy(&live, srv) {
		return nil // the apply engine reports the conflict
	}
	if live.Annotations[render.AnnotationTemplateHash] == desired.GetAnnotations()[render.AnnotationTemplateHash] {
		return keepStrategy(desired, live.Spec.Strategy.RollingUpdate)
	}
	var want appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(desired.Object, &want); err != nil {
		return err
	}
	quotas := &corev1.ResourceQuotaList{}
	if err := r.APIReader.List(ctx, quotas, client.InNamespace(srv.Namespace)); err != nil && !apierrors.IsForbidden(err) {
		return err
	}
	newPod, oldPod := podUsage(want.Spec.Template.Spec), podUsage(live.Spec.Template.Spec)
	if short := shortfall(quotas.Items, newPod, nil); short == "" {
		return nil // a surge pod fits: the rendered strategy stands
	}
	if short := shortfall(quotas.Items, newPod, oldPod); short != "" {
		return outcome.Stalled(servingv1alpha1.ReasonQuotaExceeded,
			"the new pod template does not fit the quota even in place of an old pod: %s", short)
	}
	replicas := int32(1)
	switch {
	case want.Spec.Replicas != nil:
		replicas = *want.Spec.Replicas
	case live.Spec.Replicas != nil: // the autoscaler's count
		replicas = *live.Spec.Replicas
	}
	if replicas < 2 && (srv.Spec.Rollout == nil || !srv.Spec.Rollout.AllowDowntime) {
		return outcome.Stalled(servingv1alpha1.ReasonQuotaExceeded,
			"no room in the quota for a surge pod (%s) and a single replica would stop serving: "+
				"raise the quota, or set rollout.allowDowntime", shortfall(quotas.Items, newPod, nil))
	}
	return unstructured.SetNestedField(desired.Object, map[string]any{"maxSurge": int64(0), "maxUnavailable": int64(1)},
		"spec", "strategy", "rollingUpdate")
}

// keepStrategy copies the live rolling update parameters into desired.
func keepStrategy(desired *unstructured.Unstructured, live *appsv1.RollingUpdateDeployment) error {
	if live == nil || live.MaxSurge == nil || live.MaxUnavailable == nil {
		return nil
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(live)
	if err != nil {
		return err
	}
	return unstructured.SetNestedField(desired.Object, u, "spec", "strategy", "rollingUpdate")
}

// podUsage is what one pod counts against a quota, by quota key: limits
// under limits.<name>, requests (a missing one defaults to its limit) under
// requests.<name> and, for cpu, memory and ephemeral-storage, their bare names.
func podUsage(spec corev1.PodSpec) corev1.ResourceList {
	out := corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}
	add := func(key string, q resource.Quantity) {
		sum := out[corev1.ResourceName(key)]
		sum.Add(q)
		out[corev1.ResourceName(key)] = sum
	}
	for _, c := range spec.Containers {
		requests := c.Resources.Requests.DeepCopy()
		if requests == nil {
			requests = corev1.ResourceList{}
		}
		for name, q := range c.Resources.Limits {
			add("limits."+string(name), q)
			if _, ok := requests[name]; !ok {
				requests[name] = q
			}
		}
		for name, q := range requests {
			add("requests."+string(name), q)
			if !strings.Contains(string(name), "/") {
				add(string(name), q)
			}
		}
	}
	return out
}

// shortfall says which quota key has no room for pod (in place of freed,
// when given) and by how much; "" when every quota has room.
func shortfall(quotas []corev1.ResourceQuota, pod, freed corev1.ResourceList) string {
	var short []string
	for _, q := range quotas {
		for key, hard := range q.Status.Hard {
			need, ok := pod[key]
			if !ok {
				continue
			}
			after := q.Status.Used[key].DeepCopy()
			after.Add(need)
			if f, ok := freed[key]; ok {
				after.Sub(f)
			}
			if after.Cmp(hard) > 0 {
				missing := after.DeepCopy()
				missing.Sub(hard)
				used := q.Status.Used[key]
				short = append(short, fmt.Sprintf("quota %s: %s hard %s, used %s, a pod needs %s, missing %s",
					q.Name, key, hard.String(), used.String(), need.String(), missing.String()))
			}
		}
	}
	return strings.Join(short, "; ")
}

// serversAwaitingQuota maps a ResourceQuota change to the servers of its
// namespace that wait for room in a quota; the others are not woken.
func (r *Reconciler) serversAwaitingQuota(ctx context.Context, o client.Object) []reconcile.Request {
	var servers servingv1alpha1.KalypsoTritonServerList
	// Read-only: no copy of every server of the namespace per quota update.
	if err := r.List(ctx, &servers, client.InNamespace(o.GetNamespace()), client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range servers.Items {
		c := meta.FindStatusCondition(servers.Items[i].Status.Conditions, servingv1alpha1.ConditionStalled)
		if c != nil && c.Status == metav1.ConditionTrue && c.Reason == servingv1alpha1.ReasonQuotaExceeded {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&servers.Items[i])})
		}
	}
	return out
}
