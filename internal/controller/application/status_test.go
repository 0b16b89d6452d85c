package application

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
)

func app(projectRef string, storageType servingv1alpha1.StorageType) *servingv1alpha1.KalypsoApplication {
	a := &servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"}}
	if projectRef != "" {
		a.Spec.ProjectRef = &servingv1alpha1.LocalObjectReference{Name: projectRef}
	}
	if storageType != "" {
		a.Spec.Storage = &servingv1alpha1.Storage{Type: storageType}
	}
	return a
}

func servers(uris ...string) []servingv1alpha1.KalypsoTritonServer {
	out := make([]servingv1alpha1.KalypsoTritonServer, 0, len(uris))
	for _, u := range uris {
		out = append(out, servingv1alpha1.KalypsoTritonServer{Spec: servingv1alpha1.KalypsoTritonServerSpec{StorageURI: u}})
	}
	return out
}

func TestProjectOutcome(t *testing.T) {
	cases := []struct {
		name        string
		app         *servingv1alpha1.KalypsoApplication
		nsProject   string
		wantProject string
		mismatch    bool
	}{
		{"no projectRef takes the namespace's project", app("", ""), "p", "p", false},
		{"no projectRef outside any project works standalone", app("", ""), "", "", false},
		{"a matching projectRef is accepted", app("p", ""), "p", "p", false},
		{"a projectRef naming another project is refused", app("other", ""), "p", "", true},
		{"a projectRef in a namespace of no project is refused", app("p", ""), "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			project, o := projectOutcome(tc.app, tc.nsProject)
			if project != tc.wantProject || (o != nil) != tc.mismatch {
				t.Fatalf("got project %q, outcome %+v", project, o)
			}
			if o != nil && (o.Reason != servingv1alpha1.ReasonProjectMismatch || !o.Stalled) {
				t.Fatalf("want a stalled ProjectMismatch, got %+v", o)
			}
		})
	}
}

func TestStorageType(t *testing.T) {
	cases := []struct {
		name    string
		app     *servingv1alpha1.KalypsoApplication
		servers []servingv1alpha1.KalypsoTritonServer
		want    servingv1alpha1.StorageType
		wantErr bool
	}{
		{"an explicit type wins", app("", servingv1alpha1.StorageGCS), servers("s3://b/m"), servingv1alpha1.StorageGCS, false},
		{"the servers' scheme is inferred", app("", ""), servers("s3://b/m", "s3://b/n"), servingv1alpha1.StorageS3, false},
		{"pvc servers need no store", app("", ""), servers("pvc://c/m"), "", false},
		{"mixed stores need an explicit choice", app("", ""), servers("s3://b/m", "gs://b/m"), "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storageType(tc.app, tc.servers)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestMissingKeys(t *testing.T) {
	missing := missingKeys(servingv1alpha1.StorageS3, map[string]bool{"AWS_ACCESS_KEY_ID": true})
	if len(missing) != 1 || missing[0] != "AWS_SECRET_ACCESS_KEY" {
		t.Fatalf("got %v", missing)
	}
	if m := missingKeys(servingv1alpha1.StorageAzure, map[string]bool{"AZURE_STORAGE_ACCOUNT": true, "AZURE_STORAGE_KEY": true}); len(m) != 0 {
		t.Fatalf("got %v", m)
	}
}

// namedServer is a server called name in a namespace whose name is as long
// as a namespace name can be, with its endpoint set; ready sets its Ready
// condition for the current generation.
func namedServer(name string, ready bool) servingv1alpha1.KalypsoTritonServer {
	ns := strings.Repeat("n", 63)
	s := servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 2}}
	s.Status.ObservedGeneration = 2
	status := metav1.ConditionFalse
	if ready {
		status = metav1.ConditionTrue
	}
	s.Status.Conditions = []metav1.Condition{{Type: servingv1alpha1.ConditionReady, Status: status, Reason: "R", ObservedGeneration: 2}}
	s.Status.Endpoints = &servingv1alpha1.Endpoints{
		HTTP:    fmt.Sprintf("http://%s.%s.svc:8000", name, ns),
		GRPC:    fmt.Sprintf("%s.%s.svc:8001", name, ns),
		Metrics: fmt.Sprintf("http://%s.%s.svc:8002/metrics", name, ns),
	}
	return s
}

func summaryNames(sums []servingv1alpha1.ServerSummary) []string {
	out := make([]string, 0, len(sums))
	for _, s := range sums {
		out = append(out, s.Name)
	}
	return out
}

func TestSummarizeSmall(t *testing.T) {
	var st servingv1alpha1.KalypsoApplicationStatus
	summarize(&st, []servingv1alpha1.KalypsoTritonServer{
		namedServer("c", true), namedServer("a", true), namedServer("d", false), namedServer("b", false),
	})
	if st.Servers != 4 || st.ReadyServers != 2 || st.OmittedServers != 0 {
		t.Fatalf("counts: servers %d, ready %d, omitted %d", st.Servers, st.ReadyServers, st.OmittedServers)
	}
	if got, want := summaryNames(st.ServerSummaries), []string{"b", "d", "a", "c"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if !strings.HasPrefix(st.ServerSummaries[0].Endpoint, "http://b.") || st.ServerSummaries[0].Ready || !st.ServerSummaries[2].Ready {
		t.Fatalf("summary %+v", st.ServerSummaries)
	}

	// A server whose Ready condition is for an older generation is not ready.
	stale := namedServer("e", true)
	stale.Generation = 3
	summarize(&st, []servingv1alpha1.KalypsoTritonServer{stale})
	if st.Servers != 1 || st.ReadyServers != 0 || len(st.ServerSummaries) != 1 || st.ServerSummaries[0].Ready {
		t.Fatalf("stale server: %+v", st)
	}

	// No servers: counts reset and nothing listed.
	summarize(&st, nil)
	if st.Servers != 0 || st.ReadyServers != 0 || st.OmittedServers != 0 || st.ServerSummaries != nil {
		t.Fatalf("no servers: %+v", st)
	}
}

// TestSummarizeManyServers checks that an Application with 10,000 servers
// keeps a small status that lists the servers needing attention first.
func TestSummarizeManyServers(t *testing.T) {
	const total, notReady = 10000, 7
	srvs := make([]servingv1alpha1.KalypsoTritonServer, 0, total)
	for i := range total {
		name := fmt.Sprintf("server-%05d-", i)
		name += strings.Repeat("x", 63-len(name))
		// Not-ready servers spread across the name range.
		srvs = append(srvs, namedServer(name, i%(total/notReady) != 0 || i/(total/notReady) >= notReady))
	}

	a := &servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Namespace: strings.Repeat("n", 63), Name: strings.Repeat("a", 63)}}
	st := &a.Status
	summarize(st, srvs)
	// The conditions the reconciler sets, so the measured size is the real one.
	conditions.Set(&st.Conditions, 1, servingv1alpha1.ConditionStorageReady, metav1.ConditionTrue, servingv1alpha1.ReasonReconciled, "secret creds holds the keys s3 needs")
	conditions.Apply(&st.Conditions, 1, conditions.Outcome{Ready: true, Reason: servingv1alpha1.ReasonReconciled,
		Message: fmt.Sprintf("%d of %d servers ready", st.ReadyServers, st.Servers)})
	st.Phase = conditions.Phase(st.Conditions, false)
	st.ObservedGeneration = 1
	st.StorageType = servingv1alpha1.StorageS3
	st.Project = strings.Repeat("p", 40)

	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("status of an application with %d servers: %d bytes of JSON", total, len(raw))
	if len(raw) >= 8<<10 {
		t.Fatalf("status is %d bytes, want under 8 KiB", len(raw))
	}

	if st.Servers != total || st.ReadyServers != total-notReady {
		t.Fatalf("servers %d, ready %d; want %d, %d", st.Servers, st.ReadyServers, total, total-notReady)
	}
	if len(st.ServerSummaries) != servingv1alpha1.MaxServerSummaries || st.OmittedServers != total-servingv1alpha1.MaxServerSummaries {
		t.Fatalf("%d summaries, %d omitted", len(st.ServerSummaries), st.OmittedServers)
	}
	// Fewer not-ready servers than entries: all of them first, sorted, then
	// the first ready ones by name.
	var wantNotReady, wantReady []string
	for i := range srvs {
		if isReady(&srvs[i]) {
			wantReady = append(wantReady, srvs[i].Name)
		} else {
			wantNotReady = append(wantNotReady, srvs[i].Name)
		}
	}
	slices.Sort(wantNotReady)
	slices.Sort(wantReady)
	want := append(slices.Clone(wantNotReady), wantReady[:servingv1alpha1.MaxServerSummaries-notReady]...)
	if got := summaryNames(st.ServerSummaries); !slices.Equal(got, want) {
		t.Fatalf("order\n%v\nwant\n%v", got, want)
	}
	for i, s := range st.ServerSummaries {
		if s.Ready != (i >= notReady) || s.Endpoint == "" {
			t.Fatalf("entry %d: %+v", i, s)
		}
	}

	checkSummaryDeterministic(t, srvs, st)
	checkManyNotReady(t, srvs)
}

// checkSummaryDeterministic: the same servers in any order give the same status.
func checkSummaryDeterministic(t *testing.T, srvs []servingv1alpha1.KalypsoTritonServer, st *servingv1alpha1.KalypsoApplicationStatus) {
	t.Helper()
	first := slices.Clone(st.ServerSummaries)
	rng := rand.New(rand.NewSource(1))
	for range 3 {
		rng.Shuffle(len(srvs), func(i, j int) { srvs[i], srvs[j] = srvs[j], srvs[i] })
		var again servingv1alpha1.KalypsoApplicationStatus
		summarize(&again, srvs)
		if !slices.Equal(again.ServerSummaries, first) || again.Servers != st.Servers ||
			again.ReadyServers != st.ReadyServers || again.OmittedServers != st.OmittedServers {
			t.Fatalf("shuffled input changed the summary: %v", summaryNames(again.ServerSummaries))
		}
	}
}

// checkManyNotReady: with more not-ready servers than entries, only the
// first of them by name are listed.
func checkManyNotReady(t *testing.T, srvs []servingv1alpha1.KalypsoTritonServer) {
	t.Helper()
	const total = 10000
	rng := rand.New(rand.NewSource(2))
	st := &servingv1alpha1.KalypsoApplicationStatus{}
	var wantNotReady []string
	// More not-ready servers than entries (every third): only the first of
	// them by name are listed.
	slices.SortFunc(srvs, func(a, b servingv1alpha1.KalypsoTritonServer) int { return strings.Compare(a.Name, b.Name) })
	for i := range srvs {
		if i%3 == 0 {
			srvs[i].Status.Conditions[0].Status = metav1.ConditionFalse
			wantNotReady = append(wantNotReady, srvs[i].Name)
		} else {
			srvs[i].Status.Conditions[0].Status = metav1.ConditionTrue
		}
	}
	rng.Shuffle(len(srvs), func(i, j int) { srvs[i], srvs[j] = srvs[j], srvs[i] })
	summarize(st, srvs)
	if st.Servers != total || int(st.ReadyServers) != total-len(wantNotReady) || st.OmittedServers != total-servingv1alpha1.MaxServerSummaries {
		t.Fatalf("every third not ready: servers %d, ready %d, omitted %d", st.Servers, st.ReadyServers, st.OmittedServers)
	}
	if got := summaryNames(st.ServerSummaries); !slices.Equal(got, wantNotReady[:servingv1alpha1.MaxServerSummaries]) {
		t.Fatalf("every third not ready: order %v", got)
	}
	for _, s := range st.ServerSummaries {
		if s.Ready {
			t.Fatalf("a ready entry %+v among not-ready servers", s)
		}
	}
}

// isReady is the test's own reading of a server's readiness.
func isReady(s *servingv1alpha1.KalypsoTritonServer) bool {
	return s.Status.ObservedGeneration == s.Generation && len(s.Status.Conditions) == 1 &&
		s.Status.Conditions[0].Status == metav1.ConditionTrue
}

// model is a model status: served on replicas ready replicas when state is
// READY.
func model(name string, state servingv1alpha1.ModelState, replicas int32) servingv1alpha1.ModelStatus {
	m := servingv1alpha1.ModelStatus{Name: name, State: state, ReadyReplicas: replicas}
	if state != servingv1alpha1.ModelStateReady {
		m.Reason = "loading " + name
	}
	return m
}

// modelServer is namedServer listing models in its status.
func modelServer(name string, ready bool, models ...servingv1alpha1.ModelStatus) servingv1alpha1.KalypsoTritonServer {
	s := namedServer(name, ready)
	s.Status.Models = models
	return s
}

func TestSummarizeModels(t *testing.T) {
	const ready = servingv1alpha1.ModelStateReady
	var st servingv1alpha1.KalypsoApplicationStatus
	summarizeModels(&st, []servingv1alpha1.KalypsoTritonServer{
		modelServer("s1", true, model("resnet", ready, 2), model("bert", servingv1alpha1.ModelStateLoading, 0), model("gpt", ready, 1)),
		modelServer("s2", true, model("resnet", ready, 1), model("bert", ready, 0), model("yolo", servingv1alpha1.ModelStateUnavailable, 1)),
		// Not Ready: its READY models do not count as ready.
		modelServer("s3", false, model("resnet", ready, 1), model("clip", ready, 1)),
		modelServer("s4", true),
	})
	want := []servingv1alpha1.ModelSummary{
		{Name: "bert", Servers: 2, ReadyServers: 0}, // READY with no ready replica is not served
		{Name: "clip", Servers: 1, ReadyServers: 0},
		{Name: "yolo", Servers: 1, ReadyServers: 0},
		{Name: "gpt", Servers: 1, ReadyServers: 1},
		{Name: "resnet", Servers: 3, ReadyServers: 2},
	}
	if st.Models != 5 || st.ReadyModels != 2 || st.OmittedModels != 0 {
		t.Fatalf("counts: models %d, ready %d, omitted %d", st.Models, st.ReadyModels, st.OmittedModels)
	}
	if !slices.Equal(st.ModelSummaries, want) {
		t.Fatalf("summaries\n%+v\nwant\n%+v", st.ModelSummaries, want)
	}

	// A stale Ready condition is not Ready either; a name listed twice by
	// one server counts once for it.
	stale := modelServer("s5", true, model("gpt", ready, 1), model("gpt", ready, 1))
	stale.Generation = 3
	summarizeModels(&st, []servingv1alpha1.KalypsoTritonServer{stale,
		modelServer("s6", true, model("gpt", servingv1alpha1.ModelStateLoading, 0), model("gpt", ready, 1))})
	if want := []servingv1alpha1.ModelSummary{{Name: "gpt", Servers: 2, ReadyServers: 1}}; !slices.Equal(st.ModelSummaries, want) ||
		st.Models != 1 || st.ReadyModels != 1 {
		t.Fatalf("stale server and duplicates: %+v", st)
	}

	// No servers, or servers without models: zeros and nothing listed.
	for _, srvs := range [][]servingv1alpha1.KalypsoTritonServer{nil, {modelServer("s7", true)}} {
		summarizeModels(&st, srvs)
		if st.Models != 0 || st.ReadyModels != 0 || st.OmittedModels != 0 || st.ModelSummaries != nil {
			t.Fatalf("no models: %+v", st)
		}
	}
}

// manyModels is servers servers sharing total models: each model on every
// third server, every fifth model served nowhere. It returns the servers and
// the names of the models not served and served, sorted.
func manyModels(total, servers int) (srvs []servingv1alpha1.KalypsoTritonServer, waiting, served []string) {
	for i := range total {
		name := fmt.Sprintf("model-%03d", i)
		if i%5 == 0 {
			waiting = append(waiting, name)
		} else {
			served = append(served, name)
		}
	}
	srvs = make([]servingv1alpha1.KalypsoTritonServer, 0, servers)
	for s := range servers {
		var models []servingv1alpha1.ModelStatus
		for i := range total {
			if (i+s)%3 != 0 {
				continue
			}
			m := model(fmt.Sprintf("model-%03d", i), servingv1alpha1.ModelStateReady, 1)
			if i%5 == 0 {
				m = model(m.Name, servingv1alpha1.ModelStateLoading, 0)
			}
			models = append(models, m)
		}
		srvs = append(srvs, modelServer(fmt.Sprintf("server-%02d", s), true, models...))
	}
	return srvs, waiting, served
}

// TestSummarizeModelsBound checks the 20-entry bound, that models no Ready
// server serves come first, and that the order of servers and of their
// models does not matter.
func TestSummarizeModelsBound(t *testing.T) {
	const total, servers = 60, 30
	srvs, wantWaiting, wantServed := manyModels(total, servers)

	var st servingv1alpha1.KalypsoApplicationStatus
	summarizeModels(&st, srvs)
	if st.Models != total || int(st.ReadyModels) != len(wantServed) || st.OmittedModels != total-maxModelSummaries ||
		len(st.ModelSummaries) != maxModelSummaries {
		t.Fatalf("models %d, ready %d, omitted %d, listed %d", st.Models, st.ReadyModels, st.OmittedModels, len(st.ModelSummaries))
	}
	want := append(slices.Clone(wantWaiting), wantServed[:maxModelSummaries-len(wantWaiting)]...)
	got := make([]string, 0, len(st.ModelSummaries))
	for _, m := range st.ModelSummaries {
		got = append(got, m.Name)
		if m.Servers != servers/3 || (m.ReadyServers == 0) != slices.Contains(wantWaiting, m.Name) {
			t.Fatalf("entry %+v", m)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order\n%v\nwant\n%v", got, want)
	}
	if cap(st.ModelSummaries) >= total {
		t.Fatalf("summaries keep an array of %d entries", cap(st.ModelSummaries))
	}

	checkModelsDeterministic(t, srvs, &st)
}

// checkModelsDeterministic: the same servers and models in any order give
// the same status.
func checkModelsDeterministic(t *testing.T, srvs []servingv1alpha1.KalypsoTritonServer, first *servingv1alpha1.KalypsoApplicationStatus) {
	t.Helper()
	rng := rand.New(rand.NewSource(3))
	for range 5 {
		rng.Shuffle(len(srvs), func(i, j int) { srvs[i], srvs[j] = srvs[j], srvs[i] })
		for i := range srvs {
			ms := srvs[i].Status.Models
			rng.Shuffle(len(ms), func(a, b int) { ms[a], ms[b] = ms[b], ms[a] })
		}
		var again servingv1alpha1.KalypsoApplicationStatus
		summarizeModels(&again, srvs)
		if !slices.Equal(again.ModelSummaries, first.ModelSummaries) || again.Models != first.Models ||
			again.ReadyModels != first.ReadyModels || again.OmittedModels != first.OmittedModels {
			t.Fatalf("shuffled input changed the summary: %+v", again.ModelSummaries)
		}
	}
}

func TestServerSummaryChangedModels(t *testing.T) {
	const ready = servingv1alpha1.ModelStateReady
	base := modelServer("s", true, model("a", ready, 2), model("b", servingv1alpha1.ModelStateLoading, 0))
	cases := []struct {
		name   string
		models []servingv1alpha1.ModelStatus
		want   bool
	}{
		{"unchanged", []servingv1alpha1.ModelStatus{model("a", ready, 2), model("b", servingv1alpha1.ModelStateLoading, 0)}, false},
		{"a reason only", []servingv1alpha1.ModelStatus{model("a", ready, 2),
			{Name: "b", State: servingv1alpha1.ModelStateLoading, Reason: "still loading: 40%"}}, false},
		{"another state that is not READY", []servingv1alpha1.ModelStatus{model("a", ready, 2), model("b", servingv1alpha1.ModelStateUnavailable, 0)}, false},
		{"fewer ready replicas, still some", []servingv1alpha1.ModelStatus{model("a", ready, 1), model("b", servingv1alpha1.ModelStateLoading, 0)}, false},
		{"versions only", []servingv1alpha1.ModelStatus{{Name: "a", State: ready, ReadyReplicas: 2, Versions: []string{"3"}},
			model("b", servingv1alpha1.ModelStateLoading, 0)}, false},
		{"reordered", []servingv1alpha1.ModelStatus{model("b", servingv1alpha1.ModelStateLoading, 0), model("a", ready, 2)}, false},
		{"a model turns READY", []servingv1alpha1.ModelStatus{model("a", ready, 2), model("b", ready, 1)}, true},
		{"a model loses its last ready replica", []servingv1alpha1.ModelStatus{model("a", ready, 0), model("b", servingv1alpha1.ModelStateLoading, 0)}, true},
		{"a model appears", []servingv1alpha1.ModelStatus{model("a", ready, 2), model("b", servingv1alpha1.ModelStateLoading, 0),
			model("c", servingv1alpha1.ModelStateLoading, 0)}, true},
		{"a model goes", []servingv1alpha1.ModelStatus{model("a", ready, 2)}, true},
		{"a model renamed", []servingv1alpha1.ModelStatus{model("a", ready, 2), model("c", servingv1alpha1.ModelStateLoading, 0)}, true},
	}
	p := serverSummaryChanged()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := *base.DeepCopy()
			n.Status.Models = tc.models
			if got := p.Update(event.UpdateEvent{ObjectOld: base.DeepCopy(), ObjectNew: &n}); got != tc.want {
				t.Fatalf("predicate passed %v, want %v", got, tc.want)
			}
		})
	}
}
