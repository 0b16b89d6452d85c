package outcome

import (
	"context"
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
)

// events captures what a Finisher records.
type events struct{ got []string }

func (e *events) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, _ string, note string, args ...any) {
	e.got = append(e.got, eventtype+" "+reason+" "+fmt.Sprintf(note, args...))
}

func (e *events) AnnotatedEventf(regarding, related runtime.Object, _ map[string]string, eventtype, reason, action, note string, args ...any) {
	e.Eventf(regarding, related, eventtype, reason, action, note, args...)
}

func newServer(generation int64) *servingv1alpha1.KalypsoTritonServer {
	return &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{
		Name: "s", Namespace: "ns", Generation: generation}}
}

// finish runs Finish on a fake API server holding before (and extra
// objects), counting status writes.
func finish(t *testing.T, f Finisher, before *servingv1alpha1.KalypsoTritonServer, done conditions.Outcome, err error,
	extra ...client.Object) (*servingv1alpha1.KalypsoTritonServer, int, error) {
	t.Helper()
	s := runtime.NewScheme()
	if e := servingv1alpha1.AddToScheme(s); e != nil {
		t.Fatal(e)
	}
	if e := corev1.AddToScheme(s); e != nil {
		t.Fatal(e)
	}
	writes := 0
	f.Client = fake.NewClientBuilder().WithScheme(s).WithObjects(append(extra, before.DeepCopy())...).
		WithStatusSubresource(&servingv1alpha1.KalypsoTritonServer{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string,
			obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			writes++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		}}).Build()
	obj := before.DeepCopy()
	_, ferr := Finish(context.Background(), f, before, obj,
		func(o *servingv1alpha1.KalypsoTritonServer) any { return o.Status }, done, err)
	return obj, writes, ferr
}

func TestFinishMapsOutcomes(t *testing.T) {
	ready := conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled, Message: "1 of 1"}
	cases := []struct {
		name            string
		transientReason string
		done            conditions.Outcome
		err             error
		wantErr         bool
		ready           metav1.ConditionStatus
		stalled         bool
		reconciling     bool
		reason          string
		observed        int64
		phase           servingv1alpha1.Phase
		events          int
	}{
		{name: "ran to the end ready", done: ready, ready: metav1.ConditionTrue, reason: servingv1alpha1.ReasonReconciled,
			observed: 3, phase: servingv1alpha1.PhaseReady},
		{name: "stalled", err: Stalled(servingv1alpha1.ReasonInvalidSpec, "bad %s", "flag"), ready: metav1.ConditionFalse,
			stalled: true, reason: servingv1alpha1.ReasonInvalidSpec, observed: 3, phase: servingv1alpha1.PhaseFailed, events: 1},
		{name: "waiting", err: Waiting(servingv1alpha1.ReasonApplicationNotFound, "no app"), ready: metav1.ConditionFalse,
			reconciling: true, reason: servingv1alpha1.ReasonApplicationNotFound, observed: 3, phase: servingv1alpha1.PhaseProgressing},
		{name: "wrapped stall is still a stall", err: fmt.Errorf("step: %w", Stalled(servingv1alpha1.ReasonChildConflict, "taken")),
			ready: metav1.ConditionFalse, stalled: true, reason: servingv1alpha1.ReasonChildConflict, observed: 3,
			phase: servingv1alpha1.PhaseFailed, events: 1},
		{name: "transient error leaves the last conclusion", err: errors.New("boom"), wantErr: true, observed: 0,
			phase: servingv1alpha1.PhasePending},
		{name: "transient error reported when asked", transientReason: servingv1alpha1.ReasonApplyFailed, err: errors.New("boom"),
			wantErr: true, ready: metav1.ConditionFalse, reconciling: true, reason: servingv1alpha1.ReasonApplyFailed, observed: 0,
			phase: servingv1alpha1.PhaseProgressing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &events{}
			got, writes, err := finish(t, Finisher{Recorder: rec, TransientReason: tc.transientReason}, newServer(3), tc.done, tc.err)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			conds := got.Status.Conditions
			if r := meta.FindStatusCondition(conds, servingv1alpha1.ConditionReady); tc.ready != "" && (r == nil || r.Status != tc.ready || r.Reason != tc.reason) {
				t.Fatalf("Ready = %+v, want %s %s", r, tc.ready, tc.reason)
			}
			if meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionStalled) != tc.stalled ||
				meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionReconciling) != tc.reconciling {
				t.Fatalf("conditions %+v", conds)
			}
			if got.Status.ObservedGeneration != tc.observed || got.Status.Phase != tc.phase {
				t.Fatalf("observedGeneration %d phase %s, want %d %s", got.Status.ObservedGeneration, got.Status.Phase, tc.observed, tc.phase)
			}
			if len(rec.got) != tc.events {
				t.Fatalf("events %v, want %d", rec.got, tc.events)
			}
			// Every case changes the status (at least the derived phase): one write.
			if writes != 1 {
				t.Fatalf("%d status writes, want 1", writes)
			}
		})
	}
}

// A converged object is written and recorded once, then never again: the
// same conclusion costs no write and no Event.
func TestFinishConvergedCostsNothing(t *testing.T) {
	for _, done := range []error{Stalled(servingv1alpha1.ReasonInvalidSpec, "bad"), nil} {
		rec := &events{}
		first, writes, _ := finish(t, Finisher{Recorder: rec}, newServer(2), conditions.Outcome{Ready: true, Reason: "Reconciled"}, done)
		if writes != 1 {
			t.Fatalf("first finish: %d writes", writes)
		}
		recorded := len(rec.got)
		_, writes, _ = finish(t, Finisher{Recorder: rec}, first, conditions.Outcome{Ready: true, Reason: "Reconciled"}, done)
		if writes != 0 || len(rec.got) != recorded {
			t.Fatalf("converged finish wrote %d times and recorded %v", writes, rec.got[recorded:])
		}
	}
}

// Events follow transitions: entering Stalled, a new Stalled reason, and
// recovering to Ready; staying Stalled records nothing.
func TestFinishEventsOnTransitions(t *testing.T) {
	rec := &events{}
	f := Finisher{Recorder: rec}
	s, _, _ := finish(t, f, newServer(1), conditions.Outcome{}, Stalled(servingv1alpha1.ReasonInvalidSpec, "bad"))
	s, _, _ = finish(t, f, s, conditions.Outcome{}, Stalled(servingv1alpha1.ReasonInvalidSpec, "bad"))
	s, _, _ = finish(t, f, s, conditions.Outcome{}, Stalled(servingv1alpha1.ReasonChildConflict, "taken"))
	_, _, _ = finish(t, f, s, conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled}, nil)
	want := []string{
		"Warning InvalidSpec bad",
		"Warning ChildConflict taken",
		"Normal Recovered ready again after ChildConflict",
	}
	if fmt.Sprint(rec.got) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", rec.got, want)
	}
}

// In a terminating namespace the API server refuses new Events: none is
// recorded, the status is still written.
func TestFinishRecordsNothingInATerminatingNamespace(t *testing.T) {
	now := metav1.Now()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns", DeletionTimestamp: &now, Finalizers: []string{"kubernetes"}}}
	rec := &events{}
	_, writes, _ := finish(t, Finisher{Recorder: rec}, newServer(1), conditions.Outcome{},
		Stalled(servingv1alpha1.ReasonInvalidSpec, "bad"), ns)
	if len(rec.got) != 0 || writes != 1 {
		t.Fatalf("events %v, %d writes", rec.got, writes)
	}
	rec = &events{}
	live := ns.DeepCopy()
	live.DeletionTimestamp, live.Finalizers = nil, nil
	if _, _, _ = finish(t, Finisher{Recorder: rec}, newServer(1), conditions.Outcome{},
		Stalled(servingv1alpha1.ReasonInvalidSpec, "bad"), live); len(rec.got) != 1 {
		t.Fatalf("a live namespace must get the Event, got %v", rec.got)
	}
}
