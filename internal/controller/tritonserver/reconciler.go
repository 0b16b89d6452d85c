// Package tritonserver reconciles KalypsoTritonServers into a Triton
// Deployment and its companions (Service, PodDisruptionBudget,
// HorizontalPodAutoscaler, ServiceMonitor): load, render, apply, status.
package tritonserver

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/index"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/modelsync"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/outcome"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/secretwatch"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// Reconciler reconciles a KalypsoTritonServer.
type Reconciler struct {
	client.Client
	// APIReader reads objects that are not cached (the optional ServiceMonitor).
	APIReader client.Reader
	// Secrets reports the versions of storage Secrets and their changes.
	Secrets *secretwatch.Watcher
	// Recorder records Events (events.k8s.io) on the server.
	Recorder                recorder.EventRecorder
	MaxConcurrentReconciles int
	// Models reads the pods' model status and loads declared models; off
	// (nil or without a client) unless the manager was given pod access.
	Models *modelsync.Syncer
}

// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsotritonservers,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsotritonservers/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoapplications,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=servicemonitors,verbs=get;create;update;patch;delete
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods/status,verbs=patch

// Reconcile brings one server's children to its spec and reports status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var srv servingv1alpha1.KalypsoTritonServer
	if err := r.Get(ctx, req.NamespacedName, &srv); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !srv.DeletionTimestamp.IsZero() {
		// Children carry owner references; garbage collection removes them.
		return ctrl.Result{}, nil
	}
	before := srv.DeepCopy()
	done, err := r.reconcile(ctx, &srv)
	res, err := outcome.Finish(ctx, outcome.Finisher{Client: r.Client, Recorder: r.Recorder}, before, &srv,
		func(s *servingv1alpha1.KalypsoTritonServer) any { return s.Status }, done, err)
	if err == nil {
		// What pods serve changes without an event (a model failing in
		// Triton): their index is read again after a jittered interval.
		res.RequeueAfter = r.nextReading(&srv)
	}
	return res, err
}

// reconcile does the work and fills srv.Status; Finish concludes it.
func (r *Reconciler) reconcile(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer) (conditions.Outcome, error) {
	st := &srv.Status
	st.Selector = labels.SelectorFromSet(render.SelectorLabels(srv.Name)).String()

	app, err := r.application(ctx, srv)
	if err != nil {
		return conditions.Outcome{}, err
	}
	if wait, proceed := applicationOutcome(srv, app); !proceed {
		// Waiting on the Application: its changes wake this server through
		// the mapped watch. Running children stay as they are.
		return conditions.Outcome{}, &outcome.Error{Outcome: wait}
	}
	secretVersion, err := r.secretVersion(ctx, app)
	if err != nil {
		return conditions.Outcome{}, err
	}
	children, err := render.Children(render.Input{Server: srv, Application: app, SecretVersion: secretVersion,
		OperatorLoadsModels: r.readsModels(srv)})
	if err != nil {
		return conditions.Outcome{}, renderOutcome(ctx, err)
	}
	if rejected := rejectedAtThisGeneration(srv); rejected != nil {
		// The API server refused a child of this very spec: applying it
		// again cannot succeed until the spec changes.
		return conditions.Outcome{}, outcome.Stalled(servingv1alpha1.ReasonChildRejected, "%s", rejected.Message)
	}
	dep, rollout, err := r.applyChildren(ctx, srv, children)
	if err != nil {
		return conditions.Outcome{}, err
	}
	deploymentCounts(st, dep)
	st.Image = render.Image(srv.Spec.TritonConfig)
	st.Endpoints = render.Endpoints(srv)
	models, err := r.observeModels(ctx, srv)
	if err != nil {
		return conditions.Outcome{}, err
	}
	if rollout {
		return rolloutPending, nil
	}
	out := deploymentOutcome(dep)
	switch {
	case models == nil || out.Reason == servingv1alpha1.ReasonScaledToZero:
		return out, nil
	case out.Ready, out.Reason == servingv1alpha1.ReasonDeploymentUnavailable && models.Reason != servingv1alpha1.ReasonNoReadyReplicas:
		// Pods that run but are not available because their models are
		// not served (the readiness gate): the models say why.
		return *models, nil
	}
	return out, nil
}

// renderOutcome maps a renderer refusal to the server's outcome: a spec
// that cannot work stalls the server before anything is applied.
func renderOutcome(ctx context.Context, err error) error {
	var specErr *render.InvalidSpecError
	var storageErr *render.InvalidStorageError
	var grammarErr *render.GrammarViolationError
	switch {
	case errors.As(err, &storageErr):
		return outcome.Stalled(servingv1alpha1.ReasonInvalidStorageURI, "%s", storageErr.Error())
	case errors.As(err, &specErr):
		return outcome.Stalled(servingv1alpha1.ReasonInvalidSpec, "%s", specErr.Error())
	case errors.As(err, &grammarErr):
		// A renderer bug for this spec: nothing is applied, and the user sees
		// which flag Triton would refuse. Tests fail on it (rendertest).
		log.FromContext(ctx).Error(grammarErr, "rendered command line violates Triton's grammar")
		return outcome.Stalled(servingv1alpha1.ReasonInvalidSpec, "%s", grammarErr.Error())
	}
	return err
}

func (r *Reconciler) application(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer) (*servingv1alpha1.KalypsoApplication, error) {
	var app servingv1alpha1.KalypsoApplication
	key := types.NamespacedName{Namespace: srv.Namespace, Name: srv.Spec.ApplicationRef.Name}
	if err := r.Get(ctx, key, &app); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading KalypsoApplication %s: %w", key, err)
	}
	return &app, nil
}

// secretVersion identifies the storage Secret's current version from its
// metadata only (the operator never reads secret values). It changes when
// the Secret changes, which rolls the pods.
func (r *Reconciler) secretVersion(ctx context.Context, app *servingv1alpha1.KalypsoApplication) (string, error) {
	if app.Spec.Storage == nil || app.Spec.Storage.SecretRef == nil {
		return "", nil
	}
	return r.Secrets.Version(ctx, types.NamespacedName{Namespace: app.Namespace, Name: app.Spec.Storage.SecretRef.Name})
}

// SetupWithManager registers the reconciler and its watches; the field
// indexes it lists by are registered by index.Register.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))

	b := ctrl.NewControllerManagedBy(mgr)
	if r.Models.Enabled() {
		// Pods are watched only when the operator may ask them: their
		// changes (a container ready or restarted, a pod added) are when the
		// index is read and the declared set enforced.
		b = b.Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.serverOfPod), builder.WithPredicates(r.podChanged())).
			WatchesRawSource(r.Models.Source())
	}
	return b.
		// Every update, status included, is seen: a reconcile that ran on a
		// cache not yet holding the previous status write would otherwise
		// skip a needed write (or a cleanup) and nothing would wake it. A
		// status that is already right costs a reconcile, never a write.
		For(&servingv1alpha1.KalypsoTritonServer{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Watches(&servingv1alpha1.KalypsoApplication{}, handler.EnqueueRequestsFromMapFunc(r.serversOfApplication),
			builder.WithPredicates(applicationChanged())).
		WatchesRawSource(r.Secrets.Source(handler.EnqueueRequestsFromMapFunc(r.serversOfSecret))).
		Watches(&corev1.ResourceQuota{}, handler.EnqueueRequestsFromMapFunc(r.serversAwaitingQuota)).
		Watches(crd, handler.EnqueueRequestsFromMapFunc(r.serversWantingServiceMonitor), builder.OnlyMetadata,
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == serviceMonitorCRD }))).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("kalypsotritonserver").
		Complete(r)
}

// applicationChanged passes Application events that can change its servers:
// a spec change (storage settings) or a change of readiness. Changes of the
// Application's own aggregate (ready server counts) do not wake the servers.
func applicationChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*servingv1alpha1.KalypsoApplication)
			n, ok2 := e.ObjectNew.(*servingv1alpha1.KalypsoApplication)
			if !ok1 || !ok2 {
				return true
			}
			return o.Generation != n.Generation || o.Status.StorageType != n.Status.StorageType ||
				applicationReady(o) != applicationReady(n)
		},
	}
}

func (r *Reconciler) serversOfApplication(ctx context.Context, o client.Object) []reconcile.Request {
	return index.Requests(ctx, r, &servingv1alpha1.KalypsoTritonServerList{},
		client.InNamespace(o.GetNamespace()), client.MatchingFields{index.ServerApplication: o.GetName()})
}

func (r *Reconciler) serversOfSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var apps servingv1alpha1.KalypsoApplicationList
	if err := r.List(ctx, &apps, client.InNamespace(o.GetNamespace()), client.MatchingFields{index.ApplicationSecret: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "listing applications of secret", "secret", o.GetName())
		return nil
	}
	var out []reconcile.Request
	for i := range apps.Items {
		out = append(out, r.serversOfApplication(ctx, &apps.Items[i])...)
	}
	return out
}

func (r *Reconciler) serversWantingServiceMonitor(ctx context.Context, _ client.Object) []reconcile.Request {
	return index.Requests(ctx, r, &servingv1alpha1.KalypsoTritonServerList{}, client.MatchingFields{index.ServerServiceMonitor: "true"})
}

// rejectedAtThisGeneration returns the Stalled condition when the API
// server refused a child of the current generation.
func rejectedAtThisGeneration(srv *servingv1alpha1.KalypsoTritonServer) *metav1.Condition {
	c := meta.FindStatusCondition(srv.Status.Conditions, servingv1alpha1.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != servingv1alpha1.ReasonChildRejected ||
		srv.Status.ObservedGeneration != srv.Generation {
		return nil
	}
	return c
}
