// Package application reconciles KalypsoApplications: it checks that the
// Application belongs to its namespace's project and that its storage
// Secret holds the keys the storage type needs, and aggregates its servers.
package application

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/index"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/outcome"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/secretwatch"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// Reconciler reconciles a KalypsoApplication.
type Reconciler struct {
	client.Client
	// APIReader reads the storage Secret by name, uncached: only its key
	// names are inspected, and no Secret is kept in memory.
	APIReader client.Reader
	// Secrets wakes the Applications whose storage Secret changed.
	Secrets *secretwatch.Watcher
	// Recorder records Events (events.k8s.io) on the Application.
	Recorder                recorder.EventRecorder
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoapplications,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoapplications/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsotritonservers,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile checks the Application and aggregates its servers.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var app servingv1alpha1.KalypsoApplication
	if err := r.Get(ctx, req.NamespacedName, &app); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := app.DeepCopy()
	done, err := r.reconcile(ctx, &app)
	return outcome.Finish(ctx, outcome.Finisher{Client: r.Client, Recorder: r.Recorder}, before, &app,
		func(a *servingv1alpha1.KalypsoApplication) any { return a.Status }, done, err)
}

func (r *Reconciler) reconcile(ctx context.Context, app *servingv1alpha1.KalypsoApplication) (conditions.Outcome, error) {
	st := &app.Status
	var servers servingv1alpha1.KalypsoTritonServerList
	if err := r.List(ctx, &servers, client.InNamespace(app.Namespace), client.MatchingFields{index.ServerApplication: app.Name}); err != nil {
		return conditions.Outcome{}, fmt.Errorf("listing servers: %w", err)
	}
	summarize(st, servers.Items)
	summarizeModels(st, servers.Items)

	nsProject, err := r.namespaceProject(ctx, app.Namespace)
	if err != nil {
		return conditions.Outcome{}, err
	}
	project, mismatch := projectOutcome(app, nsProject)
	st.Project = project
	if mismatch != nil {
		st.StorageType = ""
		meta.RemoveStatusCondition(&st.Conditions, servingv1alpha1.ConditionStorageReady)
		return conditions.Outcome{}, &outcome.Error{Outcome: *mismatch}
	}

	storage, err := r.storageOutcome(ctx, app, servers.Items)
	if err != nil {
		return conditions.Outcome{}, err
	}
	if !storage.Ready {
		conditions.Set(&st.Conditions, app.Generation, servingv1alpha1.ConditionStorageReady, metav1.ConditionFalse, storage.Reason, storage.Message)
		return conditions.Outcome{}, &outcome.Error{Outcome: storage}
	}
	conditions.Set(&st.Conditions, app.Generation, servingv1alpha1.ConditionStorageReady, metav1.ConditionTrue, storage.Reason, storage.Message)
	return conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled,
		Message: fmt.Sprintf("%d of %d servers ready", st.ReadyServers, st.Servers)}, nil
}

// namespaceProject returns the project label of a namespace.
func (r *Reconciler) namespaceProject(ctx context.Context, name string) (string, error) {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.Get(ctx, types.NamespacedName{Name: name}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			// The cache holds only namespaces the operator created; any
			// other namespace belongs to no project.
			return "", nil
		}
		return "", fmt.Errorf("reading namespace %s: %w", name, err)
	}
	if ns.Labels[render.LabelManagedBy] != render.ManagedByValue {
		// Only namespaces the operator created carry a trustworthy label.
		return "", nil
	}
	return ns.Labels[render.LabelProject], nil
}

// storageOutcome checks the storage Secret's key names. A missing Secret or
// key is a spec problem for a person to fix (Stalled); the Secret's watch
// brings the Application back when it is fixed.
func (r *Reconciler) storageOutcome(ctx context.Context, app *servingv1alpha1.KalypsoApplication,
	servers []servingv1alpha1.KalypsoTritonServer) (conditions.Outcome, error) {
	st := &app.Status
	t, err := storageType(app, servers)
	st.StorageType = t
	if err != nil {
		return conditions.Outcome{Stalled: true, Reason: servingv1alpha1.ReasonInvalidSpec, Message: err.Error()}, nil
	}
	if app.Spec.Storage == nil || app.Spec.Storage.SecretRef == nil {
		return conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled,
			Message: "no storage secret: servers use their service account's workload identity"}, nil
	}
	name := app.Spec.Storage.SecretRef.Name
	var secret corev1.Secret
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: name}, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return conditions.Outcome{Stalled: true, Reason: servingv1alpha1.ReasonSecretNotFound,
				Message: fmt.Sprintf("Secret %q not found in namespace %s", name, app.Namespace)}, nil
		}
		return conditions.Outcome{}, fmt.Errorf("reading Secret %s: %w", name, err)
	}
	have := make(map[string]bool, len(secret.Data)+len(secret.StringData))
	for k := range secret.Data {
		have[k] = true
	}
	// Drop the values at once: only key names are used from here on.
	secret.Data, secret.StringData = nil, nil
	if t == "" {
		return conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled,
			Message: fmt.Sprintf("Secret %q found; no server needs object-store credentials yet", name)}, nil
	}
	if missing := missingKeys(t, have); len(missing) > 0 {
		return conditions.Outcome{Stalled: true, Reason: servingv1alpha1.ReasonSecretKeyMissing,
			Message: fmt.Sprintf("Secret %q lacks key(s) %s needed for %s storage", name, strings.Join(missing, ", "), t)}, nil
	}
	return conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled,
		Message: fmt.Sprintf("Secret %q holds the %s credentials keys", name, t)}, nil
}

// SetupWithManager registers the reconciler and its watches; the field
// indexes it lists by are registered by index.Register.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))

	return ctrl.NewControllerManagedBy(mgr).
		// Every update, status included, is seen: a reconcile that ran on a
		// cache not yet holding the previous status write would otherwise
		// skip a needed write and nothing would wake it again.
		For(&servingv1alpha1.KalypsoApplication{}).
		Watches(&servingv1alpha1.KalypsoTritonServer{}, coalescedApplicationOfServer(),
			builder.WithPredicates(serverSummaryChanged())).
		WatchesRawSource(r.Secrets.Source(handler.EnqueueRequestsFromMapFunc(r.applicationsOfSecret))).
		Watches(ns, handler.EnqueueRequestsFromMapFunc(r.applicationsInNamespace), builder.OnlyMetadata,
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("kalypsoapplication").
		Complete(r)
}

// aggregationDelay coalesces server events into one Application status
// write: a burst of N servers becomes about one write per delay, not N.
const aggregationDelay = time.Second

// coalescedApplicationOfServer enqueues a server's Application after
// aggregationDelay; the work queue keeps one pending item per Application.
func coalescedApplicationOfServer() handler.TypedEventHandler[client.Object, reconcile.Request] {
	enqueue := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		srv, ok := o.(*servingv1alpha1.KalypsoTritonServer)
		if !ok {
			return
		}
		q.AddAfter(reconcile.Request{NamespacedName: types.NamespacedName{
			Namespace: srv.Namespace, Name: srv.Spec.ApplicationRef.Name}}, aggregationDelay)
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.ObjectNew, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
	}
}

// serverSummaryChanged passes server events that change what the
// Application shows of it: creation, deletion, storage URI, readiness,
// endpoint, or which models it lists and serves (not a model's reason text
// alone).
func serverSummaryChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*servingv1alpha1.KalypsoTritonServer)
			n, ok2 := e.ObjectNew.(*servingv1alpha1.KalypsoTritonServer)
			if !ok1 || !ok2 {
				return true
			}
			return o.Spec.StorageURI != n.Spec.StorageURI ||
				serverReady(o) != serverReady(n) ||
				!equality.Semantic.DeepEqual(o.Status.Endpoints, n.Status.Endpoints) ||
				!modelsViewEqual(o.Status.Models, n.Status.Models)
		},
	}
}

func serverReady(s *servingv1alpha1.KalypsoTritonServer) bool {
	return meta.IsStatusConditionTrue(s.Status.Conditions, servingv1alpha1.ConditionReady) && s.Status.ObservedGeneration == s.Generation
}

func (r *Reconciler) applicationsOfSecret(ctx context.Context, o client.Object) []reconcile.Request {
	return index.Requests(ctx, r, &servingv1alpha1.KalypsoApplicationList{},
		client.InNamespace(o.GetNamespace()), client.MatchingFields{index.ApplicationSecret: o.GetName()})
}

func (r *Reconciler) applicationsInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	return index.Requests(ctx, r, &servingv1alpha1.KalypsoApplicationList{}, client.InNamespace(o.GetName()))
}
