package tritonserver

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

type depOption func(*appsv1.Deployment)

func deployment(opts ...depOption) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2,
			ReadyReplicas: 2, AvailableReplicas: 2},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

func TestDeploymentOutcome(t *testing.T) {
	cases := []struct {
		name    string
		dep     *appsv1.Deployment
		ready   bool
		stalled bool
		reason  string
	}{
		{"a missing Deployment is progressing", nil, false, false, servingv1alpha1.ReasonProgressing},
		{"a fully available Deployment is ready", deployment(), true, false, servingv1alpha1.ReasonReconciled},
		{"a Deployment whose controller lags behind is progressing",
			deployment(func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 }), false, false, servingv1alpha1.ReasonProgressing},
		{"a Deployment with old replicas is progressing",
			deployment(func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1 }), false, false, servingv1alpha1.ReasonProgressing},
		{"a Deployment with old replicas still terminating is progressing",
			deployment(func(d *appsv1.Deployment) { d.Status.Replicas = 3 }), false, false, servingv1alpha1.ReasonProgressing},
		{"a Deployment with too few available replicas is unavailable",
			deployment(func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 1 }), false, false, servingv1alpha1.ReasonDeploymentUnavailable},
		{"a Deployment past its progress deadline is stalled, never running",
			deployment(func(d *appsv1.Deployment) {
				d.Status.AvailableReplicas = 1
				d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing,
					Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "timed out"}}
			}), false, true, servingv1alpha1.ReasonProgressDeadlineExceeded},
		{"a Deployment whose pods the quota refuses says so",
			deployment(func(d *appsv1.Deployment) {
				d.Status.AvailableReplicas = 0
				d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure,
					Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "exceeded quota: kalypso-quota"}}
			}), false, false, servingv1alpha1.ReasonPodsRefused},
		{"a Deployment scaled to zero is ready",
			deployment(func(d *appsv1.Deployment) {
				d.Spec.Replicas = ptr.To[int32](0)
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2}
			}), true, false, servingv1alpha1.ReasonScaledToZero},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := deploymentOutcome(tc.dep)
			if o.Ready != tc.ready || o.Stalled != tc.stalled || o.Reason != tc.reason {
				t.Errorf("got ready=%v stalled=%v reason=%s (%s), want ready=%v stalled=%v reason=%s",
					o.Ready, o.Stalled, o.Reason, o.Message, tc.ready, tc.stalled, tc.reason)
			}
		})
	}
}

func TestApplicationOutcome(t *testing.T) {
	readyApp := func(status metav1.ConditionStatus, reason string) *servingv1alpha1.KalypsoApplication {
		return &servingv1alpha1.KalypsoApplication{
			ObjectMeta: metav1.ObjectMeta{Generation: 1},
			Status: servingv1alpha1.KalypsoApplicationStatus{ObservedGeneration: 1, Conditions: []metav1.Condition{
				{Type: servingv1alpha1.ConditionReady, Status: status, Reason: reason, Message: "m"}}},
		}
	}
	cases := []struct {
		name    string
		app     *servingv1alpha1.KalypsoApplication
		proceed bool
		reason  string
	}{
		{"a missing application makes the server wait", nil, false, servingv1alpha1.ReasonApplicationNotFound},
		{"an unreconciled application makes the server wait", &servingv1alpha1.KalypsoApplication{}, false, servingv1alpha1.ReasonApplicationNotReady},
		{"an application whose secret lacks a key makes the server wait",
			readyApp(metav1.ConditionFalse, servingv1alpha1.ReasonSecretKeyMissing), false, servingv1alpha1.ReasonApplicationNotReady},
		{"a ready application lets the server proceed", readyApp(metav1.ConditionTrue, servingv1alpha1.ReasonReconciled), true, ""},
		{"a ready application that has not checked credentials for this server's store makes it wait",
			withSecret(readyApp(metav1.ConditionTrue, servingv1alpha1.ReasonReconciled), ""), false, servingv1alpha1.ReasonApplicationNotReady},
		{"a ready application that checked s3 credentials lets an s3 server proceed",
			withSecret(readyApp(metav1.ConditionTrue, servingv1alpha1.ReasonReconciled), servingv1alpha1.StorageS3), true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := &servingv1alpha1.KalypsoTritonServer{Spec: servingv1alpha1.KalypsoTritonServerSpec{
				ApplicationRef: servingv1alpha1.LocalObjectReference{Name: "app"}, StorageURI: "s3://b/m"}}
			o, proceed := applicationOutcome(srv, tc.app)
			if proceed != tc.proceed || o.Reason != tc.reason {
				t.Errorf("got proceed=%v reason=%q, want %v %q", proceed, o.Reason, tc.proceed, tc.reason)
			}
		})
	}
}

func withSecret(app *servingv1alpha1.KalypsoApplication, checked servingv1alpha1.StorageType) *servingv1alpha1.KalypsoApplication {
	app.Spec.Storage = &servingv1alpha1.Storage{SecretRef: &servingv1alpha1.LocalObjectReference{Name: "creds"}}
	app.Status.StorageType = checked
	return app
}
