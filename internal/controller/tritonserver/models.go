package tritonserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/modelsync"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

// readsModels reports whether this reconcile reads the server's pods.
func (r *Reconciler) readsModels(srv *servingv1alpha1.KalypsoTritonServer) bool {
	return r.Models.Enabled() && render.ReadsModels(srv.Spec)
}

// nextReading is the jittered delay until the server's pods are read again
// when nothing wakes it before; 0 when reading is off.
func (r *Reconciler) nextReading(srv *servingv1alpha1.KalypsoTritonServer) time.Duration {
	if !r.readsModels(srv) {
		return 0
	}
	every := r.Models.Interval()
	if m := srv.Spec.ModelStatus; m != nil && m.IntervalSeconds != nil {
		every = time.Duration(*m.IntervalSeconds) * time.Second
	}
	return every + time.Duration(rand.Int64N(int64(every)/10+1)) //nolint:gosec // jitter, not a secret
}

// observeModels reads which models the server's pods serve, writes
// status.models and the ModelsReady condition, and in mode explicit makes
// every pod serve the declared set (loads, unloads, the readiness gate).
// It returns the outcome that replaces a Ready one from the Deployment,
// or nil when the models do not hold readiness back.
func (r *Reconciler) observeModels(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer) (*conditions.Outcome, error) {
	st := &srv.Status
	if !r.readsModels(srv) {
		clearModels(st)
		why := r.Models.Off()
		if r.Models.Enabled() {
			why = "spec.modelStatus.enabled is false"
		}
		conditions.Set(&st.Conditions, srv.Generation, servingv1alpha1.ConditionModelsReady, metav1.ConditionUnknown,
			servingv1alpha1.ReasonDisabled, "model status is not read: "+why)
		return nil, nil
	}
	pods, err := r.serverPods(ctx, srv)
	if err != nil {
		return nil, err
	}
	d := declaredOf(srv)
	var targets []modelsync.Target
	var asked []*corev1.Pod
	for i := range pods {
		if t, ok := targetOf(&pods[i], srv.Spec.Networking.HTTPPort); ok {
			targets = append(targets, t)
			asked = append(asked, &pods[i])
		} else if d.explicit && gateTrue(&pods[i]) {
			// The container stopped being ready (a restart): traffic stays
			// away until the restarted Triton serves the set again.
			if err := r.setGate(ctx, &pods[i], false, "the tritonserver container is not ready"); err != nil {
				return nil, err
			}
		}
	}
	readings := r.Models.Read(ctx, targets)
	var answered []modelsync.Reading
	var failed *modelsync.Reading
	for i := range readings {
		if readings[i].Err != nil {
			if failed == nil {
				failed = &readings[i]
			}
			continue
		}
		answered = append(answered, readings[i])
		if d.explicit {
			if err := r.enforce(ctx, srv, asked[i], readings[i], d); err != nil {
				return nil, err
			}
		}
	}
	models := summarizeModels(answered, d, r.Models.LoadError)
	setModels(st, models)
	return r.modelsVerdict(ctx, srv, len(targets), failed, models, d), nil
}

// enforce makes one pod serve the declared set: a load for each declared
// model that is neither READY nor already changing (never for a READY one:
// Triton would reload it), an unload for each undeclared READY model when
// asked, and the readiness gate set to whether the pod serves the set.
func (r *Reconciler) enforce(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, pod *corev1.Pod,
	reading modelsync.Reading, d declaredSet) error {
	models := podModels(reading.Entries)
	want := d.wanted(reading.Entries)
	for _, n := range want {
		switch models[n].state {
		case servingv1alpha1.ModelStateReady, servingv1alpha1.ModelStateLoading, servingv1alpha1.ModelStateUnloading:
		default:
			if !r.Models.Busy(reading, n) {
				r.Models.Load(srv, reading, n)
			}
		}
	}
	mc := srv.Spec.TritonConfig.ModelControl
	if !d.all && (mc.UnloadUndeclared == nil || *mc.UnloadUndeclared) {
		for n, m := range models {
			if m.state == servingv1alpha1.ModelStateReady && !slices.Contains(want, n) && !r.Models.Busy(reading, n) {
				r.Models.Unload(srv, reading, n)
			}
		}
	}
	serves := served(models, want)
	if serves == gateTrue(pod) {
		return nil
	}
	msg := fmt.Sprintf("serves the %d declared models", len(want))
	if !serves {
		msg = "does not serve every declared model yet"
	}
	return r.setGate(ctx, pod, serves, msg)
}

// modelsVerdict sets ModelsReady and says whether it holds Ready back.
func (r *Reconciler) modelsVerdict(ctx context.Context, srv *servingv1alpha1.KalypsoTritonServer, asked int,
	failed *modelsync.Reading, models []servingv1alpha1.ModelStatus, d declaredSet) *conditions.Outcome {
	set := func(status metav1.ConditionStatus, reason, format string, args ...any) *conditions.Outcome {
		msg := fmt.Sprintf(format, args...)
		conditions.Set(&srv.Status.Conditions, srv.Generation, servingv1alpha1.ConditionModelsReady, status, reason, msg)
		if status == metav1.ConditionTrue {
			return nil
		}
		return &conditions.Outcome{Reason: reason, Message: msg}
	}
	switch {
	case failed != nil:
		reason := servingv1alpha1.ReasonTritonUnreachable
		var re *tritonapi.ResponseError
		if errors.As(failed.Err, &re) && slices.Contains([]string{tritonapi.KindOversized, tritonapi.KindMalformed, tritonapi.KindRedirect}, re.Kind) {
			reason = servingv1alpha1.ReasonTritonResponseRefused
		}
		log.FromContext(ctx).V(1).Info("reading a pod's model index failed", "pod", failed.Pod, "error", failed.Err)
		return set(metav1.ConditionFalse, reason, "pod %s: %s", failed.Pod, tritonapi.Sanitize(failed.Err.Error(), 200))
	case asked == 0:
		return set(metav1.ConditionFalse, servingv1alpha1.ReasonNoReadyReplicas,
			"no replica's tritonserver container is ready to report its models")
	}
	var notReady []servingv1alpha1.ModelStatus
	loading := false
	for _, m := range models {
		// In mode explicit the declared set decides; an undeclared model
		// left loaded (unloadUndeclared false) is reported, not awaited.
		if m.State != servingv1alpha1.ModelStateReady && (!d.explicit || m.Declared) {
			notReady = append(notReady, m)
			loading = loading || m.State == servingv1alpha1.ModelStateLoading
		}
	}
	if len(notReady) == 0 {
		return set(metav1.ConditionTrue, servingv1alpha1.ReasonModelsReady, "%d models ready on %d replicas", len(models), asked)
	}
	first := notReady[0]
	detail := fmt.Sprintf("model %s is %s on %d of %d replicas", first.Name, first.State, asked-int(first.ReadyReplicas), asked)
	if first.Reason != "" {
		detail += ": " + first.Reason
	}
	if loading || (d.explicit && (first.Reason == "" || strings.HasPrefix(first.Reason, "not loaded"))) {
		return set(metav1.ConditionFalse, servingv1alpha1.ReasonModelsLoading, "%d of %d models not ready yet; %s",
			len(notReady), len(models), detail)
	}
	return set(metav1.ConditionFalse, servingv1alpha1.ReasonModelsNotReady, "%d of %d models not ready; %s",
		len(notReady), len(models), detail)
}
