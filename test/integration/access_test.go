package integration

import (
	"fmt"
	"os"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

// accessCheck is one row of the environment access matrix: a resource
// (group/resource[/subresource]) and verb, and which levels may do it.
type accessCheck struct {
	group, resource, subresource, verb string
	admin, editor, viewer              bool
}

// The matrix the environment roles must produce, verb by verb. A team runs
// its environment (its Secrets, the Kalypso kinds, reading what runs) and
// never edits what the operator governs.
var accessMatrix = []accessCheck{
	{"serving.kalypso.io", "kalypsotritonservers", "", "create", true, true, false},
	{"serving.kalypso.io", "kalypsotritonservers", "", "delete", true, true, false},
	{"serving.kalypso.io", "kalypsotritonservers", "", "get", true, true, true},
	{"serving.kalypso.io", "kalypsotritonservers", "scale", "update", true, true, false},
	{"serving.kalypso.io", "kalypsotritonservers", "status", "update", false, false, false},
	{"serving.kalypso.io", "kalypsoapplications", "", "create", true, true, false},
	{"serving.kalypso.io", "kalypsoapplications", "", "list", true, true, true},
	{"serving.kalypso.io", "kalypsoapplications", "", "deletecollection", true, false, false},
	{"serving.kalypso.io", "kalypsoprojects", "", "update", false, false, false},
	{"", "secrets", "", "create", true, true, false},
	{"", "secrets", "", "update", true, true, false},
	{"", "secrets", "", "get", true, true, false},
	{"", "secrets", "", "list", true, true, false},
	{"", "configmaps", "", "create", true, true, false},
	{"", "configmaps", "", "get", true, true, true},
	{"", "pods", "", "list", true, true, true},
	{"", "pods", "log", "get", true, true, true},
	{"", "pods", "exec", "create", false, false, false},
	{"", "pods", "portforward", "create", false, false, false},
	{"", "pods", "", "delete", false, false, false},
	{"", "events", "", "list", true, true, true},
	{"events.k8s.io", "events", "", "list", true, true, true},
	{"", "services", "", "get", true, true, true},
	{"", "services", "", "update", false, false, false},
	{"apps", "deployments", "", "get", true, true, true},
	{"apps", "deployments", "", "patch", false, false, false},
	{"apps", "replicasets", "", "list", true, true, true},
	{"autoscaling", "horizontalpodautoscalers", "", "get", true, true, true},
	{"autoscaling", "horizontalpodautoscalers", "", "update", false, false, false},
	{"policy", "poddisruptionbudgets", "", "get", true, true, true},
	{"policy", "poddisruptionbudgets", "", "delete", false, false, false},
	{"monitoring.coreos.com", "servicemonitors", "", "get", true, true, true},
	{"", "resourcequotas", "", "update", false, false, false},
	{"", "resourcequotas", "", "delete", false, false, false},
	{"", "limitranges", "", "update", false, false, false},
	{"networking.k8s.io", "networkpolicies", "", "delete", false, false, false},
	{"networking.k8s.io", "networkpolicies", "", "update", false, false, false},
	{"rbac.authorization.k8s.io", "rolebindings", "", "create", false, false, false},
	{"rbac.authorization.k8s.io", "rolebindings", "", "update", false, false, false},
	{"", "namespaces", "", "update", false, false, false},
	{"", "namespaces", "", "delete", false, false, false},
	{"gateway.networking.k8s.io", "httproutes", "", "update", false, false, false},
	{"gateway.networking.k8s.io", "grpcroutes", "", "create", false, false, false},
}

var _ = Describe("Environment access", func() {
	It("gives each level exactly the matrix: the team runs its environment, never what the operator governs", func() {
		const ns = "access-matrix"
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		levels := []string{"admin", "editor", "viewer"}
		for _, level := range levels {
			data, err := os.ReadFile(testenv.Path("config", "rbac", "kalypso_"+level+"_role.yaml"))
			Expect(err).NotTo(HaveOccurred())
			var role rbacv1.ClusterRole
			Expect(yaml.Unmarshal(data, &role)).To(Succeed())
			for _, rule := range role.Rules {
				Expect(rule.Verbs).NotTo(ContainElement("*"), "%s: no wildcard verbs", level)
				Expect(rule.Resources).NotTo(ContainElement("*"), "%s: no wildcard resources", level)
			}
			Expect(k8sClient.Create(ctx, &role)).To(Succeed())
			// Bound as the operator binds them: a RoleBinding in the environment namespace.
			Expect(k8sClient.Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kalypso-" + level + "s"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-" + level + "s"}},
			})).To(Succeed())
		}

		allowed := func(level string, c accessCheck, namespace string) bool {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: "someone-" + level, Groups: []string{"system:authenticated", "team-" + level + "s"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Group: c.group,
					Resource: c.resource, Subresource: c.subresource, Verb: c.verb},
			}}
			Expect(k8sClient.Create(ctx, sar)).To(Succeed())
			return sar.Status.Allowed
		}
		rows := make([]string, 0, len(accessMatrix))
		var wrong []string
		for _, c := range accessMatrix {
			want := map[string]bool{"admin": c.admin, "editor": c.editor, "viewer": c.viewer}
			row := fmt.Sprintf("| %s %s |", c.verb, resourceName(c))
			for _, level := range levels {
				got := allowed(level, c, ns)
				row += map[bool]string{true: " yes |", false: " no |"}[got]
				if got != want[level] {
					wrong = append(wrong, fmt.Sprintf("%s may %s %s: %v, want %v", level, c.verb, resourceName(c), got, want[level]))
				}
				// Access is per environment: nothing in another namespace.
				Expect(allowed(level, c, "elsewhere")).To(BeFalse(), "%s may %s %s outside its environment", level, c.verb, resourceName(c))
			}
			rows = append(rows, row)
		}
		sort.Strings(wrong)
		AddReportEntry("access matrix", "| verb resource | admin | editor | viewer |\n| --- | --- | --- | --- |\n"+strings.Join(rows, "\n"))
		Expect(wrong).To(BeEmpty())
	})
})

func resourceName(c accessCheck) string {
	r := c.resource
	if c.subresource != "" {
		r += "/" + c.subresource
	}
	if c.group != "" {
		r += "." + c.group
	}
	return r
}
