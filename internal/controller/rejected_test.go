package controller_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

// A field only the API server judges (here a node affinity operator, which
// the CRD passes through) makes a child that the API server refuses: the
// server stalls with the API server's message and is applied again only
// when its spec changes.
var _ = Describe("A child the API server refuses", func() {
	It("stalls the server with ChildRejected until the spec changes", func() {
		ns := newNamespace()
		Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fixture.SecretName))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		srv := fixture.Server(ns, "refused")
		srv.Spec.Scheduling = &servingv1alpha1.Scheduling{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "gpu", Operator: "Resembles", Values: []string{"a100"}}},
			}}},
		}}}
		Expect(k8sClient.Create(ctx, srv)).To(Succeed())

		Eventually(func(g Gomega) {
			s := getServer(ns, "refused")(g)
			c := condition(servingv1alpha1.ConditionStalled)(s)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonChildRejected))
			g.Expect(c.Message).To(And(ContainSubstring("Deployment"), ContainSubstring("Resembles")))
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
