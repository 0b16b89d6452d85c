package render

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
)

// Names of the objects the operator keeps in every environment namespace.
const (
	QuotaName         = "kalypso-quota"
	LimitRangeName    = "kalypso-limits"
	NetworkPolicyName = "kalypso-default-ingress"
	roleBindingPrefix = "kalypso-"
	// ViewersRoleBinding grants read-only access; the other levels let the team write.
	ViewersRoleBinding = roleBindingPrefix + "viewers"
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
	// OperatorNamespace, when set, is admitted by the NetworkPolicy to the
	// pods' HTTP port only: the operator reads Triton's model index there.
	OperatorNamespace string
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

// Kinds of an environment's objects.
var (
	NamespaceGVK     = corev1.SchemeGroupVersion.WithKind("Namespace")
	QuotaGVK         = corev1.SchemeGroupVersion.WithKind("ResourceQuota")
	LimitRangeGVK    = corev1.SchemeGroupVersion.WithKind("LimitRange")
	NetworkPolicyGVK = networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy")
	RoleBindingGVK   = rbacv1.SchemeGroupVersion.WithKind("RoleBinding")
)

// projectOwner makes the project the controller of an environment object.
func projectOwner(p *servingv1alpha1.KalypsoProject) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(servingv1alpha1.GroupVersion.String()).WithKind("KalypsoProject").
		WithName(p.Name).WithUID(p.UID).WithController(true).WithBlockOwnerDeletion(true)
}

// envMeta sets what every object of an environment carries: its labels, the
// project's UID as proof of creation and, unless the project retains its
// namespaces, the project as controller (deleted with it).
func envMeta[T interface {
	WithLabels(map[string]string) T
	WithAnnotations(map[string]string) T
	WithOwnerReferences(...*metav1ac.OwnerReferenceApplyConfiguration) T
}](obj T, in EnvInput, extraLabels map[string]string) T {
	labels := EnvLabels(in)
	for k, v := range extraLabels {
		labels[k] = v
	}
	obj = obj.WithLabels(labels).WithAnnotations(map[string]string{AnnotationProject: string(in.Project.UID)})
	if in.Project.Spec.DeletionPolicy != servingv1alpha1.DeletionPolicyRetain {
		obj = obj.WithOwnerReferences(projectOwner(in.Project))
	}
	return obj
}

// Namespace renders an environment's namespace: labels (project,
// environment, Pod Security at the chosen level), the project's UID as proof
// of creation, and, unless the project retains its namespaces, an owner
// reference so deleting the project deletes them.
func Namespace(in EnvInput) *corev1ac.NamespaceApplyConfiguration {
	level := in.Env.PodSecurity
	if level == "" {
		level = servingv1alpha1.PodSecurityRestricted
	}
	podSecurity := map[string]string{}
	for _, mode := range []string{"enforce", "warn", "audit"} {
		podSecurity["pod-security.kubernetes.io/"+mode] = string(level)
		podSecurity["pod-security.kubernetes.io/"+mode+"-version"] = podSecurityVersion
	}
	return envMeta(corev1ac.Namespace(EnvNamespace(in.Project.Name, in.Env)), in, podSecurity)
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
func ResourceQuota(in EnvInput) *corev1ac.ResourceQuotaApplyConfiguration {
	hard := QuotaHard(in.Env.ResourceQuota)
	if len(hard) == 0 {
		return nil
	}
	return envMeta(corev1ac.ResourceQuota(QuotaName, EnvNamespace(in.Project.Name, in.Env)), in, nil).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(hard))
}

// LimitRange renders the environment's LimitRange, or nil without one.
func LimitRange(in EnvInput) (*corev1ac.LimitRangeApplyConfiguration, error) {
	if in.Env.LimitRange == nil || len(in.Env.LimitRange.Limits) == 0 {
		return nil, nil
	}
	spec := corev1ac.LimitRangeSpec()
	for _, item := range in.Env.LimitRange.Limits {
		ac, err := apply.Convert[corev1ac.LimitRangeItemApplyConfiguration](item)
		if err != nil {
			return nil, fmt.Errorf("render LimitRange: %w", err)
		}
		spec.WithLimits(ac)
	}
	return envMeta(corev1ac.LimitRange(LimitRangeName, EnvNamespace(in.Project.Name, in.Env)), in, nil).WithSpec(spec), nil
}

// NetworkPolicy renders the default-deny ingress policy of an isolated
// environment: pods accept traffic only from the same namespace, the
// monitoring namespace and the ingress gateway namespace.
func NetworkPolicy(in EnvInput) *networkingv1ac.NetworkPolicyApplyConfiguration {
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
	fromNamespace := func(name string) *networkingv1ac.NetworkPolicyPeerApplyConfiguration {
		return networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
			metav1ac.LabelSelector().WithMatchLabels(map[string]string{corev1.LabelMetadataName: name}))
	}
	rules := []*networkingv1ac.NetworkPolicyIngressRuleApplyConfiguration{
		networkingv1ac.NetworkPolicyIngressRule().WithFrom(
			networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()),
			fromNamespace(monitoring),
			fromNamespace(ingress),
		),
	}
	if in.OperatorNamespace != "" {
		// The container port named http of every Triton pod, whatever its number.
		rules = append(rules, networkingv1ac.NetworkPolicyIngressRule().
			WithFrom(fromNamespace(in.OperatorNamespace)).
			WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromString("http"))))
	}
	// An empty pod selector ({}) selects every pod of the namespace.
	return envMeta(networkingv1ac.NetworkPolicy(NetworkPolicyName, EnvNamespace(in.Project.Name, in.Env)), in, nil).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector()).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(rules...))
}

// RoleBindings renders one RoleBinding per access level that has subjects,
// keyed by name; levels without subjects map to nil (absent).
func RoleBindings(in EnvInput) map[string]*rbacv1ac.RoleBindingApplyConfiguration {
	out := map[string]*rbacv1ac.RoleBindingApplyConfiguration{}
	ns := EnvNamespace(in.Project.Name, in.Env)
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
		rb := envMeta(rbacv1ac.RoleBinding(name, ns), in, nil).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(r.role))
		for _, s := range subjects {
			rb.WithSubjects(subject(s, ns))
		}
		out[name] = rb
	}
	return out
}

// subject fills the API group and, for a ServiceAccount without one, the
// environment namespace.
func subject(s rbacv1.Subject, namespace string) *rbacv1ac.SubjectApplyConfiguration {
	sub := rbacv1ac.Subject().WithKind(s.Kind).WithName(s.Name)
	if s.Kind != rbacv1.ServiceAccountKind {
		return sub.WithAPIGroup(rbacv1.GroupName)
	}
	if s.Namespace != "" {
		namespace = s.Namespace
	}
	return sub.WithNamespace(namespace)
}

// NamespaceChild renders the environment's namespace as a child.
func NamespaceChild(in EnvInput) (Child, error) {
	return newChild(NamespaceGVK, types.NamespacedName{Name: EnvNamespace(in.Project.Name, in.Env)}, Namespace(in))
}

// EnvChildren renders every namespaced object of an environment, in apply
// order; a nil Object means the spec does not want it.
func EnvChildren(in EnvInput) ([]Child, error) {
	ns := EnvNamespace(in.Project.Name, in.Env)
	limits, err := LimitRange(in)
	if err != nil {
		return nil, err
	}
	type rendered struct {
		gvk  schema.GroupVersionKind
		name string
		obj  any
	}
	all := []rendered{
		{QuotaGVK, QuotaName, ResourceQuota(in)},
		{LimitRangeGVK, LimitRangeName, limits},
		{NetworkPolicyGVK, NetworkPolicyName, NetworkPolicy(in)},
	}
	rbs := RoleBindings(in)
	names := make([]string, 0, len(rbs))
	for n := range rbs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		all = append(all, rendered{RoleBindingGVK, n, rbs[n]})
	}
	out := make([]Child, 0, len(all))
	for _, r := range all {
		c, err := newChild(r.gvk, types.NamespacedName{Namespace: ns, Name: r.name}, r.obj)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// String describes an environment for messages.
func (in EnvInput) String() string {
	return fmt.Sprintf("environment %s (namespace %s)", in.Env.Name, EnvNamespace(in.Project.Name, in.Env))
}
