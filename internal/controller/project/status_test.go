package project

import (
	"testing"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

func TestProjectOutcome(t *testing.T) {
	ready := servingv1alpha1.EnvironmentStatus{Name: "dev", Ready: true}
	conflict := servingv1alpha1.EnvironmentStatus{Name: "prod", Reason: servingv1alpha1.ReasonNamespaceConflict, Message: "taken"}
	childConflict := servingv1alpha1.EnvironmentStatus{Name: "prod", Reason: servingv1alpha1.ReasonChildConflict, Message: "taken"}
	waiting := servingv1alpha1.EnvironmentStatus{Name: "stage", Reason: servingv1alpha1.ReasonProgressing}
	cases := []struct {
		name    string
		envs    []servingv1alpha1.EnvironmentStatus
		ready   bool
		stalled bool
		reason  string
	}{
		{"every environment ready makes the project ready", []servingv1alpha1.EnvironmentStatus{ready}, true, false, servingv1alpha1.ReasonReconciled},
		{"a namespace conflict stalls the project", []servingv1alpha1.EnvironmentStatus{ready, conflict}, false, true, servingv1alpha1.ReasonNamespaceConflict},
		{"an environment in progress keeps it reconciling", []servingv1alpha1.EnvironmentStatus{ready, waiting}, false, false, servingv1alpha1.ReasonProgressing},
		{"an object someone else owns stalls the project", []servingv1alpha1.EnvironmentStatus{ready, childConflict}, false, true, servingv1alpha1.ReasonChildConflict},
		{"a project without environments is ready", nil, true, false, servingv1alpha1.ReasonReconciled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// An API error is reported by the finish step (outcome package tests).
			o := projectOutcome(tc.envs)
			if o.Ready != tc.ready || o.Stalled != tc.stalled || o.Reason != tc.reason {
				t.Fatalf("got %+v", o)
			}
		})
	}
}
