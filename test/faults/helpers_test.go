package faults

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/process"
)

var managerCount atomic.Int32

// startManager starts a manager process with its own log file.
func startManager(name, kubeconfig string, leaderElect bool) *process.Manager {
	n := managerCount.Add(1)
	m, err := process.StartManager(ctx, process.ManagerOptions{
		Binary:                  managerBinary,
		Kubeconfig:              kubeconfig,
		LogPath:                 filepath.Join(tmp, fmt.Sprintf("manager-%02d-%s.log", n, name)),
		QPS:                     200,
		Burst:                   400,
		LeaderElect:             leaderElect,
		LeaderElectionNamespace: process.ManagerNamespace,
		ExtraArgs: []string{"--leader-elect-lease-duration", leaseDuration.String(),
			"--leader-elect-renew-deadline", renewDeadline.String(), "--leader-elect-retry-period", retryPeriod.String()},
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return m
}

// namespaceWithApp creates ns and a Ready KalypsoApplication in it.
func namespaceWithApp(ns string) {
	ExpectWithOffset(1, k8s.Create(ctx, fixture.Namespace(ns))).To(Succeed())
	ExpectWithOffset(1, k8s.Create(ctx, fixture.Application(ns, fixture.AppName))).To(Succeed())
	EventuallyWithOffset(1, func(g Gomega) {
		var app servingv1alpha1.KalypsoApplication
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: fixture.AppName}, &app)).To(Succeed())
		g.Expect(fixture.ApplicationReady(&app)).To(BeTrue())
	}).Should(Succeed())
}

// cleanup deletes the servers, their children and the Applications of the
// namespaces (envtest has no garbage collector).
func cleanup(namespaces ...string) {
	for _, ns := range namespaces {
		for _, obj := range []client.Object{&servingv1alpha1.KalypsoTritonServer{}, &appsv1.Deployment{}, &corev1.Service{},
			&policyv1.PodDisruptionBudget{}, &servingv1alpha1.KalypsoApplication{}} {
			ExpectWithOffset(1, k8s.DeleteAllOf(ctx, obj, client.InNamespace(ns))).To(Succeed())
		}
	}
}

// childKinds are the kinds a server can have children of (the optional
// ServiceMonitor CRD is not installed).
var childKinds = []schema.GroupVersionKind{render.DeploymentGVK, render.ServiceGVK, render.PDBGVK, render.HPAGVK}

// state is what a namespace's servers and their children look like.
type state struct {
	Servers    int
	Converged  int
	Duplicates int      // children beyond one per kind and server
	Problems   []string // why servers are not converged (first few)
}

// inspect lists the servers of ns (only those named, if any) and every
// child kind, grouped by the instance label, and checks each server: status
// observedGeneration equals generation, exactly one Deployment, Service and
// PDB controlled by it (Deployment replicas as in the spec), no HPA.
func inspect(g Gomega, ns string, only ...string) state {
	var servers servingv1alpha1.KalypsoTritonServerList
	g.Expect(k8s.List(ctx, &servers, client.InNamespace(ns))).To(Succeed())
	if len(only) > 0 {
		kept := servers.Items[:0]
		for _, srv := range servers.Items {
			if slices.Contains(only, srv.Name) {
				kept = append(kept, srv)
			}
		}
		servers.Items = kept
		g.Expect(servers.Items).To(HaveLen(len(only)))
	}
	children := map[schema.GroupVersionKind]map[string][]metav1.PartialObjectMetadata{}
	for _, gvk := range childKinds {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns), client.HasLabels{render.LabelInstance})).To(Succeed())
		byInstance := map[string][]metav1.PartialObjectMetadata{}
		for _, o := range list.Items {
			byInstance[o.Labels[render.LabelInstance]] = append(byInstance[o.Labels[render.LabelInstance]], o)
		}
		children[gvk] = byInstance
	}
	var deps appsv1.DeploymentList
	g.Expect(k8s.List(ctx, &deps, client.InNamespace(ns))).To(Succeed())
	replicas := map[string]int32{}
	for _, d := range deps.Items {
		replicas[d.Name] = ptr.Deref(d.Spec.Replicas, 1)
	}

	st := state{Servers: len(servers.Items)}
	for i := range servers.Items {
		dups, problems := checkServer(&servers.Items[i], children, replicas)
		st.Duplicates += dups
		if len(problems) == 0 {
			st.Converged++
		}
		for _, p := range problems {
			if len(st.Problems) < 5 {
				st.Problems = append(st.Problems, p)
			}
		}
	}
	return st
}

// checkServer checks one server against the children found for it.
func checkServer(srv *servingv1alpha1.KalypsoTritonServer, children map[schema.GroupVersionKind]map[string][]metav1.PartialObjectMetadata,
	replicas map[string]int32) (duplicates int, problems []string) {
	problem := func(format string, args ...any) {
		problems = append(problems, srv.Name+": "+fmt.Sprintf(format, args...))
	}
	if srv.Status.ObservedGeneration != srv.Generation ||
		meta.FindStatusCondition(srv.Status.Conditions, servingv1alpha1.ConditionReady) == nil {
		problem("status observedGeneration %d, generation %d", srv.Status.ObservedGeneration, srv.Generation)
	}
	for _, gvk := range childKinds {
		objs := children[gvk][srv.Name]
		want := 1
		if gvk == render.HPAGVK {
			want = 0
		}
		if len(objs) > want {
			duplicates += len(objs) - want
		}
		if len(objs) != want {
			problem("%d %s, want %d", len(objs), gvk.Kind, want)
			continue
		}
		for _, o := range objs {
			if ref := metav1.GetControllerOf(&o); ref == nil || ref.UID != srv.UID {
				problem("%s %s not controlled by the server", gvk.Kind, o.Name)
			}
		}
	}
	if r, found := replicas[srv.Name]; found && r != ptr.Deref(srv.Spec.Replicas, 1) {
		problem("Deployment replicas %d, spec %d", r, ptr.Deref(srv.Spec.Replicas, 1))
	}
	return duplicates, problems
}

// governedKinds carry the operator's managed-by label.
var governedKinds = append([]schema.GroupVersionKind{
	corev1.SchemeGroupVersion.WithKind("Namespace"),
	corev1.SchemeGroupVersion.WithKind("ResourceQuota"),
	corev1.SchemeGroupVersion.WithKind("LimitRange"),
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding"},
}, childKinds...)

// orphans lists, cluster-wide, the objects labelled managed-by=kalypso-serving
// whose controller is missing or no longer exists (another object with the
// same name but a different UID counts as missing). It also returns how many
// such objects it checked.
func orphans(g Gomega) (checked int, found []string) {
	for _, gvk := range governedKinds {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		g.Expect(k8s.List(ctx, list, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue})).To(Succeed())
		for i := range list.Items {
			o := &list.Items[i]
			checked++
			id := fmt.Sprintf("%s %s/%s", gvk.Kind, o.Namespace, o.Name)
			ref := metav1.GetControllerOf(o)
			if ref == nil {
				found = append(found, id+" has no controller")
				continue
			}
			owner := &metav1.PartialObjectMetadata{}
			owner.SetGroupVersionKind(schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind))
			err := k8s.Get(ctx, client.ObjectKey{Namespace: o.Namespace, Name: ref.Name}, owner)
			switch {
			case apierrors.IsNotFound(err):
				found = append(found, fmt.Sprintf("%s: controller %s %s does not exist", id, ref.Kind, ref.Name))
			case err != nil:
				g.Expect(err).NotTo(HaveOccurred())
			case owner.UID != ref.UID:
				found = append(found, fmt.Sprintf("%s: controller %s %s has another UID", id, ref.Kind, ref.Name))
			}
		}
	}
	return checked, found
}

// countBy counts strings and renders "a x2, b x1" sorted by key.
func countBy(items []string) string {
	counts := map[string]int{}
	for _, it := range items {
		counts[it]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s x%d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}
