package render

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// Names of the objects the operator keeps in every environment namespace.
const (
	QuotaName          = "kalypso-quota"
	LimitRangeName     = "kalypso-limits"
	NetworkPolicyName  = "kalypso-default-ingress"
	roleBindingPrefix  = "kalypso-"
	AnnotationProject  = "kalypso-serving.io/project-uid"
	podSecurityVersion = "latest"

	// DefaultMonitoringNamespace may reach servers in an isolated environment.
	DefaultMonitoringNamespace = "monitoring"
	// DefaultIngressNamespace hosts the ingress gateway allowed into an isolated environment.
	DefaultIngressNamespace = "ingress-nginx"
)

// Roles bound by environment access, one per access level. They are the
// only ClusterRoles the operator may bind (RBAC bind with resourceNames).
var accessRoles = []struct {
	level string
	role  string
	get   func(*servingv1alpha1.Access) []rbacv1.Subject
}{
	{"admins", "kalypso-serving-admin", func(a *servingv1alpha1.Access) []rbacv1.Subject { return a.Admins }},
	{"editors", "kalypso-serving-editor", func(a *servingv1alpha1.Access) []rbacv1.Subject { return a.Editors }},
	{"viewers", "kalypso-serving-viewer", func(a *servingv1alpha1.Access) []rbacv1.Subject { return a.Viewers }},
}

// EnvInput is one environment of a project.
type EnvInput struct {
	Project *servingv1alpha1.KalypsoProject
	Env     servingv1alpha1.Environment
}

// EnvNamespace is the namespace of an environment.
func EnvNamespace(project string, env servingv1alpha1.Environment) string {
	if env.Namespace != "" {
		return env.Namespace
	}
	return project + "-" + env.Name
}

// EnvLabels are set on every object of an environment.
func EnvLabels(in EnvInput) map[string]string {
	return map[string]string{
		LabelManagedBy:   ManagedByValue,
		LabelProject:     in.Project.Name,
		LabelEnvironment: in.Env.Name,
	}
}

// ownerRefs makes the project the controller of an environment object.
func ownerRefs(p *servingv1alpha1.KalypsoProject) []any {
	return []any{map[string]any{
		"apiVersion": servingv1alpha1.GroupVersion.String(), "kind": "KalypsoProject",
		"name": p.Name, "uid": string(p.UID), "controller": true, "blockOwnerDeletion": true,
	}}
}

// EnvChild is one rendered object of an environment (nil Object: absent).
type EnvChild struct {
	Kind   string
	Name   string
	Object map[string]any
}

// Namespace renders an environment's namespace as an unstructured-ready map:
// labels (project, environment, Pod Security at the chosen level), the
// project's UID as proof of creation, and, unless the project retains its
// namespaces, an owner reference so deleting the project deletes them.
func Namespace(in EnvInput) map[string]any {
	level := in.Env.PodSecurity
	if level == "" {
		level = servingv1alpha1.PodSecurityRestricted
	}
	labels := EnvLabels(in)
	for _, mode := range []string{"enforce", "warn", "audit"} {
		labels["pod-security.kubernetes.io/"+mode] = string(level)
		labels["pod-security.kubernetes.io/"+mode+"-version"] = podSecurityVersion
	}
	meta := map[string]any{
		"name":        EnvNamespace(in.Project.Name, in.Env),
		"labels":      toAnyMap(labels),
		"annotations": map[string]any{AnnotationProject: string(in.Project.UID)},
	}
	if in.Project.Spec.DeletionPolicy != servingv1alpha1.DeletionPolicyRetain {
		meta["ownerReferences"] = ownerRefs(in.Project)
	}
	return map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
}

func toAnyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// QuotaHard translates the seed's quota shape into the keys Kubernetes
// enforces. cpu, memory and ephemeral-storage under limits become limits.*;
// everything under requests becomes requests.*; an extended resource such
// as nvidia.com/gpu is only enforceable as requests.<name> (its requests
// always equal its limits), so under limits it becomes requests.<name> too,
// unless requests names it explicitly. hard is passed through.
func QuotaHard(q *servingv1alpha1.ResourceQuota) corev1.ResourceList {
	if q == nil {
		return nil
	}
	hard := corev1.ResourceList{}
	for k, v := range q.Hard {
		hard[k] = v
	}
	for k, v := range q.Requests {
		hard[corev1.ResourceName("requests."+string(k))] = v
	}
	for k, v := range q.Limits {
		key := corev1.ResourceName("limits." + string(k))
		if isExtendedResource(k) || strings.HasPrefix(string(k), corev1.ResourceHugePagesPrefix) {
			key = corev1.ResourceName("requests." + string(k))
			if _, set := q.Requests[k]; set {
				continue
			}
		}
		hard[key] = v
	}
	return hard
}

// isExtendedResource is true for resource names outside the kubernetes.io
// domain, like nvidia.com/gpu.
func isExtendedResource(name corev1.ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") && !strings.Contains(s, "kubernetes.io/")
}

// ResourceQuota renders the environment's quota, or nil without one.
func ResourceQuota(in EnvInput) map[string]any {
	hard := QuotaHard(in.Env.ResourceQuota)
	if len(hard) == 0 {
		return nil
	}
	h := map[string]any{}
	keys := make([]string, 0, len(hard))
	for k := range hard {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		q := hard[corev1.ResourceName(k)]
		h[k] = q.String()
	}
	return envObject(in, "v1", "ResourceQuota", QuotaName, map[string]any{"spec": map[string]any{"hard": h}})
}

// LimitRange renders the environment's LimitRange, or nil without one.
func LimitRange(in EnvInput) map[string]any {
	if in.Env.LimitRange == nil || len(in.Env.LimitRange.Limits) == 0 {
		return nil
	}
	spec := corev1.LimitRangeSpec{Limits: in.Env.LimitRange.Limits}
	return envObject(in, "v1", "LimitRange", LimitRangeName, map[string]any{"spec": toUnstructured(spec).Object})
}

// NetworkPolicy renders the default-deny ingress policy of an isolated
// environment: pods accept traffic only from the same namespace, the
// monitoring namespace and the ingress gateway namespace.
func NetworkPolicy(in EnvInput) map[string]any {
	iso := in.Env.NetworkIsolation
	if iso != nil && iso.Mode == servingv1alpha1.NetworkIsolationNone {
		return nil
	}
	monitoring, ingress := DefaultMonitoringNamespace, DefaultIngressNamespace
	if iso != nil {
		if iso.MonitoringNamespace != "" {
			monitoring = iso.MonitoringNamespace
		}
		if iso.IngressNamespace != "" {
			ingress = iso.IngressNamespace
		}
	}
	fromNamespace := func(name string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{corev1.LabelMetadataName: name}}}
	}
	spec := networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
			{PodSelector: &metav1.LabelSelector{}},
			fromNamespace(monitoring),
			fromNamespace(ingress),
		}}},
	}
	u := toUnstructured(spec).Object
	// An empty podSelector selects every pod; it must survive pruning.
	u["podSelector"] = map[string]any{}
	rules := u["ingress"].([]any)[0].(map[string]any)["from"].([]any)
	rules[0] = map[string]any{"podSelector": map[string]any{}}
	return envObject(in, "networking.k8s.io/v1", "NetworkPolicy", NetworkPolicyName, map[string]any{"spec": u})
}

// RoleBindings renders one RoleBinding per access level that has subjects,
// keyed by name; levels without subjects map to nil (absent).
func RoleBindings(in EnvInput) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range accessRoles {
		name := roleBindingPrefix + r.level
		var subjects []rbacv1.Subject
		if in.Env.Access != nil {
			subjects = r.get(in.Env.Access)
		}
		if len(subjects) == 0 {
			out[name] = nil
			continue
		}
		subs := make([]any, 0, len(subjects))
		for _, s := range subjects {
			subs = append(subs, subject(s, EnvNamespace(in.Project.Name, in.Env)))
		}
		out[name] = envObject(in, "rbac.authorization.k8s.io/v1", "RoleBinding", name, map[string]any{
			"roleRef":  map[string]any{"apiGroup": rbacv1.GroupName, "kind": "ClusterRole", "name": r.role},
			"subjects": subs,
		})
	}
	return out
}

// subject fills the API group and, for a ServiceAccount without one, the
// environment namespace.
func subject(s rbacv1.Subject, namespace string) map[string]any {
	m := map[string]any{"kind": s.Kind, "name": s.Name}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = namespace
		}
		m["namespace"] = ns
	default:
		m["apiGroup"] = rbacv1.GroupName
	}
	return m
}

// envObject wraps a namespaced object of an environment. It is owned by the
// project (deleted with it) unless the project retains its namespaces, in
// which case the governed objects stay with the namespace.
func envObject(in EnvInput, apiVersion, kind, name string, body map[string]any) map[string]any {
	meta := map[string]any{
		"name":      name,
		"namespace": EnvNamespace(in.Project.Name, in.Env),
		"labels":    toAnyMap(EnvLabels(in)),
	}
	if in.Project.Spec.DeletionPolicy != servingv1alpha1.DeletionPolicyRetain {
		meta["ownerReferences"] = ownerRefs(in.Project)
	}
	obj := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta}
	for k, v := range body {
		obj[k] = v
	}
	return obj
}

// EnvChildren renders every namespaced object of an environment, in apply
// order; Object nil means the spec does not want it.
func EnvChildren(in EnvInput) []EnvChild {
	rbs := RoleBindings(in)
	out := make([]EnvChild, 0, 3+len(rbs))
	out = append(out,
		EnvChild{Kind: "ResourceQuota", Name: QuotaName, Object: ResourceQuota(in)},
		EnvChild{Kind: "LimitRange", Name: LimitRangeName, Object: LimitRange(in)},
		EnvChild{Kind: "NetworkPolicy", Name: NetworkPolicyName, Object: NetworkPolicy(in)},
	)
	names := make([]string, 0, len(rbs))
	for n := range rbs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, EnvChild{Kind: "RoleBinding", Name: n, Object: rbs[n]})
	}
	return out
}

// String describes an environment for messages.
func (in EnvInput) String() string {
	return fmt.Sprintf("environment %s (namespace %s)", in.Env.Name, EnvNamespace(in.Project.Name, in.Env))
}
