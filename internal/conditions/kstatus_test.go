package conditions_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
)

// kinds are the Kalypso kinds whose health generic tools must read right.
var kinds = []string{"KalypsoProject", "KalypsoApplication", "KalypsoTritonServer"}

var (
	outcomeReady       = conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled, Message: "1 of 1 ready"}
	outcomeStalled     = conditions.Outcome{Stalled: true, Reason: servingv1alpha1.ReasonInvalidSpec, Message: "the spec cannot work"}
	outcomeReconciling = conditions.Outcome{Reason: servingv1alpha1.ReasonProgressing, Message: "rolling out"}
	// outcomeReadyStalled says both; Apply lets Ready win.
	outcomeReadyStalled = conditions.Outcome{Ready: true, Stalled: true, Reason: servingv1alpha1.ReasonReconciled, Message: "ready and stalled"}
)

// allOutcomes is every combination of Outcome's two flags.
var allOutcomes = []conditions.Outcome{outcomeReady, outcomeStalled, outcomeReconciling, outcomeReadyStalled}

// healthCase is one object state, with what kstatus must compute for it.
type healthCase struct {
	name string
	// outcomes are applied in order, the i-th at generation i+1.
	outcomes []conditions.Outcome
	// behind makes metadata.generation one more than status.observedGeneration.
	behind bool
	want   kstatus.Status
}

var healthCases = []healthCase{
	{name: "ready", outcomes: []conditions.Outcome{outcomeReady}, want: kstatus.CurrentStatus},
	{name: "stalled", outcomes: []conditions.Outcome{outcomeStalled}, want: kstatus.FailedStatus},
	{name: "reconciling", outcomes: []conditions.Outcome{outcomeReconciling}, want: kstatus.InProgressStatus},
	{name: "ready after stalled", outcomes: []conditions.Outcome{outcomeStalled, outcomeReady}, want: kstatus.CurrentStatus},
	{name: "stalled after ready", outcomes: []conditions.Outcome{outcomeReady, outcomeStalled}, want: kstatus.FailedStatus},
	{name: "reconciling after stalled", outcomes: []conditions.Outcome{outcomeStalled, outcomeReconciling}, want: kstatus.InProgressStatus},
	{name: "ready, generation behind", outcomes: []conditions.Outcome{outcomeReady}, behind: true, want: kstatus.InProgressStatus},
	{name: "stalled, generation behind", outcomes: []conditions.Outcome{outcomeStalled}, behind: true, want: kstatus.InProgressStatus},
}

// expected is what kstatus must say after the last outcome of a sequence.
func expected(last conditions.Outcome) kstatus.Status {
	switch {
	case last.Ready:
		return kstatus.CurrentStatus
	case last.Stalled:
		return kstatus.FailedStatus
	default:
		return kstatus.InProgressStatus
	}
}

// phaseFor is the printer-column phase that goes with each kstatus status.
var phaseFor = map[kstatus.Status]servingv1alpha1.Phase{
	kstatus.CurrentStatus:    servingv1alpha1.PhaseReady,
	kstatus.FailedStatus:     servingv1alpha1.PhaseFailed,
	kstatus.InProgressStatus: servingv1alpha1.PhaseProgressing,
}

// objectAfter builds a typed object of kind whose status the operator wrote
// with conditions.Apply and conditions.Phase for each outcome in turn, and
// returns it as the unstructured map tools read.
func objectAfter(t *testing.T, kind string, outcomes []conditions.Outcome, behind bool) *unstructured.Unstructured {
	t.Helper()
	var conds []metav1.Condition
	generation := int64(0)
	for _, o := range outcomes {
		generation++
		conditions.Apply(&conds, generation, o)
	}
	observed := generation
	if behind {
		generation++
	}
	om := metav1.ObjectMeta{Name: "demo", Generation: generation}
	tm := metav1.TypeMeta{APIVersion: servingv1alpha1.GroupVersion.String(), Kind: kind}
	phase := conditions.Phase(conds, false)

	var obj runtime.Object
	switch kind {
	case "KalypsoProject":
		p := &servingv1alpha1.KalypsoProject{TypeMeta: tm, ObjectMeta: om}
		p.Status.ObservedGeneration, p.Status.Phase, p.Status.Conditions = observed, phase, conds
		obj = p
	case "KalypsoApplication":
		om.Namespace = "team-a"
		a := &servingv1alpha1.KalypsoApplication{TypeMeta: tm, ObjectMeta: om}
		a.Status.ObservedGeneration, a.Status.Phase, a.Status.Conditions = observed, phase, conds
		obj = a
	case "KalypsoTritonServer":
		om.Namespace = "team-a"
		s := &servingv1alpha1.KalypsoTritonServer{TypeMeta: tm, ObjectMeta: om}
		s.Status.ObservedGeneration, s.Status.Phase, s.Status.Conditions = observed, phase, conds
		obj = s
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatalf("converting %s: %v", kind, err)
	}
	return &unstructured.Unstructured{Object: m}
}

func computeKstatus(t *testing.T, u *unstructured.Unstructured) *kstatus.Result {
	t.Helper()
	res, err := kstatus.Compute(u)
	if err != nil {
		t.Fatalf("kstatus.Compute: %v", err)
	}
	return res
}

// TestKstatusComputesHealth checks that kstatus, as kubectl wait and Flux use
// it, reads the conditions the operator writes as meant: Ready is Current,
// Stalled is Failed, Reconciling or an unobserved generation is InProgress.
func TestKstatusComputesHealth(t *testing.T) {
	for _, kind := range kinds {
		for _, tc := range healthCases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				res := computeKstatus(t, objectAfter(t, kind, tc.outcomes, tc.behind))
				if res.Status != tc.want {
					t.Fatalf("kstatus computed %s (%q), want %s", res.Status, res.Message, tc.want)
				}
			})
		}
	}
}

// maxSequence is the length of the longest outcome sequence tested.
const maxSequence = 3

// outcomeSequences returns every sequence of allOutcomes of length minLen to
// maxSequence.
func outcomeSequences(minLen int) [][]conditions.Outcome {
	var out [][]conditions.Outcome
	var grow func(prefix []conditions.Outcome)
	grow = func(prefix []conditions.Outcome) {
		if len(prefix) >= minLen {
			out = append(out, append([]conditions.Outcome(nil), prefix...))
		}
		if len(prefix) == maxSequence {
			return
		}
		for _, o := range allOutcomes {
			grow(append(prefix, o))
		}
	}
	grow(nil)
	return out
}

// startingSets returns every set of Ready, Reconciling and Stalled conditions,
// each absent or True, False or Unknown, all next to an unrelated condition
// that Apply must leave alone. Some are states Apply never writes (both
// Reconciling and Stalled True, say): Apply must repair them too.
func startingSets() [][]metav1.Condition {
	states := []metav1.ConditionStatus{"", metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}
	types := []string{servingv1alpha1.ConditionReady, servingv1alpha1.ConditionReconciling, servingv1alpha1.ConditionStalled}
	sets := make([][]metav1.Condition, 0, len(states)*len(states)*len(states))
	for _, r := range states {
		for _, rc := range states {
			for _, s := range states {
				set := []metav1.Condition{{
					Type: servingv1alpha1.ConditionStorageReady, Status: metav1.ConditionTrue,
					Reason: servingv1alpha1.ReasonReconciled, ObservedGeneration: 7,
				}}
				for i, st := range []metav1.ConditionStatus{r, rc, s} {
					if st != "" {
						set = append(set, metav1.Condition{Type: types[i], Status: st, Reason: "Earlier", ObservedGeneration: 7})
					}
				}
				sets = append(sets, set)
			}
		}
	}
	return sets
}

func describeConds(conds []metav1.Condition) string {
	s := ""
	for _, c := range conds {
		s += fmt.Sprintf("%s=%s(g%d) ", c.Type, c.Status, c.ObservedGeneration)
	}
	return s
}

// checkInvariant reports how conds, just written by Apply at generation for
// o, break what kstatus relies on; "" when they do not.
func checkInvariant(conds []metav1.Condition, generation int64, o conditions.Outcome) string {
	ready := meta.FindStatusCondition(conds, servingv1alpha1.ConditionReady)
	reconciling := meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionReconciling)
	stalled := meta.IsStatusConditionTrue(conds, servingv1alpha1.ConditionStalled)
	switch {
	case ready == nil:
		return "no Ready condition"
	case ready.ObservedGeneration != generation:
		return fmt.Sprintf("Ready observed generation %d, want %d", ready.ObservedGeneration, generation)
	case o.Ready && ready.Status != metav1.ConditionTrue:
		return "a ready outcome left Ready " + string(ready.Status)
	case !o.Ready && ready.Status != metav1.ConditionFalse:
		return "a not-ready outcome left Ready " + string(ready.Status)
	case ready.Status == metav1.ConditionTrue && (reconciling || stalled):
		return "Ready=True together with Reconciling=True or Stalled=True"
	case ready.Status == metav1.ConditionFalse && reconciling == stalled:
		return fmt.Sprintf("Ready=False needs exactly one of Reconciling=True and Stalled=True, have %v and %v", reconciling, stalled)
	case !o.Ready && stalled != o.Stalled:
		return fmt.Sprintf("Stalled=True is %v for an outcome with Stalled %v", stalled, o.Stalled)
	}
	for _, t := range []string{servingv1alpha1.ConditionReconciling, servingv1alpha1.ConditionStalled} {
		if c := meta.FindStatusCondition(conds, t); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration != generation {
			return fmt.Sprintf("%s=True observed generation %d, want %d", t, c.ObservedGeneration, generation)
		}
	}
	if c := meta.FindStatusCondition(conds, servingv1alpha1.ConditionStorageReady); c == nil || c.ObservedGeneration != 7 {
		return "Apply changed an unrelated condition"
	}
	return ""
}

// TestApplyKeepsKstatusInvariant applies every sequence of two or three
// outcomes to every starting condition set and checks, after each step, that
// Ready=False comes with exactly one of Reconciling=True and Stalled=True,
// that Ready=True comes with neither, that Phase agrees, and that kstatus
// computes the status the last outcome means.
func TestApplyKeepsKstatusInvariant(t *testing.T) {
	sequences := outcomeSequences(2)
	if len(sequences) != 4*4+4*4*4 {
		t.Fatalf("%d sequences, want every one of length 2 and 3", len(sequences))
	}
	starts := startingSets()
	checked := 0
	for si, start := range starts {
		for _, seq := range sequences {
			conds := append([]metav1.Condition(nil), start...)
			for step, o := range seq {
				generation := int64(8 + step)
				conditions.Apply(&conds, generation, o)
				checked++
				if msg := checkInvariant(conds, generation, o); msg != "" {
					t.Fatalf("start %d [%s], sequence %+v, step %d: %s; conditions %s",
						si, describeConds(start), seq, step, msg, describeConds(conds))
				}
				if got, wantPhase := conditions.Phase(conds, false), phaseFor[expected(o)]; got != wantPhase {
					t.Fatalf("sequence %+v, step %d: phase %s, want %s", seq, step, got, wantPhase)
				}
			}
			// kstatus reads the result; once per sequence and start keeps the
			// test quick, the invariant above is checked at every step.
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": servingv1alpha1.GroupVersion.String(),
				"kind":       "KalypsoTritonServer",
				"metadata":   map[string]any{"name": "demo", "generation": int64(8 + len(seq) - 1)},
			}}
			typed := &servingv1alpha1.KalypsoTritonServer{}
			typed.Status.ObservedGeneration = int64(8 + len(seq) - 1)
			typed.Status.Conditions = conds
			st, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&typed.Status)
			if err != nil {
				t.Fatal(err)
			}
			u.Object["status"] = st
			if res, want := computeKstatus(t, u), expected(seq[len(seq)-1]); res.Status != want {
				t.Fatalf("start %d [%s], sequence %+v: kstatus %s (%q), want %s; conditions %s",
					si, describeConds(start), seq, res.Status, res.Message, want, describeConds(conds))
			}
		}
	}
	if want := len(starts) * (4*4*2 + 4*4*4*3); checked != want {
		t.Fatalf("checked %d steps, want %d", checked, want)
	}
}
