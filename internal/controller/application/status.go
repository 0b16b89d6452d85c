package application

import (
	"fmt"
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
