package controller_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

// envtest runs no quota controller: the test writes the quota's status as
// the controller would, with the GPUs of the running pods used.
func fullGPUQuota(ns string, hard, used int64) {
	GinkgoHelper()
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gpus",
		Labels: map[string]string{render.LabelManagedBy: render.ManagedByValue}},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"requests.nvidia.com/gpu": *resource.NewQuantity(hard, resource.DecimalSI)}}}
	Expect(k8sClient.Create(ctx, q)).To(Succeed())
	q.Status = corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"requests.nvidia.com/gpu": *resource.NewQuantity(hard, resource.DecimalSI)},
		Used: corev1.ResourceList{"requests.nvidia.com/gpu": *resource.NewQuantity(used, resource.DecimalSI)},
	}
	Expect(k8sClient.Status().Update(ctx, q)).To(Succeed())
}

func updateServer(ns, name string, change func(*servingv1alpha1.KalypsoTritonServer)) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		s := getServer(ns, name)(g)
		change(s)
		g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	}).Should(Succeed())
}

var _ = Describe("Rollouts in a namespace whose GPU quota is full", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fixture.SecretName))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
	})

	It("replaces pods one at a time instead of surging, and keeps the strategy while the template stays", func() {
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "srv", fixture.WithGPUs(1), fixture.WithReplicas(2)))).To(Succeed())
		Eventually(func(g Gomega) { deploymentOf(ns, "srv")(g) }).Should(Succeed())
		fullGPUQuota(ns, 2, 2)

		updateServer(ns, "srv", func(s *servingv1alpha1.KalypsoTritonServer) { s.Spec.TritonConfig.Tag = "25.04-py3" })
		Eventually(func(g Gomega) {
			d := deploymentOf(ns, "srv")(g)
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":25.04-py3"))
			g.Expect(d.Spec.Strategy.RollingUpdate.MaxSurge.IntValue()).To(Equal(0))
			g.Expect(d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue()).To(Equal(1))
		}).Should(Succeed())

		By("a change that leaves the template alone keeps the strategy")
		updateServer(ns, "srv", func(s *servingv1alpha1.KalypsoTritonServer) { s.Spec.Replicas = ptr.To[int32](3) })
		Eventually(func(g Gomega) { g.Expect(*deploymentOf(ns, "srv")(g).Spec.Replicas).To(Equal(int32(3))) }).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(deploymentOf(ns, "srv")(g).Spec.Strategy.RollingUpdate.MaxSurge.IntValue()).To(Equal(0))
		}, "1s").Should(Succeed())
	})

	It("stalls a single replica with the numbers, and rolls it with allowDowntime", func() {
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "one", fixture.WithGPUs(1), fixture.WithReplicas(1)))).To(Succeed())
		Eventually(func(g Gomega) { deploymentOf(ns, "one")(g) }).Should(Succeed())
		fullGPUQuota(ns, 1, 1)

		updateServer(ns, "one", func(s *servingv1alpha1.KalypsoTritonServer) { s.Spec.TritonConfig.Tag = "25.04-py3" })
		Eventually(func(g Gomega) {
			c := condition(servingv1alpha1.ConditionStalled)(getServer(ns, "one")(g))
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonQuotaExceeded))
			g.Expect(c.Message).To(And(ContainSubstring("requests.nvidia.com/gpu hard 1, used 1"), ContainSubstring("missing 1"),
				ContainSubstring("allowDowntime")))
		}).Should(Succeed())
		Expect(deploymentOf(ns, "one")(Default).Spec.Template.Spec.Containers[0].Image).NotTo(HaveSuffix(":25.04-py3"))

		updateServer(ns, "one", func(s *servingv1alpha1.KalypsoTritonServer) {
			s.Spec.Rollout = &servingv1alpha1.Rollout{AllowDowntime: true}
		})
		Eventually(func(g Gomega) {
			d := deploymentOf(ns, "one")(g)
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":25.04-py3"))
			g.Expect(d.Spec.Strategy.RollingUpdate.MaxSurge.IntValue()).To(Equal(0))
		}).Should(Succeed())

		By("a pod that needs more than the quota frees is not rolled out, and the numbers say how many are missing")
		updateServer(ns, "one", func(s *servingv1alpha1.KalypsoTritonServer) { s.Spec.GPUs = ptr.To[int32](2) })
		Eventually(func(g Gomega) {
			c := condition(servingv1alpha1.ConditionStalled)(getServer(ns, "one")(g))
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonQuotaExceeded))
			g.Expect(c.Message).To(And(ContainSubstring("even in place of an old pod"), ContainSubstring("a pod needs 2, missing 1")))
		}).Should(Succeed())
	})
})
