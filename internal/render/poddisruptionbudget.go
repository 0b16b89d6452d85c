package render

import (
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/utils/ptr"
)

// PodDisruptionBudget renders the server's PDB, or nil when at most one
// replica can run (a PDB would then only block node drains).
func PodDisruptionBudget(in Input) *policyv1ac.PodDisruptionBudgetApplyConfiguration {
	srv := in.Server
	spec := withDefaults(srv.Spec)
	maxReplicas := *spec.Replicas
	if spec.Autoscaling != nil {
		maxReplicas = spec.Autoscaling.MaxReplicas
	}
	if maxReplicas <= 1 {
		return nil
	}
	maxUnavailable := intstr.FromInt32(1)
	if spec.PodDisruptionBudget != nil {
		maxUnavailable = ptr.Deref(spec.PodDisruptionBudget.MaxUnavailable, maxUnavailable)
	}
	return policyv1ac.PodDisruptionBudget(srv.Name, srv.Namespace).
		WithLabels(Labels(in)).
		WithOwnerReferences(ownerReference(srv)).
		WithSpec(policyv1ac.PodDisruptionBudgetSpec().
			WithMaxUnavailable(maxUnavailable).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(srv.Name))))
}
