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

// summarize aggregates the Application's servers, sorted by name.
func summarize(status *servingv1alpha1.KalypsoApplicationStatus, servers []servingv1alpha1.KalypsoTritonServer) {
	status.Servers = int32(len(servers)) //nolint:gosec // bounded by etcd object counts
	status.ReadyServers = 0
	status.ServerSummaries = nil
	for i := range servers {
		s := &servers[i]
		ready := meta.IsStatusConditionTrue(s.Status.Conditions, servingv1alpha1.ConditionReady) &&
			s.Status.ObservedGeneration == s.Generation
		if ready {
			status.ReadyServers++
		}
		sum := servingv1alpha1.ServerSummary{Name: s.Name, Ready: ready}
		if s.Status.Endpoints != nil {
			sum.Endpoint = s.Status.Endpoints.HTTP
		}
		status.ServerSummaries = append(status.ServerSummaries, sum)
	}
	sort.Slice(status.ServerSummaries, func(i, j int) bool {
		return status.ServerSummaries[i].Name < status.ServerSummaries[j].Name
	})
}
