// Package index registers the field indexes the reconcilers list by, so that
// a change of an Application or a Secret finds the objects that use it
// without scanning.
package index

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// Field indexes.
const (
	// ServerApplication indexes KalypsoTritonServers by spec.applicationRef.name.
	ServerApplication = ".spec.applicationRef.name"
	// ServerServiceMonitor indexes KalypsoTritonServers that ask for a ServiceMonitor.
	ServerServiceMonitor = ".spec.observability.metrics.serviceMonitor.enabled"
	// ApplicationSecret indexes KalypsoApplications by spec.storage.secretRef.name.
	ApplicationSecret = ".spec.storage.secretRef.name"
	// PodServer indexes the operator's pods by the server they belong to.
	PodServer = ".metadata.labels.tritonserver"
)

// RegisterPods adds the pod index; only a manager that reads Triton pods
// registers it, as an index starts the pod informer.
func RegisterPods(ctx context.Context, idx client.FieldIndexer) error {
	return idx.IndexField(ctx, &corev1.Pod{}, PodServer, func(o client.Object) []string {
		if s := o.GetLabels()[render.LabelTritonServer]; s != "" {
			return []string{s}
		}
		return nil
	})
}

// Register adds every index to the manager's cache.
func Register(ctx context.Context, idx client.FieldIndexer) error {
	if err := idx.IndexField(ctx, &servingv1alpha1.KalypsoTritonServer{}, ServerApplication, func(o client.Object) []string {
		return []string{o.(*servingv1alpha1.KalypsoTritonServer).Spec.ApplicationRef.Name}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &servingv1alpha1.KalypsoTritonServer{}, ServerServiceMonitor, func(o client.Object) []string {
		if render.ServiceMonitorEnabled(render.Input{Server: o.(*servingv1alpha1.KalypsoTritonServer)}) {
			return []string{"true"}
		}
		return nil
	}); err != nil {
		return err
	}
	return idx.IndexField(ctx, &servingv1alpha1.KalypsoApplication{}, ApplicationSecret, func(o client.Object) []string {
		app := o.(*servingv1alpha1.KalypsoApplication)
		if app.Spec.Storage == nil || app.Spec.Storage.SecretRef == nil {
			return nil
		}
		return []string{app.Spec.Storage.SecretRef.Name}
	})
}

// Requests lists objects into list and turns them into reconcile requests;
// a failed list is logged and yields none (the next event retries).
func Requests(ctx context.Context, c client.Reader, list client.ObjectList, opts ...client.ListOption) []reconcile.Request {
	if err := c.List(ctx, list, opts...); err != nil {
		log.FromContext(ctx).Error(err, "listing for a mapped watch")
		return nil
	}
	var out []reconcile.Request
	switch l := list.(type) {
	case *servingv1alpha1.KalypsoTritonServerList:
		for i := range l.Items {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&l.Items[i])})
		}
	case *servingv1alpha1.KalypsoApplicationList:
		for i := range l.Items {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&l.Items[i])})
		}
	}
	return out
}
