// Package project reconciles KalypsoApplications into governed environment namespaces.
package application

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

// Reconciler reconciles a KalypsoApplication.
type Reconciler struct {
	client.Client
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoapplications,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoapplications/status,verbs=get;patch;update

// Reconcile reports that applications are not built yet. Storage
// checks and server aggregation come with the tenancy work.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var app servingv1alpha1.KalypsoApplication
	if err := r.Get(ctx, req.NamespacedName, &app); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := app.DeepCopy()
	conditions.Set(&app.Status.Conditions, app.Generation, servingv1alpha1.ConditionReady, metav1.ConditionFalse,
		servingv1alpha1.ReasonNotImplemented, "storage checks and server aggregation are not reconciled by this version")
	app.Status.ObservedGeneration = app.Generation
	app.Status.Phase = conditions.Phase(app.Status.Conditions, !app.DeletionTimestamp.IsZero())
	if equality.Semantic.DeepEqual(before.Status, app.Status) {
		return ctrl.Result{}, nil
	}
	if err := r.Status().Patch(ctx, &app, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, fmt.Errorf("patching status: %w", err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.KalypsoApplication{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("kalypsoapplication").
		Complete(r)
}
