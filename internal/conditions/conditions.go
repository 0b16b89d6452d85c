// Package conditions holds the pure functions that compute the kstatus
// conditions (Ready, Reconciling, Stalled) and the summary phase shared by
// every Kalypso kind. Nothing here talks to the API server.
package conditions

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// Outcome is what one reconcile concluded about an object.
type Outcome struct {
	// Ready reports whether the object serves as specified.
	Ready bool
	// Stalled means progress needs a spec change; Reason and Message say why.
	Stalled bool
	// Reason is a CamelCase constant from api/v1alpha1.
	Reason string
	// Message explains Reason to a person.
	Message string
}

// Apply sets Ready, Reconciling and Stalled on conds for generation from the
// outcome. lastTransitionTime only moves when a condition's status flips.
func Apply(conds *[]metav1.Condition, generation int64, o Outcome) {
	ready := metav1.ConditionFalse
	if o.Ready {
		ready = metav1.ConditionTrue
	}
	set(conds, generation, servingv1alpha1.ConditionReady, ready, o.Reason, o.Message)

	switch {
	case o.Ready:
		meta.RemoveStatusCondition(conds, servingv1alpha1.ConditionReconciling)
		meta.RemoveStatusCondition(conds, servingv1alpha1.ConditionStalled)
	case o.Stalled:
		meta.RemoveStatusCondition(conds, servingv1alpha1.ConditionReconciling)
		set(conds, generation, servingv1alpha1.ConditionStalled, metav1.ConditionTrue, o.Reason, o.Message)
	default:
		meta.RemoveStatusCondition(conds, servingv1alpha1.ConditionStalled)
		set(conds, generation, servingv1alpha1.ConditionReconciling, metav1.ConditionTrue, o.Reason, o.Message)
	}
}

// Set sets one condition, keeping lastTransitionTime when the status is unchanged.
func Set(conds *[]metav1.Condition, generation int64, condType string, status metav1.ConditionStatus, reason, message string) {
	set(conds, generation, condType, status, reason, message)
}

func set(conds *[]metav1.Condition, generation int64, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(conds, metav1.Condition{
		Type:               condType,
		Status:             status,
		ObservedGeneration: generation,
		Reason:             reason,
		Message:            message,
	})
}

// Phase summarises conditions for printer columns. Deleting wins; then
// Ready, Stalled (Failed) and Reconciling (Progressing); otherwise Pending.
func Phase(conds []metav1.Condition, deleting bool) servingv1alpha1.Phase {
	switch {
	case deleting:
		return servingv1alpha1.PhaseTerminating
	case meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionReady):
		return servingv1alpha1.PhaseReady
	case meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionStalled):
		return servingv1alpha1.PhaseFailed
	case meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionReconciling):
		return servingv1alpha1.PhaseProgressing
	default:
		return servingv1alpha1.PhasePending
	}
}
