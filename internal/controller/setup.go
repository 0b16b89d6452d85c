package controller

import (
	"context"
	"fmt"
	"net"
	"time"

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
	"github.com/kalypsoserving/kalypso-serving/internal/controller/modelsync"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/project"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/secretwatch"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/tritonserver"
	"github.com/kalypsoserving/kalypso-serving/internal/metrics"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

// EventSource is the reporting controller of the operator's Events.
const EventSource = "kalypso-serving"

// Options tune every reconciler.
type Options struct {
	// MaxConcurrentReconciles per kind.
	MaxConcurrentReconciles int
	// Triton is how the manager reaches Triton pods; the zero value never
	// contacts a pod (model status off, explicit models as --load-model).
	Triton TritonAccess
}

// TritonAccess configures the one client that talks to Triton pods.
type TritonAccess struct {
	// Direct dials a pod's own IP (a real cluster's pod network).
	Direct bool
	// Map dials, for pod IPs in a prefix, a fake Triton on loopback
	// (simulated clusters, whose pod IPs exist nowhere). It wins over Direct.
	Map tritonapi.AddressMap
	// Dial replaces the network dial under the dialer (tests record it).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Interval between readings of a server's pods (default 30s).
	Interval time.Duration
	// RequestTimeout bounds an index read; LoadTimeout a model load.
	RequestTimeout, LoadTimeout time.Duration
	// OperatorNamespace is admitted to the pods' HTTP port by the
	// environments' NetworkPolicy when access is on.
	OperatorNamespace string
}

// Syncer builds the model syncer of a: off when a reaches no pod.
func (a TritonAccess) Syncer() *modelsync.Syncer {
	d := &tritonapi.Dialer{Direct: a.Direct, Map: a.Map, Dial: a.Dial}
	opts := modelsync.Options{Interval: a.Interval}
	if !d.Enabled() {
		opts.Why = "the manager was started without access to Triton pods (--triton-access=direct on a real cluster, " +
			"--triton-address-map on a simulated one)"
		return modelsync.New(nil, opts)
	}
	return modelsync.New(tritonapi.NewClient(d, tritonapi.Options{RequestTimeout: a.RequestTimeout, LoadTimeout: a.LoadTimeout}), opts)
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
			// Pods are watched only when the manager reads Triton pods, and
			// then only the operator's, stripped to the fields it reads.
			&corev1.Pod{}:                 {Label: ours.Label, Transform: StripPod},
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

// SetupWithManager registers the field indexes, the three reconcilers and
// the fleet metrics.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if err := index.Register(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("registering field indexes: %w", err)
	}
	if err := metrics.AddFleet(mgr); err != nil {
		return err
	}
	meta, err := metadata.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return fmt.Errorf("creating the metadata client: %w", err)
	}
	secrets := secretwatch.New(meta, mgr.GetAPIReader(), applicationsUse(mgr.GetClient()))
	if err := mgr.Add(secrets); err != nil {
		return fmt.Errorf("adding the Secret watch: %w", err)
	}
	models := opts.Triton.Syncer()
	operatorNamespace := ""
	if models.Enabled() {
		operatorNamespace = opts.Triton.OperatorNamespace
		if err := index.RegisterPods(context.Background(), mgr.GetFieldIndexer()); err != nil {
			return fmt.Errorf("registering the pod index: %w", err)
		}
	}
	if err := (&project.Reconciler{
		OperatorNamespace:       operatorNamespace,
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
		Models:                  models,
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

// StripPod keeps of a pod what the model reader looks at: identity, labels,
// owners, deletion, phase, IP, condition types and statuses, and container
// readiness and restarts. Timestamps and probe times are dropped, so a pod
// update that changes nothing read compares equal.
func StripPod(o any) (any, error) {
	p, ok := o.(*corev1.Pod)
	if !ok {
		return o, nil
	}
	out := &corev1.Pod{TypeMeta: p.TypeMeta, ObjectMeta: metav1.ObjectMeta{
		Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
		Labels: p.Labels, OwnerReferences: p.OwnerReferences, DeletionTimestamp: p.DeletionTimestamp,
	}}
	out.Status.Phase, out.Status.PodIP = p.Status.Phase, p.Status.PodIP
	for _, c := range p.Status.Conditions {
		out.Status.Conditions = append(out.Status.Conditions, corev1.PodCondition{Type: c.Type, Status: c.Status})
	}
	for _, c := range p.Status.ContainerStatuses {
		out.Status.ContainerStatuses = append(out.Status.ContainerStatuses,
			corev1.ContainerStatus{Name: c.Name, Ready: c.Ready, RestartCount: c.RestartCount})
	}
	return out, nil
}
