// Package project reconciles KalypsoTritonServers into governed environment namespaces.
package tritonserver

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

// Reconciler reconciles a KalypsoTritonServer.
type Reconciler struct {
	client.Client
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsotritonservers,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsotritonservers/status,verbs=get;patch;update

// Reconcile reports that the workload is not built yet. The
// Deployment and its companions come with the workload work.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var kts servingv1alpha1.KalypsoTritonServer
	if err := r.Get(ctx, req.NamespacedName, &kts); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := kts.DeepCopy()
	conditions.Set(&kts.Status.Conditions, kts.Generation, servingv1alpha1.ConditionReady, metav1.ConditionFalse,
		servingv1alpha1.ReasonNotImplemented, "the Triton workload is not reconciled by this version")
	kts.Status.ObservedGeneration = kts.Generation
	kts.Status.Phase = conditions.Phase(kts.Status.Conditions, !kts.DeletionTimestamp.IsZero())
	if equality.Semantic.DeepEqual(before.Status, kts.Status) {
		return ctrl.Result{}, nil
	}
	if err := r.Status().Patch(ctx, &kts, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, fmt.Errorf("patching status: %w", err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.KalypsoTritonServer{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("kalypsotritonserver").
		Complete(r)
}
