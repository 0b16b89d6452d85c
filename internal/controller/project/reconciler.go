// Package project reconciles KalypsoProjects into governed environment
// namespaces: Namespace with Pod Security labels, ResourceQuota, LimitRange,
// default-deny ingress NetworkPolicy and RoleBindings for the project's people.
package project

import (
	"context"
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/statuspatch"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// Reconciler reconciles a KalypsoProject.
type Reconciler struct {
	client.Client
	// APIReader confirms, uncached, who owns a namespace that already exists.
	APIReader               client.Reader
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoprojects,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoprojects/status,verbs=get;patch;update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=kalypso-serving-admin;kalypso-serving-editor;kalypso-serving-viewer

// Reconcile governs every environment of a project and reports each.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var proj servingv1alpha1.KalypsoProject
	if err := r.Get(ctx, req.NamespacedName, &proj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !proj.DeletionTimestamp.IsZero() {
		// Owner references let garbage collection remove what was created.
		return ctrl.Result{}, nil
	}
	before := proj.DeepCopy()
	var errs []error
	statuses := make([]servingv1alpha1.EnvironmentStatus, 0, len(proj.Spec.Environments))
	for _, env := range proj.Spec.Environments {
		in := render.EnvInput{Project: &proj, Env: env}
		st, err := r.reconcileEnvironment(ctx, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", in, err))
		}
		statuses = append(statuses, st)
	}
	if err := r.removeDroppedEnvironments(ctx, &proj); err != nil {
		errs = append(errs, err)
	}
	recErr := errors.Join(errs...)
	setStatus(&proj, statuses, recErr)

	err := statuspatch.IfChanged(ctx, r.Client, before, &proj,
		func(p *servingv1alpha1.KalypsoProject) any { return p.Status })
	return ctrl.Result{}, errors.Join(recErr, err)
}

// reconcileEnvironment creates or updates one environment. A namespace that
// exists and was not created by this project is never touched.
func (r *Reconciler) reconcileEnvironment(ctx context.Context, in render.EnvInput) (servingv1alpha1.EnvironmentStatus, error) {
	nsName := render.EnvNamespace(in.Project.Name, in.Env)
	st := servingv1alpha1.EnvironmentStatus{Name: in.Env.Name, Namespace: nsName}

	owned, terminating, err := r.ensureNamespace(ctx, in, nsName)
	if err != nil {
		return notReady(st, servingv1alpha1.ReasonApplyFailed, err.Error()), err
	}
	if !owned {
		return notReady(st, servingv1alpha1.ReasonNamespaceConflict, fmt.Sprintf(
			"namespace %s exists and was not created by this project; it is left untouched", nsName)), nil
	}
	if terminating {
		return notReady(st, servingv1alpha1.ReasonProgressing, fmt.Sprintf("namespace %s is terminating", nsName)), nil
	}
	for _, child := range render.EnvChildren(in) {
		if err := r.reconcileChild(ctx, in, nsName, child); err != nil {
			return notReady(st, servingv1alpha1.ReasonApplyFailed, err.Error()), err
		}
	}
	st.Ready = true
	st.Reason = servingv1alpha1.ReasonReconciled
	return st, nil
}

func notReady(st servingv1alpha1.EnvironmentStatus, reason, msg string) servingv1alpha1.EnvironmentStatus {
	st.Ready, st.Reason, st.Message = false, reason, msg
	return st
}

// ensureNamespace creates the namespace, or updates it when this project
// created it. It reports whether the namespace is the project's.
func (r *Reconciler) ensureNamespace(ctx context.Context, in render.EnvInput, name string) (owned, terminating bool, err error) {
	desired := &unstructured.Unstructured{Object: render.Namespace(in)}
	if err := apply.Prepare(desired); err != nil {
		return false, false, err
	}
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err = r.Get(ctx, types.NamespacedName{Name: name}, live)
	if apierrors.IsNotFound(err) {
		// The cache holds only namespaces the operator labelled. Create, never
		// apply, a namespace that is not there: Create fails on an existing
		// one instead of adopting it.
		createErr := r.Create(ctx, desired.DeepCopy(), client.FieldOwner(render.FieldOwner))
		if createErr == nil {
			return true, false, nil
		}
		if !apierrors.IsAlreadyExists(createErr) {
			return false, false, fmt.Errorf("creating namespace %s: %w", name, createErr)
		}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Name: name}, live); err != nil {
			return false, false, fmt.Errorf("reading namespace %s: %w", name, err)
		}
	} else if err != nil {
		return false, false, fmt.Errorf("reading namespace %s: %w", name, err)
	}
	if live.Annotations[render.AnnotationProject] != string(in.Project.UID) {
		return false, false, nil
	}
	if !live.DeletionTimestamp.IsZero() {
		return true, true, nil
	}
	upToDate, err := apply.UpToDate(live, desired)
	if err != nil || upToDate {
		return true, false, err
	}
	return true, false, apply.Apply(ctx, r.Client, desired, apply.Options{FieldOwner: render.FieldOwner})
}

// reconcileChild applies or removes one governed object in the namespace.
func (r *Reconciler) reconcileChild(ctx context.Context, in render.EnvInput, ns string, child render.EnvChild) error {
	live := newObject(child.Kind)
	err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: child.Name}, live)
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading %s %s: %w", child.Kind, child.Name, err)
	}
	if child.Object == nil {
		if exists && live.GetLabels()[render.LabelProject] == in.Project.Name {
			uid := live.GetUID()
			if err := r.Delete(ctx, live, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting %s %s: %w", child.Kind, child.Name, err)
			}
		}
		return nil
	}
	desired := &unstructured.Unstructured{Object: child.Object}
	if err := apply.Prepare(desired); err != nil {
		return err
	}
	if exists {
		upToDate, err := apply.UpToDate(live, desired)
		if err != nil || upToDate {
			return err
		}
	}
	return apply.Apply(ctx, r.Client, desired, apply.Options{FieldOwner: render.FieldOwner})
}

func newObject(kind string) client.Object {
	switch kind {
	case "ResourceQuota":
		return &corev1.ResourceQuota{}
	case "LimitRange":
		return &corev1.LimitRange{}
	case "NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	default:
		return &rbacv1.RoleBinding{}
	}
}

// removeDroppedEnvironments deletes (deletionPolicy Delete) the namespaces
// this project created for environments no longer in its spec. With Retain
// they are left in place.
func (r *Reconciler) removeDroppedEnvironments(ctx context.Context, proj *servingv1alpha1.KalypsoProject) error {
	if proj.Spec.DeletionPolicy == servingv1alpha1.DeletionPolicyRetain {
		return nil
	}
	want := map[string]bool{}
	for _, env := range proj.Spec.Environments {
		want[render.EnvNamespace(proj.Name, env)] = true
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	if err := r.List(ctx, list, client.MatchingLabels{render.LabelProject: proj.Name, render.LabelManagedBy: render.ManagedByValue}); err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	var errs []error
	for i := range list.Items {
		ns := &list.Items[i]
		if want[ns.Name] || ns.Annotations[render.AnnotationProject] != string(proj.UID) || !ns.DeletionTimestamp.IsZero() {
			continue
		}
		log.FromContext(ctx).Info("deleting namespace of a removed environment", "namespace", ns.Name)
		uid := ns.UID
		if err := r.Delete(ctx, ns, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting namespace %s: %w", ns.Name, err))
		}
	}
	return errors.Join(errs...)
}

// setStatus summarises the environments into the project's conditions.
func setStatus(proj *servingv1alpha1.KalypsoProject, envs []servingv1alpha1.EnvironmentStatus, recErr error) {
	sort.Slice(envs, func(i, j int) bool { return envs[i].Name < envs[j].Name })
	proj.Status.Environments = envs
	proj.Status.EnvironmentCount = int32(len(envs)) //nolint:gosec // at most 16 by schema
	conditions.Apply(&proj.Status.Conditions, proj.Generation, projectOutcome(envs, recErr))
	if recErr == nil {
		proj.Status.ObservedGeneration = proj.Generation
	}
	proj.Status.Phase = conditions.Phase(proj.Status.Conditions, !proj.DeletionTimestamp.IsZero())
}

// projectOutcome is Ready when every environment is; a namespace conflict
// needs a person (Stalled); anything else is still in progress.
func projectOutcome(envs []servingv1alpha1.EnvironmentStatus, recErr error) conditions.Outcome {
	ready, conflicts := 0, 0
	var firstConflict string
	for _, e := range envs {
		switch {
		case e.Ready:
			ready++
		case e.Reason == servingv1alpha1.ReasonNamespaceConflict:
			conflicts++
			if firstConflict == "" {
				firstConflict = e.Message
			}
		}
	}
	switch {
	case conflicts > 0:
		return conditions.Outcome{Stalled: true, Reason: servingv1alpha1.ReasonNamespaceConflict,
			Message: fmt.Sprintf("%d of %d environments ready; %s", ready, len(envs), firstConflict)}
	case recErr != nil:
		return conditions.Outcome{Reason: servingv1alpha1.ReasonApplyFailed, Message: recErr.Error()}
	case ready < len(envs):
		return conditions.Outcome{Reason: servingv1alpha1.ReasonProgressing,
			Message: fmt.Sprintf("%d of %d environments ready", ready, len(envs))}
	default:
		return conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled,
			Message: fmt.Sprintf("%d environments ready", len(envs))}
	}
}

// SetupWithManager registers the reconciler. Governed objects are watched
// through a cache that holds only objects labelled managed-by=kalypso-serving
// (see controller.CacheOptions), and mapped back by their project label.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	toProject := handler.EnqueueRequestsFromMapFunc(projectOf)
	return ctrl.NewControllerManagedBy(mgr).
		For(&servingv1alpha1.KalypsoProject{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(ns, toProject, builder.OnlyMetadata).
		Watches(&corev1.ResourceQuota{}, toProject).
		Watches(&corev1.LimitRange{}, toProject).
		Watches(&networkingv1.NetworkPolicy{}, toProject).
		Watches(&rbacv1.RoleBinding{}, toProject).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("kalypsoproject").
		Complete(r)
}

func projectOf(_ context.Context, o client.Object) []reconcile.Request {
	if o.GetLabels()[render.LabelManagedBy] != render.ManagedByValue {
		return nil
	}
	p := o.GetLabels()[render.LabelProject]
	if p == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: p}}}
}
