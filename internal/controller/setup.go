package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/application"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/index"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/project"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/secretwatch"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/tritonserver"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// EventSource is the reporting controller of the operator's Events.
const EventSource = "kalypso-serving"

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
	// Secrets are not cached at all (see ClientOptions and secretwatch).
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
			namespace:                     ours,
			&corev1.ResourceQuota{}:       ours,
			&corev1.LimitRange{}:          ours,
			&networkingv1.NetworkPolicy{}: ours,
			&rbacv1.RoleBinding{}:         ours,
		},
	}
}

// ClientOptions returns the manager's client settings: Secrets are always
// read from the API server, so that no code path can start an informer that
// would cache every Secret of the cluster. The operator reads a Secret only
// by name, in the namespace of the Application that references it.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// SetupWithManager registers the field indexes and the three reconcilers.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if err := index.Register(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("registering field indexes: %w", err)
	}
	meta, err := metadata.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return fmt.Errorf("creating the metadata client: %w", err)
	}
	secrets := secretwatch.New(meta, mgr.GetAPIReader(), applicationsUse(mgr.GetClient()))
	if err := mgr.Add(secrets); err != nil {
		return fmt.Errorf("adding the Secret watch: %w", err)
	}
	if err := (&project.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder(EventSource),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoProject controller: %w", err)
	}
	if err := (&tritonserver.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Secrets:                 secrets,
		Recorder:                mgr.GetEventRecorder(EventSource),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoTritonServer controller: %w", err)
	}
	if err := (&application.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Secrets:                 secrets,
		Recorder:                mgr.GetEventRecorder(EventSource),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoApplication controller: %w", err)
	}
	return nil
}

// applicationsUse reports whether a KalypsoApplication references the
// Secret, from the cached Application index.
func applicationsUse(c client.Reader) secretwatch.Referenced {
	return func(ctx context.Context, key types.NamespacedName) bool {
		var apps servingv1alpha1.KalypsoApplicationList
		err := c.List(ctx, &apps, client.InNamespace(key.Namespace), client.MatchingFields{index.ApplicationSecret: key.Name})
		// On a failed lookup, notify: a spare reconcile is cheaper than a missed rotation.
		return err != nil || len(apps.Items) > 0
	}
}
