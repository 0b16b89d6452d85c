package application

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/conditions"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// projectOutcome checks the Application's projectRef against the project
// label of its namespace (set only by the KalypsoProject controller on the
// namespaces it creates). It returns the project the Application belongs to.
func projectOutcome(app *servingv1alpha1.KalypsoApplication, namespaceProject string) (string, *conditions.Outcome) {
	if app.Spec.ProjectRef == nil {
		return namespaceProject, nil
	}
	want := app.Spec.ProjectRef.Name
	if want != namespaceProject {
		msg := fmt.Sprintf("projectRef %q does not match namespace %q, which belongs to no project", want, app.Namespace)
		if namespaceProject != "" {
			msg = fmt.Sprintf("projectRef %q does not match namespace %q, which belongs to project %q", want, app.Namespace, namespaceProject)
		}
		return "", &conditions.Outcome{Stalled: true, Reason: servingv1alpha1.ReasonProjectMismatch, Message: msg}
	}
	return want, nil
}

// storageType is the Application's explicit type, or the one its servers'
// URIs need when they agree. pvc:// servers need none.
func storageType(app *servingv1alpha1.KalypsoApplication, servers []servingv1alpha1.KalypsoTritonServer) (servingv1alpha1.StorageType, error) {
	if app.Spec.Storage != nil && app.Spec.Storage.Type != "" {
		return app.Spec.Storage.Type, nil
	}
	var found []string
	for i := range servers {
		if t := render.StorageTypeOf(servers[i].Spec.StorageURI); t != "" && !slices.Contains(found, string(t)) {
			found = append(found, string(t))
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return servingv1alpha1.StorageType(found[0]), nil
	default:
		sort.Strings(found)
		return "", fmt.Errorf("servers use several storage types (%s); set spec.storage.type and use one application per store",
			strings.Join(found, ", "))
	}
}

// missingKeys lists the keys t needs that the Secret lacks. Only key names
// are looked at.
func missingKeys(t servingv1alpha1.StorageType, have map[string]bool) []string {
	var missing []string
	for _, k := range render.RequiredSecretKeys(t) {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	return missing
}

// summarize counts the Application's servers and lists at most
// MaxServerSummaries of them: those not Ready first, then by name, so the
// status stays small and the servers that need attention stay visible. The
// order does not depend on the order of servers.
func summarize(status *servingv1alpha1.KalypsoApplicationStatus, servers []servingv1alpha1.KalypsoTritonServer) {
	all := make([]servingv1alpha1.ServerSummary, 0, len(servers))
	var ready int32
	for i := range servers {
		s := &servers[i]
		sum := servingv1alpha1.ServerSummary{
			Name: s.Name,
			Ready: meta.IsStatusConditionTrue(s.Status.Conditions, servingv1alpha1.ConditionReady) &&
				s.Status.ObservedGeneration == s.Generation,
		}
		if sum.Ready {
			ready++
		}
		if s.Status.Endpoints != nil {
			sum.Endpoint = s.Status.Endpoints.HTTP
		}
		all = append(all, sum)
	}
	slices.SortFunc(all, compareSummaries)

	status.Servers = int32(len(servers)) //nolint:gosec // bounded by etcd object counts
	status.ReadyServers = ready
	status.ServerSummaries = nil
	status.OmittedServers = 0
	if len(all) == 0 {
		return
	}
	n := min(len(all), servingv1alpha1.MaxServerSummaries)
	// A copy, so the status does not keep the whole sorted array alive.
	status.ServerSummaries = slices.Clone(all[:n])
	status.OmittedServers = int32(len(all) - n) //nolint:gosec // bounded by etcd object counts
}

// compareSummaries orders not-Ready servers before Ready ones, then by name;
// the endpoint breaks ties so that the order is total.
func compareSummaries(a, b servingv1alpha1.ServerSummary) int {
	if a.Ready != b.Ready {
		if !a.Ready {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Endpoint, b.Endpoint)
}

// maxModelSummaries bounds KalypsoApplicationStatus.ModelSummaries; it must
// match the MaxItems marker on that field.
const maxModelSummaries = 20

// modelTally is one model being counted across the servers; last is one
// more than the index of the last server counted, so that a name a server
// lists twice counts once for it.
type modelTally struct {
	sum       servingv1alpha1.ModelSummary
	last      int
	lastReady bool
}

// summarizeModels counts the distinct models the Application's servers
// report and lists at most maxModelSummaries of them: those no Ready server
// serves first, then by name. A model counts for a server's ReadyServers
// when the server is Ready and serves it on every ready replica (READY with
// at least one ready replica). The order does not depend on the order of
// servers.
func summarizeModels(status *servingv1alpha1.KalypsoApplicationStatus, servers []servingv1alpha1.KalypsoTritonServer) {
	tallies := map[string]*modelTally{}
	for i := range servers {
		s := &servers[i]
		ready := serverReady(s)
		for j := range s.Status.Models {
			m := &s.Status.Models[j]
			t := tallies[m.Name]
			if t == nil {
				t = &modelTally{sum: servingv1alpha1.ModelSummary{Name: m.Name}}
				tallies[m.Name] = t
			}
			if t.last != i+1 {
				t.last, t.lastReady = i+1, false
				t.sum.Servers++
			}
			if ready && !t.lastReady && modelServed(m) {
				t.lastReady = true
				t.sum.ReadyServers++
			}
		}
	}

	all := make([]servingv1alpha1.ModelSummary, 0, len(tallies))
	var readyModels int32
	for _, t := range tallies {
		if t.sum.ReadyServers > 0 {
			readyModels++
		}
		all = append(all, t.sum)
	}
	slices.SortFunc(all, compareModelSummaries)

	status.Models = int32(len(all)) //nolint:gosec // bounded by the servers' bounded lists
	status.ReadyModels = readyModels
	status.ModelSummaries = nil
	status.OmittedModels = 0
	if len(all) == 0 {
		return
	}
	n := min(len(all), maxModelSummaries)
	// A copy, so the status does not keep the whole sorted array alive.
	status.ModelSummaries = slices.Clone(all[:n])
	status.OmittedModels = int32(len(all) - n) //nolint:gosec // bounded by the servers' bounded lists
}

// modelServed is what the Application reads of one model of a server:
// every ready replica serves it, and there is at least one.
func modelServed(m *servingv1alpha1.ModelStatus) bool {
	return m.State == servingv1alpha1.ModelStateReady && m.ReadyReplicas > 0
}

// compareModelSummaries orders models no Ready server serves before the
// others, then by name, which is unique among the summaries.
func compareModelSummaries(a, b servingv1alpha1.ModelSummary) int {
	if aw, bw := a.ReadyServers == 0, b.ReadyServers == 0; aw != bw {
		if aw {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Name, b.Name)
}

// modelsViewEqual reports whether two lists of a server's models look the
// same to summarizeModels: the same names, each served (modelServed) alike.
// Reasons, versions and replica counts above zero are not looked at.
func modelsViewEqual(a, b []servingv1alpha1.ModelStatus) bool {
	if len(a) == len(b) {
		same := true
		for i := range a {
			if a[i].Name != b[i].Name || modelServed(&a[i]) != modelServed(&b[i]) {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	// Reordered (or resized) lists: compare by name.
	return maps.Equal(modelsView(a), modelsView(b))
}

// modelsView maps each model name to whether some entry of it is served.
func modelsView(models []servingv1alpha1.ModelStatus) map[string]bool {
	out := make(map[string]bool, len(models))
	for i := range models {
		out[models[i].Name] = out[models[i].Name] || modelServed(&models[i])
	}
	return out
}
