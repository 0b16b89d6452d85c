// Package fleetstatus answers one question about a cluster: what is serving
// and what is broken. It reads the three kinds and arranges them as a tree,
// project → environment → application → server, each with its readiness
// and, for anything not Ready, the reason and message of its Ready
// condition. `kalypso status` prints it.
package fleetstatus

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// NoProject names the group of namespaces that no project governs.
const NoProject = "(no project)"

// Tree is the fleet, projects by name; namespaces no project governs come
// last, under NoProject.
type Tree struct {
	Projects []Project `json:"projects"`
}

// Project is one KalypsoProject.
type Project struct {
	Name         string `json:"name"`
	Status       `json:",inline"`
	Environments []Environment `json:"environments,omitempty"`
}

// Environment is one environment namespace.
type Environment struct {
	Name         string        `json:"name"`
	Namespace    string        `json:"namespace"`
	Applications []Application `json:"applications,omitempty"`
}

// Application is one KalypsoApplication and its servers.
type Application struct {
	Name         string `json:"name"`
	Status       `json:",inline"`
	Servers      int32    `json:"servers"`
	ReadyServers int32    `json:"readyServers"`
	Models       int32    `json:"models"`
	ReadyModels  int32    `json:"readyModels"`
	Items        []Server `json:"items,omitempty"`
}

// Server is one KalypsoTritonServer.
type Server struct {
	Name              string `json:"name"`
	Status            `json:",inline"`
	Replicas          int32  `json:"replicas"`
	AvailableReplicas int32  `json:"availableReplicas"`
	Models            string `json:"models,omitempty"`
	Endpoint          string `json:"endpoint,omitempty"`
}

// Status is an object's readiness; Reason and Message are those of its
// Ready condition when it is not Ready.
type Status struct {
	Phase   servingv1alpha1.Phase `json:"phase,omitempty"`
	Ready   bool                  `json:"ready"`
	Reason  string                `json:"reason,omitempty"`
	Message string                `json:"message,omitempty"`
}

func statusOf(phase servingv1alpha1.Phase, generation, observed int64, conds []metav1.Condition) Status {
	s := Status{Phase: phase}
	c := meta.FindStatusCondition(conds, servingv1alpha1.ConditionReady)
	switch {
	case c == nil:
		s.Reason, s.Message = "Unknown", "not reconciled yet"
	case observed < generation:
		s.Reason, s.Message = c.Reason, "the operator has not reconciled the latest spec yet"
	case c.Status == metav1.ConditionTrue:
		s.Ready = true
	default:
		s.Reason, s.Message = c.Reason, c.Message
	}
	return s
}

// Collect reads the fleet of namespace ("" for all namespaces).
func Collect(ctx context.Context, c client.Reader, namespace string) (Tree, error) {
	var projects servingv1alpha1.KalypsoProjectList
	if err := c.List(ctx, &projects); err != nil {
		return Tree{}, fmt.Errorf("listing KalypsoProjects: %w", err)
	}
	var apps servingv1alpha1.KalypsoApplicationList
	if err := c.List(ctx, &apps, client.InNamespace(namespace)); err != nil {
		return Tree{}, fmt.Errorf("listing KalypsoApplications: %w", err)
	}
	var servers servingv1alpha1.KalypsoTritonServerList
	if err := c.List(ctx, &servers, client.InNamespace(namespace)); err != nil {
		return Tree{}, fmt.Errorf("listing KalypsoTritonServers: %w", err)
	}
	return Build(projects.Items, apps.Items, servers.Items, namespace), nil
}

// Build arranges the objects as a tree. With namespace set, only that
// namespace's environment (and its project) is kept. Servers whose
// Application is missing are listed under an application of that name
// with reason ApplicationNotFound.
func Build(projects []servingv1alpha1.KalypsoProject, apps []servingv1alpha1.KalypsoApplication,
	servers []servingv1alpha1.KalypsoTritonServer, namespace string) Tree {
	byNS := map[string][]Application{}
	index := map[string]int{}
	for i := range apps {
		a := &apps[i]
		st := a.Status
		byNS[a.Namespace] = append(byNS[a.Namespace], Application{Name: a.Name,
			Status:  statusOf(st.Phase, a.Generation, st.ObservedGeneration, st.Conditions),
			Servers: st.Servers, ReadyServers: st.ReadyServers, Models: st.Models, ReadyModels: st.ReadyModels})
		index[a.Namespace+"/"+a.Name] = len(byNS[a.Namespace]) - 1
	}
	for i := range servers {
		s := &servers[i]
		key := s.Namespace + "/" + s.Spec.ApplicationRef.Name
		j, ok := index[key]
		if !ok {
			byNS[s.Namespace] = append(byNS[s.Namespace], Application{Name: s.Spec.ApplicationRef.Name,
				Status: Status{Reason: servingv1alpha1.ReasonApplicationNotFound, Message: "no such KalypsoApplication"}})
			j = len(byNS[s.Namespace]) - 1
			index[key] = j
		}
		byNS[s.Namespace][j].Items = append(byNS[s.Namespace][j].Items, serverOf(s))
	}
	for ns := range byNS {
		slices.SortFunc(byNS[ns], func(a, b Application) int { return cmp.Compare(a.Name, b.Name) })
		for i := range byNS[ns] {
			slices.SortFunc(byNS[ns][i].Items, func(a, b Server) int { return cmp.Compare(a.Name, b.Name) })
		}
	}

	var tree Tree
	governed := map[string]bool{}
	slices.SortFunc(projects, func(a, b servingv1alpha1.KalypsoProject) int { return cmp.Compare(a.Name, b.Name) })
	for i := range projects {
		p := &projects[i]
		proj := Project{Name: p.Name, Status: statusOf(p.Status.Phase, p.Generation, p.Status.ObservedGeneration, p.Status.Conditions)}
		for _, env := range p.Spec.Environments {
			ns := render.EnvNamespace(p.Name, env)
			governed[ns] = true
			if namespace != "" && ns != namespace {
				continue
			}
			proj.Environments = append(proj.Environments, Environment{Name: env.Name, Namespace: ns, Applications: byNS[ns]})
		}
		if namespace == "" || len(proj.Environments) > 0 {
			tree.Projects = append(tree.Projects, proj)
		}
	}
	var loose []string
	for ns := range byNS {
		if !governed[ns] && (namespace == "" || ns == namespace) {
			loose = append(loose, ns)
		}
	}
	slices.Sort(loose)
	if len(loose) > 0 {
		none := Project{Name: NoProject, Status: Status{Ready: true}}
		for _, ns := range loose {
			none.Environments = append(none.Environments, Environment{Name: ns, Namespace: ns, Applications: byNS[ns]})
		}
		tree.Projects = append(tree.Projects, none)
	}
	return tree
}

func serverOf(s *servingv1alpha1.KalypsoTritonServer) Server {
	st := s.Status
	out := Server{Name: s.Name, Status: statusOf(st.Phase, s.Generation, st.ObservedGeneration, st.Conditions),
		Replicas: st.Replicas, AvailableReplicas: st.AvailableReplicas, Models: st.ModelsReady}
	if st.Endpoints != nil {
		out.Endpoint = st.Endpoints.HTTP
	}
	return out
}
