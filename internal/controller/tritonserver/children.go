package tritonserver

import (
	"context"
	"errors"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/log"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/outcome"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// applyChildren brings every rendered child to the spec, in order, and
// returns the live Deployment (nil: absent) and whether this reconcile
// started a rollout.
func (r *Reconciler) applyChildren(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, children []render.Child) (*appsv1.Deployment, bool, error) {
	var dep *appsv1.Deployment
	rollout := false
	for _, child := range children {
		if child.GVK == render.ServiceMonitorGVK {
			if err := r.serviceMonitor(ctx, srv, child); err != nil {
				return nil, false, err
			}
			continue
		}
		if child.GVK == render.DeploymentGVK && child.Object != nil {
			if err := r.fitRollout(ctx, srv, child.Object); err != nil {
				return nil, false, err
			}
		}
		res, err := r.applyChild(ctx, srv, child)
		if err != nil {
			return nil, false, err
		}
		if live, ok := res.Live.(*appsv1.Deployment); ok && child.GVK == render.DeploymentGVK {
			dep = live
		}
		if child.GVK == render.DeploymentGVK && res.Applied {
			// Only a new spec starts a rollout: an apply that restored metadata
			// (labels, an owner reference) leaves the generation as it is.
			rollout = res.Live == nil || child.Object.GetGeneration() != res.Live.GetGeneration()
		}
	}
	return dep, rollout, nil
}

// applyChild runs one child through the apply engine and turns what it
// found into the server's outcome: a child someone else owns stalls the
// server; a terminating namespace is waited out.
func (r *Reconciler) applyChild(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, child render.Child) (apply.Result, error) {
	owner := apply.Owner{Object: srv, Marks: map[string]string{
		render.LabelManagedBy: render.ManagedByValue,
		render.LabelInstance:  srv.Name,
	}}
	res, err := r.engine().Reconcile(ctx, owner, child, r.reclaimPorts(srv))
	var conflict *apply.ConflictError
	switch {
	case errors.As(err, &conflict):
		return res, outcome.Stalled(servingv1alpha1.ReasonChildConflict, "%s", conflict.Error())
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		// The namespace is going away, and the server with it: nothing to retry.
		return res, outcome.Waiting(servingv1alpha1.ReasonProgressing, "namespace is terminating")
	case apierrors.IsInvalid(err):
		// Only the API server could judge this child (admission cannot):
		// stalled with its message, and not retried until the spec changes.
		return res, outcome.Stalled(servingv1alpha1.ReasonChildRejected, "the API server refused the %s: %s",
			child.GVK.Kind, err.Error())
	case err != nil:
		return res, err
	}
	if res.Readopted {
		log.FromContext(ctx).Info("re-adopted a child whose owner reference was removed", "kind", child.GVK.Kind, "name", child.Key.Name)
		r.Recorder.Eventf(srv, res.Live, corev1.EventTypeNormal, servingv1alpha1.EventReasonReadopted, "Reconcile",
			"%s %s had lost its owner reference; proven to be this server's own and re-adopted", child.GVK.Kind, child.Key.Name)
	}
	if res.Deleted {
		r.Recorder.Eventf(srv, nil, corev1.EventTypeNormal, servingv1alpha1.EventReasonChildDeleted, "Reconcile",
			"%s %s deleted: the spec no longer asks for it", child.GVK.Kind, child.Key.Name)
	}
	return res, nil
}

// engine is the one apply path, configured for the server's child kinds:
// the optional ServiceMonitor is read uncached (its CRD may be absent).
func (r *Reconciler) engine() *apply.Engine {
	return &apply.Engine{Client: r.Client, APIReader: r.APIReader, FieldOwner: render.FieldOwner,
		Kinds: map[schema.GroupVersionKind]apply.Kind{render.ServiceMonitorGVK: {Read: apply.ReadDirect}}}
}
