package controller_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/metrics"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

// sample returns the value of the series of family name whose labels
// include want, read from the registry the manager serves; ok is false when
// there is no such series.
func sample(g Gomega, name string, want map[string]string) (value float64, ok bool) {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, want) {
				if f.GetType() == dto.MetricType_COUNTER {
					return m.GetCounter().GetValue(), true
				}
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func gaugeOf(name string, labels map[string]string) func(Gomega) float64 {
	return func(g Gomega) float64 {
		v, ok := sample(g, name, labels)
		g.Expect(ok).To(BeTrue(), "no series %s%v", name, labels)
		return v
	}
}

var _ = Describe("Fleet metrics on the manager's registry", func() {
	It("shows the environment's quota, its servers by phase and readiness, and counts the reconciles", func() {
		project, ns := "metrics", "metrics-dev"
		env := map[string]string{"project": project, "environment": "dev"}
		with := func(k, v string) map[string]string {
			out := map[string]string{k: v}
			for ek, ev := range env {
				out[ek] = ev
			}
			return out
		}
		readyBefore, _ := sample(Default, metrics.ReconcileOutcomesName, map[string]string{"kind": metrics.KindProject,
			"outcome": metrics.OutcomeReady, "reason": servingv1alpha1.ReasonReconciled})

		Expect(k8sClient.Create(ctx, fixture.Project(project, fixture.WithOwner("team"), fixture.WithEnvironments(
			servingv1alpha1.Environment{Name: "dev", ResourceQuota: &servingv1alpha1.ResourceQuota{
				Limits:   corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("4")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi")},
			}})))).To(Succeed())
		Eventually(getProject(project)).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))

		By("reporting the quota's hard limits and usage once the quota controller has filled its status")
		Eventually(func(g Gomega) {
			var q corev1.ResourceQuota
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: render.QuotaName}, &q)).To(Succeed())
			q.Status.Hard = q.Spec.Hard
			q.Status.Used = corev1.ResourceList{"requests.nvidia.com/gpu": resource.MustParse("1"),
				corev1.ResourceRequestsCPU: resource.MustParse("2500m"), corev1.ResourceRequestsMemory: resource.MustParse("2Gi")}
			g.Expect(k8sClient.Status().Update(ctx, &q)).To(Succeed())
		}).Should(Succeed())
		Eventually(gaugeOf(metrics.QuotaHardName, with("resource", "gpu"))).Should(BeEquivalentTo(4))
		Eventually(gaugeOf(metrics.QuotaHardName, with("resource", "memory"))).Should(BeEquivalentTo(16 << 30))
		Eventually(gaugeOf(metrics.QuotaUsedName, with("resource", "cpu"))).Should(BeEquivalentTo(2.5))
		Eventually(gaugeOf(metrics.QuotaUsedName, with("resource", "gpu"))).Should(BeEquivalentTo(1))

		By("counting a server that is not Ready yet, then Ready")
		Eventually(gaugeOf(metrics.ServersName, with("phase", string(servingv1alpha1.PhaseReady)))).Should(BeZero())
		Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fixture.SecretName))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "srv", func(s *servingv1alpha1.KalypsoTritonServer) {
			s.Spec.Autoscaling = &servingv1alpha1.Autoscaling{MinReplicas: 1, MaxReplicas: 3, QueueTimeTargetMicroseconds: ptr.To[int64](5000)}
		}))).To(Succeed())
		server := map[string]string{"namespace": ns, "server": "srv", "project": project, "environment": "dev"}
		Eventually(gaugeOf(metrics.ServerReadyName, server)).Should(BeZero())
		Eventually(gaugeOf(metrics.ServersName, with("phase", string(servingv1alpha1.PhaseProgressing)))).Should(BeEquivalentTo(1))
		Eventually(gaugeOf(metrics.QueueTimeTargetName, map[string]string{"namespace": ns, "server": "srv"})).Should(BeEquivalentTo(5000))

		fixture.MarkAvailable(ctx, k8sClient, ns, "srv")
		Eventually(gaugeOf(metrics.ServerReadyName, server)).Should(BeEquivalentTo(1))
		Eventually(gaugeOf(metrics.ServersName, with("phase", string(servingv1alpha1.PhaseReady)))).Should(BeEquivalentTo(1))
		Eventually(gaugeOf(metrics.ServersName, with("phase", string(servingv1alpha1.PhaseProgressing)))).Should(BeZero())
		Eventually(gaugeOf(metrics.ModelsName, with("state", string(servingv1alpha1.ModelStateReady)))).Should(BeZero())

		By("counting the project's reconciles that ended Ready")
		Eventually(gaugeOf(metrics.ReconcileOutcomesName, map[string]string{"kind": metrics.KindProject,
			"outcome": metrics.OutcomeReady, "reason": servingv1alpha1.ReasonReconciled})).Should(BeNumerically(">", readyBefore))
		Eventually(gaugeOf(metrics.ReconcileOutcomesName, map[string]string{"kind": metrics.KindServer,
			"outcome": metrics.OutcomeReady})).Should(BeNumerically(">=", 1))
	})
})
