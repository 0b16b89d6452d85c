package conditions

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

func TestApply(t *testing.T) {
	var conds []metav1.Condition
	Apply(&conds, 1, Outcome{Reason: servingv1alpha1.ReasonProgressing, Message: "rolling"})
	if !meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionReconciling) || meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionReady) {
		t.Fatalf("a reconcile in progress sets Reconciling and Ready=False: %+v", conds)
	}
	Apply(&conds, 1, Outcome{Stalled: true, Reason: servingv1alpha1.ReasonInvalidSpec, Message: "bad"})
	if !meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionStalled) || meta.FindStatusCondition(conds, servingv1alpha1.ConditionReconciling) != nil {
		t.Fatalf("a stall replaces Reconciling with Stalled: %+v", conds)
	}
	Apply(&conds, 2, Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled})
	if len(conds) != 1 || !meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionReady) {
		t.Fatalf("ready leaves only Ready=True: %+v", conds)
	}
	if got := Phase(conds, false); got != servingv1alpha1.PhaseReady {
		t.Fatalf("phase %s", got)
	}
	if got := Phase(conds, true); got != servingv1alpha1.PhaseTerminating {
		t.Fatalf("phase %s", got)
	}
}

func TestLastTransitionTimeMovesOnlyOnFlip(t *testing.T) {
	var conds []metav1.Condition
	Apply(&conds, 1, Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled, Message: "1 of 1"})
	old := metav1.NewTime(time.Now().Add(-time.Hour))
	conds[0].LastTransitionTime = old
	Apply(&conds, 2, Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled, Message: "2 of 2"})
	if !conds[0].LastTransitionTime.Equal(&old) {
		t.Fatal("lastTransitionTime moved although Ready stayed True")
	}
	Apply(&conds, 3, Outcome{Reason: servingv1alpha1.ReasonProgressing})
	ready := meta.FindStatusCondition(conds, servingv1alpha1.ConditionReady)
	if ready.LastTransitionTime.Equal(&old) {
		t.Fatal("lastTransitionTime must move when Ready flips")
	}
}
