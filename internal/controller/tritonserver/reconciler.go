// Package tritonserver reconciles KalypsoTritonServers into a Triton
// Deployment and its companions (Service, PodDisruptionBudget,
// HorizontalPodAutoscaler, ServiceMonitor): load, render, apply, status.
package tritonserver

import (
	"context"
	"encoding/json"
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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/index"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/secretwatch"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/statuspatch"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

const serviceMonitorCRD = "servicemonitors.monitoring.coreos.com"

// Reconciler reconciles a KalypsoTritonServer.
type Reconciler struct {
	client.Client
	// APIReader reads objects that are not cached (the optional ServiceMonitor).
	APIReader client.Reader
	// Secrets reports the versions of storage Secrets and their changes.
	Secrets                 *secretwatch.Watcher
	MaxConcurrentReconciles int
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
	recErr := r.reconcile(ctx, &srv)
	if err := r.writeStatus(ctx, before, &srv); err != nil {
		return ctrl.Result{}, errors.Join(recErr, err)
	}
	// Every wait is on a watched object (Application, Secret, Deployment),
	// so there is no timed requeue; errors back off in the work queue.
	return ctrl.Result{}, recErr
}

// reconcile does the work and fills srv.Status; the caller writes it once.
func (r *Reconciler) reconcile(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer) error {
	st := &srv.Status
	st.Selector = labels.SelectorFromSet(render.SelectorLabels(srv.Name)).String()

	app, err := r.application(ctx, srv)
	if err != nil {
		return err
	}
	if wait, proceed := applicationOutcome(srv, app); !proceed {
		// Waiting on the Application: its changes wake this server through
		// the mapped watch, so no requeue. Running children stay as they are.
		conditions.Apply(&st.Conditions, srv.Generation, wait)
		st.ObservedGeneration = srv.Generation
		return nil
	}

	secretVersion, err := r.secretVersion(ctx, app)
	if err != nil {
		return err
	}
	in := render.Input{Server: srv, Application: app, SecretVersion: secretVersion}
	children, err := render.Children(in)
	var specErr *render.InvalidSpecError
	var storageErr *render.InvalidStorageError
	switch {
	case errors.As(err, &storageErr):
		conditions.Apply(&st.Conditions, srv.Generation, conditions.Outcome{Stalled: true,
			Reason: servingv1alpha1.ReasonInvalidStorageURI, Message: storageErr.Error()})
		st.ObservedGeneration = srv.Generation
		return nil
	case errors.As(err, &specErr):
		conditions.Apply(&st.Conditions, srv.Generation, conditions.Outcome{Stalled: true,
			Reason: servingv1alpha1.ReasonInvalidSpec, Message: specErr.Error()})
		st.ObservedGeneration = srv.Generation
		return nil
	case err != nil:
		return err
	}

	var dep *appsv1.Deployment
	changedDeployment := false
	for _, child := range children {
		res, err := r.reconcileChild(ctx, srv, child)
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			// The namespace is going away, and the server with it: nothing to retry.
			conditions.Apply(&st.Conditions, srv.Generation, conditions.Outcome{
				Reason: servingv1alpha1.ReasonProgressing, Message: "namespace is terminating"})
			return nil
		}
		if err != nil {
			var conflict *conflictError
			if errors.As(err, &conflict) {
				conditions.Apply(&st.Conditions, srv.Generation, conditions.Outcome{Stalled: true,
					Reason: servingv1alpha1.ReasonChildConflict, Message: conflict.Error()})
				st.ObservedGeneration = srv.Generation
				return nil
			}
			return err
		}
		if child.GVK == render.DeploymentGVK {
			dep, changedDeployment = res.deployment, res.applied
		}
	}

	deploymentCounts(st, dep)
	st.Image = render.Image(srv.Spec.TritonConfig)
	st.Endpoints = render.Endpoints(srv)
	outcome := deploymentOutcome(dep)
	if changedDeployment {
		outcome = rolloutPending
	}
	conditions.Apply(&st.Conditions, srv.Generation, outcome)
	st.ObservedGeneration = srv.Generation
	return nil
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

// childResult reports what reconcileChild did.
type childResult struct {
	applied    bool
	deployment *appsv1.Deployment
}

// conflictError means an object with a child's name exists and is not ours.
type conflictError struct{ kind, name string }

func (e *conflictError) Error() string {
	return fmt.Sprintf("%s %q exists and is not controlled by this KalypsoTritonServer; rename or remove it", e.kind, e.name)
}

// reconcileChild applies one rendered child, or deletes the existing one
// when the spec no longer wants it. Objects not controlled by this server
// are never changed or deleted.
func (r *Reconciler) reconcileChild(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, child render.Child) (childResult, error) {
	if child.GVK == render.ServiceMonitorGVK {
		return childResult{}, r.reconcileServiceMonitor(ctx, srv, child)
	}
	live, err := r.live(ctx, srv, child.GVK)
	if err != nil {
		return childResult{}, err
	}
	if err := r.checkOwnership(ctx, srv, live, child.GVK); err != nil {
		return childResult{}, err
	}
	res := childResult{}
	if dep, ok := live.(*appsv1.Deployment); ok {
		res.deployment = dep
	}
	if child.Object == nil {
		if live != nil {
			return res, r.deleteOwned(ctx, live)
		}
		return res, nil
	}
	if err := r.releaseCollidingPorts(ctx, live, child.Object); err != nil {
		return res, err
	}
	applied, err := r.applyIfChanged(ctx, live, child.Object)
	// Only a new spec starts a rollout: an apply that restored metadata
	// (labels, an owner reference) leaves the Deployment's generation as is.
	res.applied = applied && (live == nil || child.Object.GetGeneration() != live.GetGeneration())
	return res, err
}

// releaseCollidingPorts removes, before the apply, a port that another
// field manager added or edited under the name of a port the operator
// renders (`kubectl edit` of a Service's port number does this). Ports are
// keyed by number, so the apply would add the operator's port next to it and
// be refused for the duplicate name; the server could never heal. Ports
// under other names are left alone.
func (r *Reconciler) releaseCollidingPorts(ctx context.Context, live client.Object, desired *unstructured.Unstructured) error {
	var patch map[string]any
	switch l := live.(type) {
	case *corev1.Service:
		want, _, _ := unstructured.NestedSlice(desired.Object, "spec", "ports")
		var drop []any
		for _, p := range l.Spec.Ports {
			if collides(want, "port", p.Name, int64(p.Port)) {
				drop = append(drop, map[string]any{"port": p.Port, "$patch": "delete"})
			}
		}
		if len(drop) > 0 {
			patch = map[string]any{"spec": map[string]any{"ports": drop}}
		}
	case *appsv1.Deployment:
		containers, _, _ := unstructured.NestedSlice(desired.Object, "spec", "template", "spec", "containers")
		var patched []any
		for _, c := range l.Spec.Template.Spec.Containers {
			want := portsOf(containers, c.Name)
			var drop []any
			for _, p := range c.Ports {
				if collides(want, "containerPort", p.Name, int64(p.ContainerPort)) {
					drop = append(drop, map[string]any{"containerPort": p.ContainerPort, "$patch": "delete"})
				}
			}
			if len(drop) > 0 {
				patched = append(patched, map[string]any{"name": c.Name, "ports": drop})
			}
		}
		if len(patched) > 0 {
			patch = map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": patched}}}}
		}
	}
	if patch == nil {
		return nil
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	log.FromContext(ctx).Info("removing ports another manager set under the operator's port names", "kind", desired.GetKind(), "name", live.GetName())
	if err := r.Patch(ctx, live, client.RawPatch(types.StrategicMergePatchType, data), client.FieldOwner(render.FieldOwner)); err != nil {
		return fmt.Errorf("removing colliding ports of %s %s: %w", desired.GetKind(), live.GetName(), err)
	}
	return nil
}

// collides reports whether a live port (name, number) takes the name of a
// wanted port with another number.
func collides(want []any, numberField, name string, number int64) bool {
	for _, w := range want {
		m, ok := w.(map[string]any)
		if !ok || name == "" || m["name"] != name {
			continue
		}
		wn, _, _ := unstructured.NestedFieldNoCopy(m, numberField)
		if fmt.Sprint(wn) != fmt.Sprint(number) {
			return true
		}
	}
	return false
}

// portsOf returns the rendered ports of the named container.
func portsOf(containers []any, name string) []any {
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == name {
			ports, _ := m["ports"].([]any)
			return ports
		}
	}
	return nil
}

// checkOwnership allows a reconcile to touch live (nil: absent) only when
// this server controls it, or when it is the server's own child whose owner
// reference was lost (see orphanedChild). Anything else is a conflict.
func (r *Reconciler) checkOwnership(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, live client.Object, gvk schema.GroupVersionKind) error {
	if live == nil || metav1.IsControlledBy(live, srv) {
		return nil
	}
	orphaned, err := r.orphanedChild(ctx, srv, live, gvk)
	if err != nil {
		return err
	}
	if !orphaned {
		return &conflictError{kind: gvk.Kind, name: srv.Name}
	}
	log.FromContext(ctx).Info("re-adopting a child whose owner reference was removed", "kind", gvk.Kind, "name", live.GetName())
	return nil
}

// orphanedChild reports whether live, which no one controls, is a child this
// operator applied for this very server and whose owner reference was then
// stripped (by a backup restore, a migration or a person). All of the
// operator's marks must be there: its managed-by and instance labels, its
// applied-hash annotation, and a server-side-apply entry of its field
// manager, read from the API server since the cache drops managed fields.
// The next apply restores the owner reference.
func (r *Reconciler) orphanedChild(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, live client.Object,
	gvk schema.GroupVersionKind) (bool, error) {
	if metav1.GetControllerOf(live) != nil {
		return false, nil
	}
	l := live.GetLabels()
	if l[render.LabelManagedBy] != render.ManagedByValue || l[render.LabelInstance] != srv.Name ||
		live.GetAnnotations()[apply.AnnotationHash] == "" {
		return false, nil
	}
	current := &metav1.PartialObjectMetadata{}
	current.SetGroupVersionKind(gvk)
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(live), current); err != nil {
		return false, fmt.Errorf("reading %s %s metadata: %w", gvk.Kind, live.GetName(), err)
	}
	if current.UID != live.GetUID() || metav1.GetControllerOf(current) != nil {
		return false, nil
	}
	for _, mf := range current.ManagedFields {
		if mf.Manager == render.FieldOwner && mf.Operation == metav1.ManagedFieldsOperationApply {
			return true, nil
		}
	}
	return false, nil
}

// live reads a child from the cache; nil when it does not exist.
func (r *Reconciler) live(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, gvk schema.GroupVersionKind) (client.Object, error) {
	var obj client.Object
	switch gvk {
	case render.DeploymentGVK:
		obj = &appsv1.Deployment{}
	case render.ServiceGVK:
		obj = &corev1.Service{}
	case render.PDBGVK:
		obj = &policyv1.PodDisruptionBudget{}
	case render.HPAGVK:
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	default:
		return nil, fmt.Errorf("unknown child kind %s", gvk)
	}
	if err := r.Get(ctx, client.ObjectKeyFromObject(srv), obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s: %w", gvk, err)
	}
	return obj, nil
}

func (r *Reconciler) applyIfChanged(ctx context.Context, live client.Object, desired *unstructured.Unstructured) (bool, error) {
	if err := apply.Prepare(desired); err != nil {
		return false, err
	}
	if live != nil {
		upToDate, err := apply.UpToDate(live, desired)
		if err != nil {
			return false, err
		}
		if upToDate {
			return false, nil
		}
	}
	reason := "absent"
	if live != nil {
		reason = apply.Diff(live, desired)
	}
	log.FromContext(ctx).V(1).Info("applying", "kind", desired.GetKind(), "name", desired.GetName(), "diff", reason)
	return true, apply.Apply(ctx, r.Client, desired, apply.Options{FieldOwner: render.FieldOwner})
}

func (r *Reconciler) deleteOwned(ctx context.Context, obj client.Object) error {
	uid := obj.GetUID()
	err := r.Delete(ctx, obj, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s: %w", client.ObjectKeyFromObject(obj), err)
	}
	return nil
}

// reconcileServiceMonitor handles the optional ServiceMonitor. Without the
// CRD the server still serves; the condition says why there is no monitor.
func (r *Reconciler) reconcileServiceMonitor(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, child render.Child) error {
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

	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(render.ServiceMonitorGVK)
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(srv), live); err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading ServiceMonitor: %w", err)
		}
		live = nil
	}
	var liveObj client.Object
	if live != nil {
		liveObj = live
	}
	if err := r.checkOwnership(ctx, srv, liveObj, render.ServiceMonitorGVK); err != nil {
		return err
	}
	if child.Object == nil {
		if liveObj != nil {
			return r.deleteOwned(ctx, liveObj)
		}
		return nil
	}
	if _, err := r.applyIfChanged(ctx, liveObj, child.Object); err != nil {
		return err
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

// writeStatus patches the status once, and only when it changed.
func (r *Reconciler) writeStatus(ctx context.Context, before, srv *servingv1alpha1.KalypsoTritonServer) error {
	srv.Status.Phase = conditions.Phase(srv.Status.Conditions, !srv.DeletionTimestamp.IsZero())
	return statuspatch.IfChanged(ctx, r.Client, before, srv,
		func(s *servingv1alpha1.KalypsoTritonServer) any { return s.Status })
}

// SetupWithManager registers the reconciler and its watches; the field
// indexes it lists by are registered by index.Register.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))

	return ctrl.NewControllerManagedBy(mgr).
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
