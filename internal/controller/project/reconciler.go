// Package project reconciles KalypsoProjects into governed environment
// namespaces: Namespace with Pod Security labels, ResourceQuota, LimitRange,
// default-deny ingress NetworkPolicy and RoleBindings for the project's people.
package project

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/outcome"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// Reconciler reconciles a KalypsoProject.
type Reconciler struct {
	client.Client
	// APIReader confirms, uncached, who owns a namespace that already exists.
	APIReader client.Reader
	// Recorder records Events (events.k8s.io) on the project.
	Recorder                recorder.EventRecorder
	MaxConcurrentReconciles int
	// OperatorNamespace is admitted to the Triton pods' HTTP port by every
	// environment's NetworkPolicy; empty when the operator does not read pods.
	OperatorNamespace string
}

// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoprojects,verbs=get;list;watch
// +kubebuilder:rbac:groups=serving.kalypso.io,resources=kalypsoprojects/status,verbs=get;patch;update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
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
	done, err := r.reconcile(ctx, &proj)
	f := outcome.Finisher{Client: r.Client, Recorder: r.Recorder, TransientReason: servingv1alpha1.ReasonApplyFailed}
	return outcome.Finish(ctx, f, before, &proj, func(p *servingv1alpha1.KalypsoProject) any { return p.Status }, done, err)
}

func (r *Reconciler) reconcile(ctx context.Context, proj *servingv1alpha1.KalypsoProject) (conditions.Outcome, error) {
	var errs []error
	statuses := make([]servingv1alpha1.EnvironmentStatus, 0, len(proj.Spec.Environments))
	for _, env := range proj.Spec.Environments {
		in := render.EnvInput{Project: proj, Env: env, OperatorNamespace: r.OperatorNamespace}
		st, err := r.reconcileEnvironment(ctx, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", in, err))
		}
		statuses = append(statuses, st)
	}
	if err := r.removeDroppedEnvironments(ctx, proj); err != nil {
		errs = append(errs, err)
	}
	sort.Slice(statuses, func(i, j int) bool { return statuses[i].Name < statuses[j].Name })
	proj.Status.Environments = statuses
	proj.Status.EnvironmentCount = int32(len(statuses)) //nolint:gosec // at most 16 by schema
	if err := errors.Join(errs...); err != nil {
		return conditions.Outcome{}, err
	}
	if o := projectOutcome(statuses); o.Stalled {
		return conditions.Outcome{}, &outcome.Error{Outcome: o}
	}
	return projectOutcome(statuses), nil
}

// reconcileEnvironment creates or updates one environment through the one
// apply path. A namespace or object that exists and is not the project's is
// never touched.
func (r *Reconciler) reconcileEnvironment(ctx context.Context, in render.EnvInput) (servingv1alpha1.EnvironmentStatus, error) {
	nsName := render.EnvNamespace(in.Project.Name, in.Env)
	st := servingv1alpha1.EnvironmentStatus{Name: in.Env.Name, Namespace: nsName}
	owner := apply.Owner{Object: in.Project, UIDAnnotation: render.AnnotationProject, Marks: map[string]string{
		render.LabelManagedBy: render.ManagedByValue,
		render.LabelProject:   in.Project.Name,
	}}
	nsChild, err := render.NamespaceChild(in)
	if err != nil {
		return notReady(st, servingv1alpha1.ReasonApplyFailed, err.Error()), err
	}
	res, err := r.engine().Reconcile(ctx, owner, nsChild, func(_ context.Context, live client.Object, _ *unstructured.Unstructured) error {
		if live != nil && !live.GetDeletionTimestamp().IsZero() {
			return errTerminating
		}
		return nil
	})
	var conflict *apply.ConflictError
	switch {
	case errors.Is(err, errTerminating):
		return notReady(st, servingv1alpha1.ReasonProgressing, fmt.Sprintf("namespace %s is terminating", nsName)), nil
	case errors.As(err, &conflict):
		return notReady(st, servingv1alpha1.ReasonNamespaceConflict, fmt.Sprintf(
			"namespace %s exists and was not created by this project; it is left untouched", nsName)), nil
	case err != nil:
		return notReady(st, servingv1alpha1.ReasonApplyFailed, err.Error()), err
	case res.Live != nil && !res.Live.GetDeletionTimestamp().IsZero():
		return notReady(st, servingv1alpha1.ReasonProgressing, fmt.Sprintf("namespace %s is terminating", nsName)), nil
	}
	children, err := render.EnvChildren(in)
	if err != nil {
		return notReady(st, servingv1alpha1.ReasonApplyFailed, err.Error()), err
	}
	return r.applyEnvChildren(ctx, owner, children, st)
}

// applyEnvChildren applies every governed object of an environment on its
// own, so one refusal (a bad LimitRange, a quota key the API server does
// not know) never leaves the environment without its other objects, and
// reports every failure. Fail closed: the RoleBindings that let the team
// write are applied only while the ResourceQuota and NetworkPolicy the
// spec asks for exist.
func (r *Reconciler) applyEnvChildren(ctx context.Context, owner apply.Owner, children []render.Child,
	st servingv1alpha1.EnvironmentStatus) (servingv1alpha1.EnvironmentStatus, error) {
	var failures []string
	var errs []error
	conflicts, isolated := 0, true
	for _, child := range children {
		if grantsWrite(child) && !isolated {
			failures = append(failures, fmt.Sprintf("RoleBinding %s held back until the quota and NetworkPolicy exist", child.Key.Name))
			continue
		}
		res, err := r.engine().Reconcile(ctx, owner, child, nil)
		var conflict *apply.ConflictError
		isConflict := errors.As(err, &conflict)
		switch {
		case isConflict:
			conflicts++
			failures = append(failures, conflict.Error())
		case err != nil:
			errs = append(errs, err)
			failures = append(failures, err.Error())
		}
		// Isolation holds when the wanted quota and NetworkPolicy exist and
		// are the project's (someone else's under their name does not count).
		if err != nil && (res.Live == nil || isConflict) && child.Object != nil &&
			(child.GVK == render.QuotaGVK || child.GVK == render.NetworkPolicyGVK) {
			isolated = false
		}
	}
	switch {
	case conflicts > 0:
		return notReady(st, servingv1alpha1.ReasonChildConflict, strings.Join(failures, "; ")), errors.Join(errs...)
	case len(failures) > 0:
		return notReady(st, servingv1alpha1.ReasonApplyFailed, strings.Join(failures, "; ")), errors.Join(errs...)
	}
	st.Ready = true
	st.Reason = servingv1alpha1.ReasonReconciled
	return st, nil
}

// grantsWrite reports a RoleBinding that lets the team change things in the
// environment (admins and editors); viewers only read.
func grantsWrite(child render.Child) bool {
	return child.GVK == render.RoleBindingGVK && child.Object != nil && child.Key.Name != render.ViewersRoleBinding
}

// errTerminating stops the apply of a namespace that is being deleted.
var errTerminating = errors.New("namespace is terminating")

func notReady(st servingv1alpha1.EnvironmentStatus, reason, msg string) servingv1alpha1.EnvironmentStatus {
	st.Ready, st.Reason, st.Message = false, reason, msg
	return st
}

// engine is the one apply path, configured for environment kinds: they are
// cached only when the operator labelled them, so a cache miss is confirmed
// against the API server before anything is created.
func (r *Reconciler) engine() *apply.Engine {
	filtered := apply.Kind{Filtered: true}
	return &apply.Engine{Client: r.Client, APIReader: r.APIReader, FieldOwner: render.FieldOwner,
		Kinds: map[schema.GroupVersionKind]apply.Kind{
			render.NamespaceGVK:     {Read: apply.ReadMetadata, Filtered: true, CreateOnly: true},
			render.QuotaGVK:         filtered,
			render.LimitRangeGVK:    filtered,
			render.NetworkPolicyGVK: filtered,
			render.RoleBindingGVK:   filtered,
		}}
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
		if err := r.Delete(ctx, ns, client.Preconditions{UID: &uid}); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting namespace %s: %w", ns.Name, err))
			}
			continue
		}
		r.Recorder.Eventf(proj, ns, corev1.EventTypeNormal, servingv1alpha1.EventReasonNamespaceDeleted, "Reconcile",
			"namespace %s deleted: its environment was removed from the project", ns.Name)
	}
	return errors.Join(errs...)
}

// projectOutcome is Ready when every environment is; an object someone
// else owns needs a person (Stalled); anything else is still in progress.
func projectOutcome(envs []servingv1alpha1.EnvironmentStatus) conditions.Outcome {
	ready, conflicts := 0, 0
	var firstConflict, firstConflictReason string
	for _, e := range envs {
		switch {
		case e.Ready:
			ready++
		case e.Reason == servingv1alpha1.ReasonNamespaceConflict || e.Reason == servingv1alpha1.ReasonChildConflict:
			conflicts++
			if firstConflict == "" {
				firstConflict, firstConflictReason = e.Message, e.Reason
			}
		}
	}
	switch {
	case conflicts > 0:
		return conditions.Outcome{Stalled: true, Reason: firstConflictReason,
			Message: fmt.Sprintf("%d of %d environments ready; %s", ready, len(envs), firstConflict)}
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
		// Every update, status included, is seen: a reconcile that ran on a
		// cache not yet holding the previous status write would otherwise
		// skip a needed write and nothing would wake it again.
		For(&servingv1alpha1.KalypsoProject{}).
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
