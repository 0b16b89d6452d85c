// Package outcome is how every reconciler ends: reconcile steps return a
// typed outcome (stalled or waiting, with a reason) or a transient error,
// and one finish step maps it to the kstatus conditions (Ready, Reconciling,
// Stalled), sets observedGeneration by one rule, derives the phase, records
// an Event on a Stalled transition and writes the status once, only when it
// changed.
package outcome

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/statuspatch"
	"github.com/kalypsoserving/kalypso-serving/internal/metrics"
)

// Error carries a conclusion that ends a reconcile early without being a
// failure of the operator: progress needs a spec change (Stalled), or the
// object waits for something a watch will report (neither Ready nor Stalled).
type Error struct {
	Outcome conditions.Outcome
}

func (e *Error) Error() string { return e.Outcome.Reason + ": " + e.Outcome.Message }

// Stalled ends a reconcile: nothing progresses until the spec (or a watched
// object a person controls) changes.
func Stalled(reason, format string, args ...any) error {
	return &Error{conditions.Outcome{Stalled: true, Reason: reason, Message: fmt.Sprintf(format, args...)}}
}

// Waiting ends a reconcile that waits on a watched object.
func Waiting(reason, format string, args ...any) error {
	return &Error{conditions.Outcome{Reason: reason, Message: fmt.Sprintf(format, args...)}}
}

// Object is a custom resource with the operator's common status fields.
type Object interface {
	client.Object
	StatusConditions() *[]metav1.Condition
	SetObservedGeneration(int64)
	SetPhase(servingv1alpha1.Phase)
}

// Finisher ends the reconciles of one kind.
type Finisher struct {
	Client   client.Client
	Recorder recorder.EventRecorder
	// TransientReason, when set, reports a transient error as Reconciling
	// with this reason (Ready=False); when empty, a transient error leaves
	// the conditions of the last conclusion in place and is retried.
	TransientReason string
}

// Finish ends a reconcile of obj, which was read as before. done is the
// outcome when the steps ran to the end (err nil); err is an *Error, a
// transient error, or nil. Rules:
//   - a conclusion (done, or an *Error) sets the conditions and
//     observedGeneration = generation; a transient error does neither, so
//     tools never read a stale conclusion as the current generation's;
//   - the phase is derived from the conditions;
//   - entering Stalled, or changing its reason, records a Warning Event;
//     leaving it for Ready records a Normal one; nothing else does, so a
//     converged object records none;
//   - the status is written once, and only when it changed.
//
// Every call is counted once in the reconcile outcomes metric.
func Finish[T Object](ctx context.Context, f Finisher, before, obj T, status func(T) any, done conditions.Outcome, err error) (_ ctrl.Result, rerr error) {
	defer func() { metrics.ObserveFinish(obj, *obj.StatusConditions(), done, rerr) }()
	var concluded *Error
	switch {
	case errors.As(err, &concluded):
		done, err = concluded.Outcome, nil
	case err != nil && f.TransientReason != "":
		conditions.Apply(obj.StatusConditions(), obj.GetGeneration(),
			conditions.Outcome{Reason: f.TransientReason, Message: err.Error()})
	}
	if err == nil {
		conditions.Apply(obj.StatusConditions(), obj.GetGeneration(), done)
		obj.SetObservedGeneration(obj.GetGeneration())
	}
	obj.SetPhase(conditions.Phase(*obj.StatusConditions(), !obj.GetDeletionTimestamp().IsZero()))
	f.recordTransition(ctx, before, obj)
	if werr := statuspatch.IfChanged(ctx, f.Client, before, obj, status); werr != nil {
		return ctrl.Result{}, errors.Join(err, werr)
	}
	// Every wait is on a watched object, so there is no timed requeue;
	// transient errors back off in the work queue.
	return ctrl.Result{}, err
}

// namespaceTerminating reports whether obj's namespace is being deleted, as
// far as the cache knows (it holds the namespaces the operator governs).
func (f Finisher) namespaceTerminating(ctx context.Context, obj Object) bool {
	if obj.GetNamespace() == "" {
		return false
	}
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := f.Client.Get(ctx, client.ObjectKey{Name: obj.GetNamespace()}, ns); err != nil {
		return false
	}
	return !ns.DeletionTimestamp.IsZero()
}

// recordTransition records an Event when obj enters Stalled (or its reason
// changes) and when it leaves Stalled for Ready.
func (f Finisher) recordTransition(ctx context.Context, before, obj Object) {
	if f.Recorder == nil {
		return
	}
	// The API server refuses new Events in a terminating namespace; the
	// (cached) look-up is made only when there is an Event to record.
	terminating := func() bool { return f.namespaceTerminating(ctx, obj) }
	was := meta.FindStatusCondition(*before.StatusConditions(), servingv1alpha1.ConditionStalled)
	now := meta.FindStatusCondition(*obj.StatusConditions(), servingv1alpha1.ConditionStalled)
	wasStalled := was != nil && was.Status == metav1.ConditionTrue
	switch {
	case now != nil && now.Status == metav1.ConditionTrue && (!wasStalled || was.Reason != now.Reason) && !terminating():
		f.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, now.Reason, "Stalled", "%s", now.Message)
	case wasStalled && meta.IsStatusConditionTrue(*obj.StatusConditions(), servingv1alpha1.ConditionReady) && !terminating():
		f.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, servingv1alpha1.EventReasonRecovered, "Reconcile",
			"ready again after %s", was.Reason)
	}
}
