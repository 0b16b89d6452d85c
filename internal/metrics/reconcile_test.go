package metrics

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
)

func readyCondition(reason string) []metav1.Condition {
	return []metav1.Condition{{Type: servingv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason}}
}

func TestObserveFinishCountsKindOutcomeAndReason(t *testing.T) {
	server := &servingv1alpha1.KalypsoTritonServer{}
	cases := []struct {
		name    string
		obj     client.Object
		conds   []metav1.Condition
		done    conditions.Outcome
		err     error
		kind    string
		outcome string
		reason  string
	}{
		{"a ready project counts as ready with its reason", &servingv1alpha1.KalypsoProject{},
			readyCondition(servingv1alpha1.ReasonReconciled), conditions.Outcome{Ready: true}, nil,
			KindProject, OutcomeReady, servingv1alpha1.ReasonReconciled},
		{"a stalled application counts as stalled", &servingv1alpha1.KalypsoApplication{},
			readyCondition(servingv1alpha1.ReasonSecretNotFound), conditions.Outcome{Stalled: true}, nil,
			KindApplication, OutcomeStalled, servingv1alpha1.ReasonSecretNotFound},
		{"a server neither ready nor stalled is waiting", server,
			readyCondition(servingv1alpha1.ReasonDeploymentUnavailable), conditions.Outcome{}, nil,
			KindServer, OutcomeWaiting, servingv1alpha1.ReasonDeploymentUnavailable},
		{"a transient error counts as error with the reason left in place", server,
			readyCondition(servingv1alpha1.ReasonApplyFailed), conditions.Outcome{Ready: true}, errors.New("conflict"),
			KindServer, OutcomeError, servingv1alpha1.ReasonApplyFailed},
		{"a reason outside the API's constants counts as Other", server,
			readyCondition("SomethingElse"), conditions.Outcome{}, nil,
			KindServer, OutcomeWaiting, OtherValue},
		{"no Ready condition at all counts as Other", server, nil, conditions.Outcome{}, errors.New("boom"),
			KindServer, OutcomeError, OtherValue},
		{"another kind counts as Other", &metav1.PartialObjectMetadata{},
			readyCondition(servingv1alpha1.ReasonReconciled), conditions.Outcome{Ready: true}, nil,
			OtherValue, OutcomeReady, servingv1alpha1.ReasonReconciled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			counter := ReconcileOutcomes.WithLabelValues(c.kind, c.outcome, c.reason)
			before := testutil.ToFloat64(counter)
			ObserveFinish(c.obj, c.conds, c.done, c.err)
			if got := testutil.ToFloat64(counter) - before; got != 1 {
				t.Fatalf("%s{kind=%q,outcome=%q,reason=%q} moved by %v, want 1", ReconcileOutcomesName, c.kind, c.outcome, c.reason, got)
			}
		})
	}
}

func TestReconcileOutcomesIsServedByTheManagersRegistry(t *testing.T) {
	ObserveReconcile(KindProject, OutcomeReady, servingv1alpha1.ReasonReconciled)
	n, err := testutil.GatherAndCount(ctrlmetrics.Registry, ReconcileOutcomesName)
	if err != nil || n == 0 {
		t.Fatalf("%s is not on controller-runtime's registry: %d series, %v", ReconcileOutcomesName, n, err)
	}
}

// TestEveryAPIReasonIsKnown keeps the counter's reason set equal to the
// condition reasons of the API package, read from its source.
func TestEveryAPIReasonIsKnown(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../api/v1alpha1/conditions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, name := range v.Names {
				if !strings.HasPrefix(name.Name, "Reason") || i >= len(v.Values) {
					continue
				}
				if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					declared[strings.Trim(lit.Value, `"`)] = true
				}
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("no reason constant found in the API package")
	}
	for r := range declared {
		if !reasons[r] {
			t.Errorf("reason %s of the API package is missing from the counter's known reasons", r)
		}
	}
	for r := range reasons {
		if !declared[r] {
			t.Errorf("known reason %s is not a condition reason of the API package", r)
		}
	}
}
