package tritonserver

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// rolloutPending is the outcome right after the Deployment changed, until its
// controller observes the change. The reconcile that applies the change and
// the one woken by its event report the same thing, so the second writes nothing.
var rolloutPending = conditions.Outcome{Reason: servingv1alpha1.ReasonProgressing,
	Message: "Deployment controller has not observed the latest spec yet"}

// deploymentOutcome reads readiness from the Deployment: its controller
// must have observed the latest spec, every replica must be updated and
// available, and a rollout past its progress deadline is reported as such,
// never as running.
func deploymentOutcome(dep *appsv1.Deployment) conditions.Outcome {
	if dep == nil {
		return conditions.Outcome{Reason: servingv1alpha1.ReasonProgressing, Message: "Deployment is being created"}
	}
	if dep.Status.ObservedGeneration < dep.Generation {
		return rolloutPending
	}
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return conditions.Outcome{Stalled: true, Reason: servingv1alpha1.ReasonProgressDeadlineExceeded,
				Message: fmt.Sprintf("rollout stuck: %s", c.Message)}
		}
	}
	for _, c := range dep.Status.Conditions {
		// The ReplicaSet could not create pods (quota, admission): say why.
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return conditions.Outcome{Reason: servingv1alpha1.ReasonPodsRefused,
				Message: fmt.Sprintf("pods refused by the API server: %s", c.Message)}
		}
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	st := dep.Status
	switch {
	case want == 0 && st.Replicas == 0:
		return conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonScaledToZero, Message: "scaled to zero replicas"}
	case st.UpdatedReplicas < want:
		return conditions.Outcome{Reason: servingv1alpha1.ReasonProgressing,
			Message: fmt.Sprintf("rolling out: %d of %d replicas updated", st.UpdatedReplicas, want)}
	case st.Replicas > st.UpdatedReplicas:
		return conditions.Outcome{Reason: servingv1alpha1.ReasonProgressing,
			Message: fmt.Sprintf("rolling out: %d old replicas terminating", st.Replicas-st.UpdatedReplicas)}
	case st.AvailableReplicas < want:
		return conditions.Outcome{Reason: servingv1alpha1.ReasonDeploymentUnavailable,
			Message: fmt.Sprintf("%d of %d replicas available", st.AvailableReplicas, want)}
	default:
		return conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled,
			Message: fmt.Sprintf("%d of %d replicas available", st.AvailableReplicas, want)}
	}
}

// applicationOutcome says whether the server may proceed with app: it
// waits (no children touched) while the Application is missing, not yet
// reconciled, not Ready, or has not yet checked its credentials for the
// storage type this server's URI needs (when the type is inferred from the
// servers; an explicit type that does not fit the URI stalls the server).
func applicationOutcome(srv *servingv1alpha1.KalypsoTritonServer, app *servingv1alpha1.KalypsoApplication) (conditions.Outcome, bool) {
	name := srv.Spec.ApplicationRef.Name
	if app == nil {
		return conditions.Outcome{Reason: servingv1alpha1.ReasonApplicationNotFound,
			Message: fmt.Sprintf("KalypsoApplication %q not found in this namespace", name)}, false
	}
	ready := meta.FindStatusCondition(app.Status.Conditions, servingv1alpha1.ConditionReady)
	switch {
	case ready == nil || app.Status.ObservedGeneration < app.Generation:
		return conditions.Outcome{Reason: servingv1alpha1.ReasonApplicationNotReady,
			Message: fmt.Sprintf("KalypsoApplication %q has not been reconciled yet", name)}, false
	case ready.Status != "True":
		return conditions.Outcome{Reason: servingv1alpha1.ReasonApplicationNotReady,
			Message: fmt.Sprintf("KalypsoApplication %q is not ready: %s: %s", name, ready.Reason, ready.Message)}, false
	case app.Spec.Storage != nil && app.Spec.Storage.SecretRef != nil && app.Spec.Storage.Type == "" &&
		render.StorageTypeOf(srv.Spec.StorageURI) != "" && render.StorageTypeOf(srv.Spec.StorageURI) != app.Status.StorageType:
		return conditions.Outcome{Reason: servingv1alpha1.ReasonApplicationNotReady,
			Message: fmt.Sprintf("KalypsoApplication %q has not yet checked its credentials for %s storage",
				name, render.StorageTypeOf(srv.Spec.StorageURI))}, false
	}
	return conditions.Outcome{}, true
}

// applicationReady is the part of an Application's status its servers depend on.
func applicationReady(app *servingv1alpha1.KalypsoApplication) bool {
	return meta.IsStatusConditionTrue(app.Status.Conditions, servingv1alpha1.ConditionReady) &&
		app.Status.ObservedGeneration == app.Generation
}

// deploymentCounts copies the Deployment's replica counts into the status.
func deploymentCounts(status *servingv1alpha1.KalypsoTritonServerStatus, dep *appsv1.Deployment) {
	if dep == nil {
		status.Replicas, status.ReadyReplicas, status.AvailableReplicas = 0, 0, 0
		return
	}
	status.Replicas = dep.Status.Replicas
	status.ReadyReplicas = dep.Status.ReadyReplicas
	status.AvailableReplicas = dep.Status.AvailableReplicas
}
