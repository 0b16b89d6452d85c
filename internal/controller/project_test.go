package controller_test

import (
	"fmt"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

var projectCounter int

func newProject(mutate func(*servingv1alpha1.KalypsoProject)) *servingv1alpha1.KalypsoProject {
	projectCounter++
	p := fixture.Project(fmt.Sprintf("proj%d", projectCounter), fixture.WithOwner("team"), fixture.WithEnvironments(
		servingv1alpha1.Environment{Name: "dev", ResourceQuota: &servingv1alpha1.ResourceQuota{
			Limits:   corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1"), corev1.ResourceCPU: resource.MustParse("4")},
			Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("8Gi")},
		}}))
	if mutate != nil {
		mutate(p)
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, p)).To(Succeed())
	return p
}

func getProject(name string) func(Gomega) *servingv1alpha1.KalypsoProject {
	return func(g Gomega) *servingv1alpha1.KalypsoProject {
		var p servingv1alpha1.KalypsoProject
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: name}, &p)).To(Succeed())
		return &p
	}
}

func envStatus(name string) func(*servingv1alpha1.KalypsoProject) *servingv1alpha1.EnvironmentStatus {
	return func(p *servingv1alpha1.KalypsoProject) *servingv1alpha1.EnvironmentStatus {
		for i := range p.Status.Environments {
			if p.Status.Environments[i].Name == name {
				return &p.Status.Environments[i]
			}
		}
		return nil
	}
}

// playQuotaController fills a quota's status, as kube-controller-manager
// would; ResourceQuota admission refuses pods until the status is known.
func playQuotaController(ns string) {
	Eventually(func(g Gomega) {
		var q corev1.ResourceQuota
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "kalypso-quota"}, &q)).To(Succeed())
		q.Status.Hard = q.Spec.Hard
		q.Status.Used = corev1.ResourceList{}
		for k := range q.Spec.Hard {
			q.Status.Used[k] = resource.MustParse("0")
		}
		g.Expect(k8sClient.Status().Update(ctx, &q)).To(Succeed())
	}).Should(Succeed())
}

func gpuPod(ns, name, gpus string) *corev1.Pod {
	q := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse(gpus), corev1.ResourceCPU: resource.MustParse("1"),
		corev1.ResourceMemory: resource.MustParse("1Gi")}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptrTo(true), RunAsUser: ptrTo[int64](1000),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "c", Image: "triton:1",
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptrTo(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			Resources: corev1.ResourceRequirements{Limits: q, Requests: q}}},
	}}
}

func ptrTo[T any](v T) *T { return &v }

var _ = Describe("KalypsoProject", func() {
	It("creates a governed namespace whose GPU quota really binds", func() {
		p := newProject(func(p *servingv1alpha1.KalypsoProject) {
			p.Spec.Environments[0].Access = &servingv1alpha1.Access{
				Admins:  []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "ml-leads"}},
				Viewers: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "dashboard"}},
			}
		})
		ns := p.Name + "-dev"
		Eventually(getProject(p.Name)).Should(And(
			HaveField("Status.Phase", servingv1alpha1.PhaseReady),
			HaveField("Status.EnvironmentCount", int32(1)),
			WithTransform(envStatus("dev"), And(HaveField("Ready", true), HaveField("Namespace", ns)))))

		var namespace corev1.Namespace
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: ns}, &namespace)).To(Succeed())
		Expect(namespace.Labels).To(And(
			HaveKeyWithValue("kalypso-serving.io/project", p.Name),
			HaveKeyWithValue("kalypso-serving.io/environment", "dev"),
			HaveKeyWithValue("app.kubernetes.io/managed-by", "kalypso-serving"),
			HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"),
			HaveKeyWithValue("pod-security.kubernetes.io/warn", "restricted"),
			HaveKeyWithValue("pod-security.kubernetes.io/audit", "restricted")))
		Expect(metav1.IsControlledBy(&namespace, getProject(p.Name)(Default))).To(BeTrue())

		var q corev1.ResourceQuota
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "kalypso-quota"}, &q)).To(Succeed())
		Expect(q.Spec.Hard).To(HaveLen(3))
		Expect(q.Spec.Hard).To(HaveKey(corev1.ResourceName("requests.nvidia.com/gpu")))
		Expect(q.Spec.Hard).To(HaveKey(corev1.ResourceName("limits.cpu")))
		Expect(q.Spec.Hard).To(HaveKey(corev1.ResourceName("requests.memory")))

		var np networkingv1.NetworkPolicy
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "kalypso-default-ingress"}, &np)).To(Succeed())
		Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress))
		Expect(np.Spec.Ingress[0].From).To(HaveLen(3))
		var rb rbacv1.RoleBinding
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "kalypso-admins"}, &rb)).To(Succeed())
		Expect(rb.RoleRef.Name).To(Equal("kalypso-serving-admin"))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "kalypso-viewers"}, &rb)).To(Succeed())
		Expect(rb.Subjects[0].Namespace).To(Equal(ns))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "kalypso-editors"}, &rb))).To(BeTrue())

		playQuotaController(ns)
		Expect(k8sClient.Create(ctx, gpuPod(ns, "within", "1"))).To(Succeed())
		Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "within"}})).To(Succeed())
		err := k8sClient.Create(ctx, gpuPod(ns, "over", "2"))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want quota rejection, got %v", err)
		Expect(err.Error()).To(ContainSubstring("exceeded quota"))
		Expect(err.Error()).To(ContainSubstring("requests.nvidia.com/gpu"))
	})

	It("never adopts, relabels or deletes a namespace it did not create, and the other environments proceed", func() {
		foreign := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "preexisting-team",
			Labels: map[string]string{"owner": "someone"}}}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
		p := newProject(func(p *servingv1alpha1.KalypsoProject) {
			p.Spec.Environments = append(p.Spec.Environments, servingv1alpha1.Environment{Name: "prod", Namespace: "preexisting-team"})
		})
		Eventually(getProject(p.Name)).Should(And(
			WithTransform(envStatus("prod"), And(HaveField("Ready", false),
				HaveField("Reason", servingv1alpha1.ReasonNamespaceConflict))),
			WithTransform(envStatus("dev"), HaveField("Ready", true)),
			HaveField("Status.Phase", servingv1alpha1.PhaseFailed)))

		Consistently(func(g Gomega) {
			var ns corev1.Namespace
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: "preexisting-team"}, &ns)).To(Succeed())
			g.Expect(ns.ResourceVersion).To(Equal(foreign.ResourceVersion))
			g.Expect(ns.OwnerReferences).To(BeEmpty())
			g.Expect(ns.DeletionTimestamp).To(BeNil())
		}, 2*time.Second).Should(Succeed())
		var quotas corev1.ResourceQuotaList
		Expect(k8sClient.List(ctx, &quotas, client.InNamespace("preexisting-team"))).To(Succeed())
		Expect(quotas.Items).To(BeEmpty())

		// Dropping the conflicting environment deletes nothing of the team's.
		Eventually(func(g Gomega) {
			cur := getProject(p.Name)(g)
			cur.Spec.Environments = cur.Spec.Environments[:1]
			g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
		}).Should(Succeed())
		Eventually(getProject(p.Name)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))
		var ns corev1.Namespace
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: "preexisting-team"}, &ns)).To(Succeed())
		Expect(ns.DeletionTimestamp).To(BeNil())
	})

	It("refuses another project's namespace", func() {
		a := newProject(nil)
		Eventually(getProject(a.Name)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))
		b := newProject(func(p *servingv1alpha1.KalypsoProject) {
			p.Spec.Environments = []servingv1alpha1.Environment{{Name: "dev", Namespace: a.Name + "-dev"}}
		})
		Eventually(getProject(b.Name)).Should(WithTransform(envStatus("dev"),
			HaveField("Reason", servingv1alpha1.ReasonNamespaceConflict)))
		var ns corev1.Namespace
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: a.Name + "-dev"}, &ns)).To(Succeed())
		Expect(ns.Labels).To(HaveKeyWithValue("kalypso-serving.io/project", a.Name))
	})

	It("deletes the namespace of an environment removed from the spec", func() {
		p := newProject(func(p *servingv1alpha1.KalypsoProject) {
			p.Spec.Environments = append(p.Spec.Environments, servingv1alpha1.Environment{Name: "stage"})
		})
		stage := p.Name + "-stage"
		Eventually(getProject(p.Name)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))
		Eventually(func(g Gomega) {
			cur := getProject(p.Name)(g)
			cur.Spec.Environments = cur.Spec.Environments[:1]
			g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
		}).Should(Succeed())
		// envtest has no namespace controller: deletion shows as a deletionTimestamp.
		Eventually(func(g Gomega) {
			var ns corev1.Namespace
			err := k8sClient.Get(ctx, types.NamespacedName{Name: stage}, &ns)
			if apierrors.IsNotFound(err) {
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ns.DeletionTimestamp).NotTo(BeNil())
		}).Should(Succeed())
		Eventually(getProject(p.Name)).Should(HaveField("Status.EnvironmentCount", int32(1)))
		// Events of a cluster-scoped project are kept in the default namespace.
		Eventually(eventsAbout(metav1.NamespaceDefault, "KalypsoProject", p.Name)).Should(ContainElement(And(
			HaveField("Type", corev1.EventTypeNormal), HaveField("Reason", servingv1alpha1.EventReasonNamespaceDeleted),
			HaveField("Note", ContainSubstring(stage)))))
	})

	It("fails closed: a refused quota holds back the team's write access, and every other object still applies", func() {
		p := newProject(func(p *servingv1alpha1.KalypsoProject) {
			// "widgets" is no quota resource: the API server refuses the quota.
			p.Spec.Environments[0].ResourceQuota = &servingv1alpha1.ResourceQuota{Hard: corev1.ResourceList{"widgets": resource.MustParse("1")}}
			p.Spec.Environments[0].Access = &servingv1alpha1.Access{
				Admins:  []rbacv1.Subject{{Kind: "Group", Name: "leads"}},
				Viewers: []rbacv1.Subject{{Kind: "Group", Name: "readers"}},
			}
		})
		ns := p.Name + "-dev"
		Eventually(getProject(p.Name)).Should(WithTransform(envStatus("dev"), And(
			HaveField("Ready", false), HaveField("Reason", servingv1alpha1.ReasonApplyFailed),
			HaveField("Message", And(ContainSubstring("ResourceQuota"), ContainSubstring("RoleBinding kalypso-admins held back"))))))
		var np networkingv1.NetworkPolicy
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: render.NetworkPolicyName}, &np)).To(Succeed())
		var rb rbacv1.RoleBinding
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: render.ViewersRoleBinding}, &rb)).To(Succeed())
		Consistently(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "kalypso-admins"}, &rbacv1.RoleBinding{}))
		}, 2*time.Second).Should(BeTrue(), "write access granted while the quota is missing")

		// A valid quota: the admins' binding follows.
		Eventually(func(g Gomega) {
			cur := getProject(p.Name)(g)
			cur.Spec.Environments[0].ResourceQuota = &servingv1alpha1.ResourceQuota{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("10")}}
			g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
		}).Should(Succeed())
		Eventually(getProject(p.Name)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "kalypso-admins"}, &rb)).To(Succeed())
	})

	It("never hands a retained namespace to a new project of the same name", func() {
		p := newProject(func(p *servingv1alpha1.KalypsoProject) {
			p.Spec.DeletionPolicy = servingv1alpha1.DeletionPolicyRetain
			p.Spec.Environments[0].Access = &servingv1alpha1.Access{Viewers: []rbacv1.Subject{{Kind: "Group", Name: "old-team"}}}
		})
		Eventually(getProject(p.Name)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))
		var ns corev1.Namespace
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: p.Name + "-dev"}, &ns)).To(Succeed())
		Expect(k8sClient.Delete(ctx, getProject(p.Name)(Default))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Name: p.Name}, &servingv1alpha1.KalypsoProject{}))
		}).Should(BeTrue())

		successor := fixture.Project(p.Name, fixture.WithOwner("someone-else"), fixture.WithEnvironments(servingv1alpha1.Environment{
			Name: "dev", Access: &servingv1alpha1.Access{Admins: []rbacv1.Subject{{Kind: "Group", Name: "new-team"}}}}))
		Expect(k8sClient.Create(ctx, successor)).To(Succeed())
		Eventually(getProject(p.Name)).Should(WithTransform(envStatus("dev"),
			HaveField("Reason", servingv1alpha1.ReasonNamespaceConflict)))
		Consistently(func(g Gomega) {
			var again corev1.Namespace
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: p.Name + "-dev"}, &again)).To(Succeed())
			g.Expect(again.ResourceVersion).To(Equal(ns.ResourceVersion))
			var admins rbacv1.RoleBinding
			g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: p.Name + "-dev", Name: "kalypso-admins"}, &admins))).
				To(BeTrue(), "the new project's admins must get nothing in the old team's namespace")
		}, 2*time.Second).Should(Succeed())
	})

	It("never takes over a governed object someone else created in an environment namespace", func() {
		p := newProject(func(p *servingv1alpha1.KalypsoProject) { p.Spec.Environments[0].ResourceQuota = nil })
		Eventually(getProject(p.Name)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: p.Name + "-dev", Name: "kalypso-admins"},
			&rbacv1.RoleBinding{}))).To(BeTrue())
		// A quota under the operator's name, unlabelled: the operator's cache never holds it.
		foreign := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: p.Name + "-dev", Name: render.QuotaName},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("3")}}}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
		Eventually(func(g Gomega) {
			cur := getProject(p.Name)(g)
			cur.Spec.Environments[0].ResourceQuota = &servingv1alpha1.ResourceQuota{
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}}
			cur.Spec.Environments[0].Access = &servingv1alpha1.Access{Admins: []rbacv1.Subject{{Kind: "Group", Name: "leads"}}}
			g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
		}).Should(Succeed())
		Eventually(getProject(p.Name)).Should(And(
			WithTransform(envStatus("dev"), And(HaveField("Ready", false), HaveField("Reason", servingv1alpha1.ReasonChildConflict))),
			HaveField("Status.Phase", servingv1alpha1.PhaseFailed)))
		Eventually(eventsAbout(metav1.NamespaceDefault, "KalypsoProject", p.Name)).Should(ContainElement(And(
			HaveField("Type", corev1.EventTypeWarning), HaveField("Reason", servingv1alpha1.ReasonChildConflict))))
		Consistently(func(g Gomega) {
			var q corev1.ResourceQuota
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(foreign), &q)).To(Succeed())
			g.Expect(q.ResourceVersion).To(Equal(foreign.ResourceVersion))
			// Someone else's quota under the name is no quota: write access is held back.
			g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: p.Name + "-dev", Name: "kalypso-admins"},
				&rbacv1.RoleBinding{}))).To(BeTrue())
		}, 2*time.Second).Should(Succeed())
	})

	It("keeps the namespaces of a project whose deletion policy is Retain", func() {
		p := newProject(func(p *servingv1alpha1.KalypsoProject) {
			p.Spec.DeletionPolicy = servingv1alpha1.DeletionPolicyRetain
			p.Spec.Environments = append(p.Spec.Environments, servingv1alpha1.Environment{Name: "stage"})
		})
		Eventually(getProject(p.Name)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))
		var ns corev1.Namespace
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: p.Name + "-stage"}, &ns)).To(Succeed())
		Expect(ns.OwnerReferences).To(BeEmpty(), "a retained namespace must survive the project's garbage collection")
		Eventually(func(g Gomega) {
			cur := getProject(p.Name)(g)
			cur.Spec.Environments = cur.Spec.Environments[:1]
			g.Expect(k8sClient.Update(ctx, cur)).To(Succeed())
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: p.Name + "-stage"}, &ns)).To(Succeed())
			g.Expect(ns.DeletionTimestamp).To(BeNil())
		}, 2*time.Second).Should(Succeed())
	})

	It("lets an Application serve only in its own project's namespace", func() {
		p := newProject(nil)
		ns := p.Name + "-dev"
		Eventually(getProject(p.Name)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))
		good := fixture.Application(ns, "good", fixture.WithProject(p.Name))
		bad := fixture.Application(ns, "claims-other", fixture.WithProject("other-project"))
		Expect(k8sClient.Create(ctx, good)).To(Succeed())
		Expect(k8sClient.Create(ctx, bad)).To(Succeed())
		Eventually(func(g Gomega) {
			var a servingv1alpha1.KalypsoApplication
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(good), &a)).To(Succeed())
			g.Expect(a.Status.Project).To(Equal(p.Name))
			g.Expect(meta.IsStatusConditionTrue(a.Status.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(bad), &a)).To(Succeed())
			c := meta.FindStatusCondition(a.Status.Conditions, servingv1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonProjectMismatch))
		}).Should(Succeed())
	})
})

var _ = Describe("The manager's RBAC", func() {
	It("has no wildcard and only the Secret permissions the README justifies", func() {
		data, err := os.ReadFile(testenv.Path("config", "rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var role rbacv1.ClusterRole
		Expect(yaml.UnmarshalStrict(data, &role)).To(Succeed())
		for _, rule := range role.Rules {
			Expect(rule.Verbs).NotTo(ContainElement("*"))
			Expect(rule.Resources).NotTo(ContainElement("*"))
			Expect(rule.APIGroups).NotTo(ContainElement("*"))
			if containsString(rule.Resources, "secrets") {
				Expect(rule.Verbs).To(ConsistOf("get", "list", "watch"), "Secrets are read, never written")
			}
			if containsString(rule.Resources, "clusterroles") {
				Expect(rule.Verbs).To(ConsistOf("bind"))
				Expect(rule.ResourceNames).To(ConsistOf("kalypso-serving-admin", "kalypso-serving-editor", "kalypso-serving-viewer"))
			}
		}
	})
})

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
