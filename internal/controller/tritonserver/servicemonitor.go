package tritonserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

const serviceMonitorCRD = "servicemonitors.monitoring.coreos.com"

// serviceMonitor handles the optional ServiceMonitor through the one apply
// path. Without the CRD the server still serves; the ServiceMonitorReady
// condition says why there is no monitor.
func (r *Reconciler) serviceMonitor(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, child render.Child) error {
	st := &srv.Status
	if child.Object == nil && srv.Status.ObservedGeneration == srv.Generation &&
		meta.FindStatusCondition(st.Conditions, servingv1alpha1.ConditionServiceMonitorReady) == nil {
		// Not asked for by the spec last reconciled, nor since: nothing was
		// created, so there is nothing to look up or delete.
		return nil
	}
	crdInstalled, err := r.serviceMonitorCRDInstalled(ctx)
	if err != nil {
		return err
	}
	if child.Object == nil {
		meta.RemoveStatusCondition(&st.Conditions, servingv1alpha1.ConditionServiceMonitorReady)
		if !crdInstalled {
			return nil
		}
	} else if !crdInstalled {
		conditions.Set(&st.Conditions, srv.Generation, servingv1alpha1.ConditionServiceMonitorReady, metav1.ConditionFalse,
			servingv1alpha1.ReasonCRDNotInstalled, "the monitoring.coreos.com ServiceMonitor CRD is not installed; "+
				"the ServiceMonitor is created once it is")
		return nil
	}
	res, err := r.applyChild(ctx, srv, child)
	if err != nil || child.Object == nil {
		return err
	}
	if res.Created && res.Applied {
		r.Recorder.Eventf(srv, nil, corev1.EventTypeNormal, servingv1alpha1.EventReasonServiceMonitorCreated, "Reconcile",
			"ServiceMonitor %s created", srv.Name)
	}
	conditions.Set(&st.Conditions, srv.Generation, servingv1alpha1.ConditionServiceMonitorReady, metav1.ConditionTrue,
		servingv1alpha1.ReasonReconciled, "ServiceMonitor applied")
	return nil
}

// serviceMonitorCRDInstalled looks the CRD up in the cache the CRD watch
// fills (metadata only). Asking the REST mapper instead would run API
// discovery on every reconcile while the CRD is absent.
func (r *Reconciler) serviceMonitorCRDInstalled(ctx context.Context) (bool, error) {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	err := r.Get(ctx, types.NamespacedName{Name: serviceMonitorCRD}, crd)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("looking up the ServiceMonitor CRD: %w", err)
	}
	return crd.DeletionTimestamp.IsZero(), nil
}
