package tritonserver

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/types"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/modelsync"
	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

// declaredSet is what the server asks its pods to serve: the names of
// modelControl.models in mode explicit, every model of the repository for
// "*", and nothing to enforce in modes none and poll (Triton loads what it
// loads; status reports it).
type declaredSet struct {
	explicit bool
	all      bool
	names    []string
}

func declaredOf(srv *servingv1alpha1.KalypsoTritonServer) declaredSet {
	mc := srv.Spec.TritonConfig.ModelControl
	if mc == nil || mc.Mode != servingv1alpha1.ModelControlExplicit {
		return declaredSet{}
	}
	if slices.Contains(mc.Models, "*") {
		return declaredSet{explicit: true, all: true}
	}
	return declaredSet{explicit: true, names: mc.Models}
}

// wanted is the set one pod must serve, given its index.
func (d declaredSet) wanted(entries []tritonapi.Entry) []string {
	if !d.all {
		return d.names
	}
	var out []string
	for _, e := range entries {
		if !slices.Contains(out, e.Name) {
			out = append(out, e.Name)
		}
	}
	return out
}

// podModel is one model's state on one pod: READY when any version is.
type podModel struct {
	state    servingv1alpha1.ModelState
	reason   string
	versions []string
}

// podModels folds a pod's index by model name. A name listed without a
// state is in the repository but was never loaded.
func podModels(entries []tritonapi.Entry) map[string]podModel {
	out := make(map[string]podModel, len(entries))
	for _, e := range entries {
		m := out[e.Name]
		if e.Version != "" && !slices.Contains(m.versions, e.Version) {
			m.versions = append(m.versions, e.Version)
		}
		st := servingv1alpha1.ModelState(e.State)
		switch {
		case st == servingv1alpha1.ModelStateReady:
			m.state, m.reason = st, ""
		case m.state == servingv1alpha1.ModelStateReady:
		case st == "" && m.state == "":
			m.reason = "not loaded"
		case st != "":
			m.state, m.reason = st, e.Reason
		}
		out[e.Name] = m
	}
	return out
}

// tried reports whether an undeclared model counts as one Triton tried to
// serve: loaded or changing, or (in modes none and poll, where Triton
// chooses) failed to load. A model unloaded on purpose is not listed; in
// mode explicit only the declared set is expected, so a failure of an
// undeclared model is not the server's.
func tried(m podModel, explicit bool) bool {
	switch m.state {
	case servingv1alpha1.ModelStateReady, servingv1alpha1.ModelStateLoading, servingv1alpha1.ModelStateUnloading:
		return true
	case "":
		return false
	}
	return !explicit && m.reason != "unloaded"
}

// served reports whether a pod serves every model of want.
func served(models map[string]podModel, want []string) bool {
	for _, n := range want {
		if models[n].state != servingv1alpha1.ModelStateReady {
			return false
		}
	}
	return true
}

// summarizeModels builds status.models from the readings of the pods that
// answered: a model is listed when it is declared, or when Triton tried to
// load it on some pod (listed with a state). Its State is READY when every
// answering pod serves it, otherwise the state (and reason) on the first
// pod, by name, that does not. loadError supplies the operator's own last
// failed load when the index gives no reason.
func summarizeModels(readings []modelsync.Reading, d declaredSet, loadError func(types.UID, string) string) []servingv1alpha1.ModelStatus {
	perPod := make([]map[string]podModel, len(readings))
	names := map[string]bool{}
	for _, n := range d.names {
		names[n] = true
	}
	for i, r := range readings {
		perPod[i] = podModels(r.Entries)
		for n, m := range perPod[i] {
			if d.all || tried(m, d.explicit) {
				names[n] = true
			}
		}
	}
	out := make([]servingv1alpha1.ModelStatus, 0, len(names))
	for n := range names {
		ms := servingv1alpha1.ModelStatus{Name: n, Declared: d.explicit && (d.all || slices.Contains(d.names, n))}
		for i, r := range readings {
			m, listed := perPod[i][n]
			addVersions(&ms, m.versions)
			if m.state == servingv1alpha1.ModelStateReady {
				ms.ReadyReplicas++
			} else if ms.State == "" {
				ms.State, ms.Reason = notReady(m, listed, r, n, loadError)
			}
		}
		if ms.State == "" {
			ms.State = servingv1alpha1.ModelStateReady
		}
		slices.SortFunc(ms.Versions, compareVersions)
		out = append(out, ms)
	}
	slices.SortFunc(out, func(a, b servingv1alpha1.ModelStatus) int {
		if ra, rb := a.State == servingv1alpha1.ModelStateReady, b.State == servingv1alpha1.ModelStateReady; ra != rb {
			if !ra {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// addVersions adds versions to the model's list, at most 8.
func addVersions(ms *servingv1alpha1.ModelStatus, versions []string) {
	for _, v := range versions {
		if !slices.Contains(ms.Versions, v) && len(ms.Versions) < 8 {
			ms.Versions = append(ms.Versions, v)
		}
	}
}

// notReady is the state and reason of a model that one pod does not serve.
func notReady(m podModel, listed bool, r modelsync.Reading, name string,
	loadError func(types.UID, string) string) (servingv1alpha1.ModelState, string) {
	state, reason := m.state, m.reason
	switch {
	case !listed:
		state, reason = servingv1alpha1.ModelStateUnavailable, "not in the model repository of pod "+r.Pod
	case state == "":
		state = servingv1alpha1.ModelStateUnavailable
	}
	if reason == "" || reason == "not loaded" {
		if e := loadError(r.UID, name); e != "" {
			reason = e
		}
	}
	if reason != "" {
		// Triton's text is cut, never the pod that said it.
		where := fmt.Sprintf(" (pod %s)", r.Pod)
		reason = tritonapi.Sanitize(reason, max(64, servingv1alpha1.MaxModelReasonBytes-len(where))) + where
	}
	return state, reason
}

func compareVersions(a, b string) int {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return cmp.Compare(a, b)
	}
	return cmp.Compare(x, y)
}

// setModels writes the bounded model list and its printer summary.
func setModels(st *servingv1alpha1.KalypsoTritonServerStatus, models []servingv1alpha1.ModelStatus) {
	ready := 0
	for _, m := range models {
		if m.State == servingv1alpha1.ModelStateReady {
			ready++
		}
	}
	n := min(len(models), servingv1alpha1.MaxModelStatuses)
	st.Models = nil
	if n > 0 {
		st.Models = slices.Clone(models[:n])
	}
	st.OmittedModels = int32(len(models) - n) //nolint:gosec // bounded by the index's own bound
	st.ModelsReady = fmt.Sprintf("%d/%d", ready, len(models))
}

// clearModels removes what reading wrote, when reading is off.
func clearModels(st *servingv1alpha1.KalypsoTritonServerStatus) {
	st.Models, st.OmittedModels, st.ModelsReady = nil, 0, ""
}
