package tritonserver

import (
	"math/rand/v2"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/modelsync"
	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

func reading(pod string, entries ...tritonapi.Entry) modelsync.Reading {
	return modelsync.Reading{Target: modelsync.Target{Pod: pod, UID: types.UID("uid-" + pod)}, Entries: entries}
}

func ready(name string, version ...string) tritonapi.Entry {
	v := "1"
	if len(version) > 0 {
		v = version[0]
	}
	return tritonapi.Entry{Name: name, Version: v, State: tritonapi.StateReady}
}

func noLoadError(types.UID, string) string { return "" }

func byName(models []servingv1alpha1.ModelStatus) map[string]servingv1alpha1.ModelStatus {
	out := map[string]servingv1alpha1.ModelStatus{}
	for _, m := range models {
		out[m.Name] = m
	}
	return out
}

func TestSummarizeModelsPerReplica(t *testing.T) {
	readings := []modelsync.Reading{
		reading("pod-a", ready("a"), ready("a", "2"), ready("b"), tritonapi.Entry{Name: "never"}),
		reading("pod-b", ready("a"), tritonapi.Entry{Name: "b", Version: "1", State: "UNAVAILABLE", Reason: "failed to load 'b': out of memory"}),
	}
	got := byName(summarizeModels(readings, declaredSet{}, noLoadError))
	if len(got) != 2 {
		t.Fatalf("models never loaded are not listed without a declared set: %v", got)
	}
	if a := got["a"]; a.State != servingv1alpha1.ModelStateReady || a.ReadyReplicas != 2 || strings.Join(a.Versions, ",") != "1,2" {
		t.Errorf("a: %+v", a)
	}
	b := got["b"]
	if b.State != servingv1alpha1.ModelStateUnavailable || b.ReadyReplicas != 1 || !strings.Contains(b.Reason, "out of memory") ||
		!strings.Contains(b.Reason, "pod-b") {
		t.Errorf("b: %+v", b)
	}
}

func TestSummarizeModelsDeclared(t *testing.T) {
	d := declaredSet{explicit: true, names: []string{"a", "missing"}}
	readings := []modelsync.Reading{reading("pod-a", ready("a"), ready("extra"), tritonapi.Entry{Name: "other"})}
	loadErr := func(uid types.UID, m string) string {
		if uid == "uid-pod-a" && m == "missing" {
			return "failed to load 'missing': not found"
		}
		return ""
	}
	got := byName(summarizeModels(readings, d, loadErr))
	if _, ok := got["other"]; ok || len(got) != 3 {
		t.Fatalf("declared plus loaded models, not names never loaded: %v", got)
	}
	if m := got["missing"]; !m.Declared || m.State != servingv1alpha1.ModelStateUnavailable ||
		!strings.Contains(m.Reason, "not in the model repository") {
		t.Errorf("missing: %+v", m)
	}
	if !got["a"].Declared || got["extra"].Declared {
		t.Errorf("declared flags: %+v", got)
	}

	all := byName(summarizeModels(readings, declaredSet{explicit: true, all: true}, noLoadError))
	if o := all["other"]; !o.Declared || o.State != servingv1alpha1.ModelStateUnavailable || !strings.HasPrefix(o.Reason, "not loaded") {
		t.Errorf("with '*' every model of the repository is declared: %+v", o)
	}
}

func TestSummarizeModelsOrderAndBound(t *testing.T) {
	entries := make([]tritonapi.Entry, 0, 300)
	for i := range 300 {
		name := "m" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		e := ready(name)
		if i%50 == 0 {
			e = tritonapi.Entry{Name: name, Version: "1", State: "LOADING"}
		}
		entries = append(entries, e)
	}
	first := summarizeModels([]modelsync.Reading{reading("p", entries...)}, declaredSet{}, noLoadError)
	rand.Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
	second := summarizeModels([]modelsync.Reading{reading("p", entries...)}, declaredSet{}, noLoadError)
	for i := range first {
		if first[i].Name != second[i].Name {
			t.Fatalf("order depends on the index order at %d: %s vs %s", i, first[i].Name, second[i].Name)
		}
	}
	for i, m := range first[:6] {
		if m.State != servingv1alpha1.ModelStateLoading {
			t.Errorf("entry %d: models not ready come first, got %+v", i, m)
		}
	}
	var st servingv1alpha1.KalypsoTritonServerStatus
	setModels(&st, first)
	if len(st.Models) != servingv1alpha1.MaxModelStatuses || st.OmittedModels != int32(len(first)-servingv1alpha1.MaxModelStatuses) ||
		st.ModelsReady != "294/300" {
		t.Errorf("bound: %d listed, %d omitted, %q", len(st.Models), st.OmittedModels, st.ModelsReady)
	}
}

func TestWantedAndServed(t *testing.T) {
	entries := []tritonapi.Entry{ready("a"), {Name: "b"}, {Name: "b", Version: "2", State: "LOADING"}}
	models := podModels(entries)
	if !served(models, []string{"a"}) || served(models, []string{"a", "b"}) {
		t.Errorf("served: %+v", models)
	}
	if w := (declaredSet{explicit: true, all: true}).wanted(entries); strings.Join(w, ",") != "a,b" {
		t.Errorf("wanted with '*': %v", w)
	}
	if models["b"].state != servingv1alpha1.ModelStateLoading {
		t.Errorf("a version's state wins over a name-only entry: %+v", models["b"])
	}
}

// A long reason is cut, the pod that gave it is kept, and the whole fits
// the status bound.
func TestLongReasonKeepsThePod(t *testing.T) {
	long := "failed to load 'x': " + strings.Repeat("shape mismatch; ", 40)
	got := summarizeModels([]modelsync.Reading{reading("pod-with-a-long-name-0123456789",
		tritonapi.Entry{Name: "x", Version: "1", State: "UNAVAILABLE", Reason: long})}, declaredSet{}, noLoadError)
	r := got[0].Reason
	if !strings.HasSuffix(r, " (pod pod-with-a-long-name-0123456789)") || len(r) > servingv1alpha1.MaxModelReasonBytes {
		t.Fatalf("reason %q (%d bytes)", r, len(r))
	}
}
