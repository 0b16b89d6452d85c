package controller_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

// What only the API server judges (here a cluster's admission policy that
// refuses the Deployment) makes a child that the API server refuses with
// 422 Invalid: the server stalls with the API server's message and is
// applied again only when its spec changes.
var _ = Describe("A child the API server refuses", func() {
	It("stalls the server with ChildRejected until the spec changes", func() {
		ns := newNamespace()
		refuseDeploymentsLabelled(ns)
		Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fixture.SecretName))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		srv := fixture.Server(ns, "refused")
		srv.Spec.Scheduling = &servingv1alpha1.Scheduling{NodeSelector: map[string]servingv1alpha1.LabelValue{"pool": "forbidden"}}
		Expect(k8sClient.Create(ctx, srv)).To(Succeed())

		Eventually(func(g Gomega) {
			s := getServer(ns, "refused")(g)
			c := condition(servingv1alpha1.ConditionStalled)(s)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonChildRejected))
			g.Expect(c.Message).To(And(ContainSubstring("Deployment"), ContainSubstring("the forbidden pool")))
			g.Expect(s.Status.ObservedGeneration).To(Equal(s.Generation))
		}).Should(Succeed())
		Expect(deploymentExists(ns, "refused")).To(BeFalse())

		By("a change elsewhere wakes the server but does not apply the refused spec again")
		app := &servingv1alpha1.KalypsoApplication{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: fixture.AppName}, app)).To(Succeed())
		app.Labels = map[string]string{"touched": "yes"}
		Expect(k8sClient.Update(ctx, app)).To(Succeed())
		Consistently(func(g Gomega) {
			c := condition(servingv1alpha1.ConditionStalled)(getServer(ns, "refused")(g))
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonChildRejected))
		}, "2s").Should(Succeed())

		By("fixing the spec applies it")
		Eventually(func(g Gomega) {
			s := getServer(ns, "refused")(g)
			s.Spec.Scheduling = nil
			g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) { deploymentOf(ns, "refused")(g) }).Should(Succeed())
		Eventually(func(g Gomega) {
			c := condition(servingv1alpha1.ConditionStalled)(getServer(ns, "refused")(g))
			g.Expect(c == nil || c.Status == metav1.ConditionFalse).To(BeTrue(), "still stalled: %v", c)
		}).Should(Succeed())
	})
})

func deploymentExists(ns, name string) bool {
	return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &appsv1.Deployment{}) == nil
}

// refuseDeploymentsLabelled installs an admission policy refusing, in ns,
// Deployments whose pods select the node pool "forbidden", and waits until
// it is in force.
func refuseDeploymentsLabelled(ns string) {
	GinkgoHelper()
	name := "refuse-forbidden-pool-" + ns
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
				}}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "!has(object.spec.template.spec.nodeSelector) || !('pool' in object.spec.template.spec.nodeSelector) || " +
					"object.spec.template.spec.nodeSelector['pool'] != 'forbidden'",
				Message: "the forbidden pool is closed",
			}},
		}}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			MatchResources: &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}}}}
	Expect(k8sClient.Create(ctx, policy)).To(Succeed())
	Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	DeferCleanup(func() {
		Expect(k8sClient.Delete(ctx, binding)).To(Succeed())
		Expect(k8sClient.Delete(ctx, policy)).To(Succeed())
	})
	probe := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
			Spec: corev1.PodSpec{NodeSelector: map[string]string{"pool": "forbidden"}, Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}}
	Eventually(func() bool {
		return apierrors.IsInvalid(k8sClient.Create(ctx, probe.DeepCopy(), client.DryRunAll))
	}).Should(BeTrue(), "the admission policy is not in force")
}
