package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
)

// Outcomes of one reconcile, the values of the outcome label.
const (
	OutcomeReady   = "ready"
	OutcomeWaiting = "waiting"
	OutcomeStalled = "stalled"
	OutcomeError   = "error"
)

// Kinds counted by the reconcile counter; any other kind counts as OtherValue.
const (
	KindProject     = "KalypsoProject"
	KindApplication = "KalypsoApplication"
	KindServer      = "KalypsoTritonServer"
)

// OtherValue replaces a label value outside its known set, so that no
// value reaches a series unless this package names it.
const OtherValue = "Other"

// ReconcileOutcomesName is the reconcile counter's name.
const ReconcileOutcomesName = "kalypso_reconcile_outcomes_total"

// reasons are the condition reasons of the API package, the only reasons
// the counter reports: a reason added there must be added here to appear,
// and until then counts as OtherValue.
var reasons = setOf(
	servingv1alpha1.ReasonReconciled,
	servingv1alpha1.ReasonProgressing,
	servingv1alpha1.ReasonInvalidSpec,
	servingv1alpha1.ReasonInvalidStorageURI,
	servingv1alpha1.ReasonApplicationNotFound,
	servingv1alpha1.ReasonApplicationNotReady,
	servingv1alpha1.ReasonDeploymentUnavailable,
	servingv1alpha1.ReasonPodsRefused,
	servingv1alpha1.ReasonProgressDeadlineExceeded,
	servingv1alpha1.ReasonCRDNotInstalled,
	servingv1alpha1.ReasonSecretNotFound,
	servingv1alpha1.ReasonSecretKeyMissing,
	servingv1alpha1.ReasonProjectMismatch,
	servingv1alpha1.ReasonNamespaceConflict,
	servingv1alpha1.ReasonApplyFailed,
	servingv1alpha1.ReasonQuotaExceeded,
	servingv1alpha1.ReasonChildRejected,
	servingv1alpha1.ReasonChildConflict,
	servingv1alpha1.ReasonScaledToZero,
	servingv1alpha1.ReasonModelsReady,
	servingv1alpha1.ReasonModelsNotReady,
	servingv1alpha1.ReasonModelsLoading,
	servingv1alpha1.ReasonNoReadyReplicas,
	servingv1alpha1.ReasonTritonUnreachable,
	servingv1alpha1.ReasonTritonResponseRefused,
	servingv1alpha1.ReasonDisabled,
)

var (
	kinds    = setOf(KindProject, KindApplication, KindServer)
	outcomes = setOf(OutcomeReady, OutcomeWaiting, OutcomeStalled, OutcomeError)
)

// ReconcileOutcomes counts reconciles by kind, outcome and reason. It is
// registered on controller-runtime's registry, which the manager serves.
var ReconcileOutcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: ReconcileOutcomesName,
	Help: "Reconciles by kind, outcome (ready, waiting, stalled, error) and the reason of the Ready condition they left.",
}, []string{"kind", "outcome", "reason"})

func init() {
	metrics.Registry.MustRegister(ReconcileOutcomes)
}

// ObserveReconcile counts one reconcile of kind that ended with outcome and
// left reason on the Ready condition. Values outside the known sets count
// as OtherValue.
func ObserveReconcile(kind, outcome, reason string) {
	ReconcileOutcomes.WithLabelValues(known(kinds, kind), known(outcomes, outcome), known(reasons, reason)).Inc()
}

// known returns v when set holds it, OtherValue otherwise.
func known(set map[string]bool, v string) string {
	if set[v] {
		return v
	}
	return OtherValue
}

func setOf(values ...string) map[string]bool {
	s := make(map[string]bool, len(values))
	for _, v := range values {
		s[v] = true
	}
	return s
}

// ObserveFinish counts the end of one reconcile of obj: err is what the
// reconcile returns (a transient error, or nil), done the conclusion it
// reached otherwise, conds the conditions it left. The reason is that of
// the Ready condition: the conclusion's, the transient reason, or, when a
// transient error leaves the last conclusion in place, that conclusion's.
func ObserveFinish(obj client.Object, conds []metav1.Condition, done conditions.Outcome, err error) {
	outcome := OutcomeWaiting
	switch {
	case err != nil:
		outcome = OutcomeError
	case done.Ready:
		outcome = OutcomeReady
	case done.Stalled:
		outcome = OutcomeStalled
	}
	reason := ""
	if c := meta.FindStatusCondition(conds, servingv1alpha1.ConditionReady); c != nil {
		reason = c.Reason
	}
	ObserveReconcile(kindOf(obj), outcome, reason)
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *servingv1alpha1.KalypsoProject:
		return KindProject
	case *servingv1alpha1.KalypsoApplication:
		return KindApplication
	case *servingv1alpha1.KalypsoTritonServer:
		return KindServer
	}
	return OtherValue
}
