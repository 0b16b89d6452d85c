package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kalypsoserving/kalypso-serving/internal/controller/application"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/index"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/project"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/tritonserver"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// Options tune every reconciler.
type Options struct {
	// MaxConcurrentReconciles per kind.
	MaxConcurrentReconciles int
}

// CacheOptions returns the manager's cache settings.
func CacheOptions() cache.Options {
	// Managed fields are never read by the operator: dropping them roughly
	// halves the memory of every cached object.
	//
	// Secrets are cached as metadata only (the operator never needs their
	// values), and without labels or annotations: `kubectl apply` copies a
	// Secret's data into an annotation, which must not end up in memory.
	secret := &metav1.PartialObjectMetadata{}
	secret.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	//
	// Namespaces and the objects governed in them are cached only when the
	// operator labelled them: the cluster's other namespaces, quotas and
	// bindings never reach memory.
	namespace := &metav1.PartialObjectMetadata{}
	namespace.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	ours := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue})}
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			secret:                        {Transform: stripSecretMetadata},
			namespace:                     ours,
			&corev1.ResourceQuota{}:       ours,
			&corev1.LimitRange{}:          ours,
			&networkingv1.NetworkPolicy{}: ours,
			&rbacv1.RoleBinding{}:         ours,
		},
	}
}

// stripSecretMetadata keeps only what identifies a Secret's version.
func stripSecretMetadata(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	m.ManagedFields = nil
	m.Annotations = nil
	m.Labels = nil
	m.OwnerReferences = nil
	return m, nil
}

// SetupWithManager registers the field indexes and the three reconcilers.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if err := index.Register(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("registering field indexes: %w", err)
	}
	if err := (&project.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoProject controller: %w", err)
	}
	if err := (&tritonserver.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoTritonServer controller: %w", err)
	}
	if err := (&application.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoApplication controller: %w", err)
	}
	return nil
}
