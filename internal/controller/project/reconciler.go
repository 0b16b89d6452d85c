// Package project reconciles KalypsoProjects into governed environment namespaces.
package project

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
)

// Reconciler reconciles a KalypsoProject.
type Reconciler struct {
	client.Client
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoprojects,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoprojects/status,verbs=get;patch;update

// Reconcile reports that environments are not built yet. The governed
// namespaces, quotas and access come with the tenancy work.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var proj servingv1alpha1.KalypsoProject
	if err := r.Get(ctx, req.NamespacedName, &proj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := proj.DeepCopy()
	conditions.Set(&proj.Status.Conditions, proj.Generation, servingv1alpha1.ConditionReady, metav1.ConditionFalse,
		servingv1alpha1.ReasonNotImplemented, "environment namespaces are not reconciled by this version")
	proj.Status.ObservedGeneration = proj.Generation
	proj.Status.EnvironmentCount = int32(len(proj.Spec.Environments)) //nolint:gosec // at most 16 by schema
	proj.Status.Phase = conditions.Phase(proj.Status.Conditions, !proj.DeletionTimestamp.IsZero())
	if equality.Semantic.DeepEqual(before.Status, proj.Status) {
		return ctrl.Result{}, nil
	}
	if err := r.Status().Patch(ctx, &proj, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, fmt.Errorf("patching status: %w", err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.KalypsoProject{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("kalypsoproject").
		Complete(r)
}
