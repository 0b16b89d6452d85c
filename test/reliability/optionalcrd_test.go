package reliability

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

func optionalCRDSpecs() {
	It("serves without the ServiceMonitor CRD, and creates the ServiceMonitor once the CRD is installed", func() {
		err := k8sClient.Get(ctx, client.ObjectKey{Name: serviceMonitorCRDName}, &apiextensionsv1.CustomResourceDefinition{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "this spec needs the ServiceMonitor CRD absent: it must run first (%v)", err)

		ns := createNamespace("rel-nocrd")
		DeferCleanup(cleanupServers, ns)
		createStorage(ns, fixture.FakeValue)
		const name = "watched"
		Expect(k8sClient.Create(ctx, fixture.Server(ns, name, fixture.WithServiceMonitor("30s"), fixture.WithReplicas(1)))).To(Succeed())
		waitDeployments(ns, []string{name}, 30*time.Second)
		fixture.MarkAvailable(ctx, k8sClient, ns, name)
		smCondition := func(g Gomega) *metav1.Condition {
			c := meta.FindStatusCondition(getServer(g, ns, name).Status.Conditions, servingv1alpha1.ConditionServiceMonitorReady)
			g.Expect(c).NotTo(BeNil(), "no ServiceMonitorReady condition")
			return c
		}
		Eventually(func(g Gomega) {
			g.Expect(fixture.ServerReady(getServer(g, ns, name))).To(BeTrue(), "server not Ready")
			c := smCondition(g)
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonCRDNotInstalled))
		}).Should(Succeed())
		srv := getServer(Default, ns, name)

		By("installing the CRD, and only that")
		sm := &unstructured.Unstructured{}
		sm.SetGroupVersionKind(render.ServiceMonitorGVK)
		installed := time.Now()
		createServiceMonitorCRD()
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, name), sm) }).
			WithTimeout(time.Minute).WithPolling(50 * time.Millisecond).Should(Succeed())
		took := time.Since(installed)
		Expect(metav1.IsControlledBy(sm, srv)).To(BeTrue())
		Eventually(func(g Gomega) {
			g.Expect(smCondition(g).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
		waitReady(ns, []string{name}, 30*time.Second)
		Expect(getServer(Default, ns, name).Generation).To(Equal(srv.Generation), "the server's spec was not touched")

		fixture.Figure(AddReportEntry, "optional-crd", "Ready without the CRD (ServiceMonitorReady=False, CRDNotInstalled); ServiceMonitor created %s after the CRD was installed, "+
			"condition True, server untouched", fixture.Ms(took))
		Expect(took).To(BeNumerically("<", 30*time.Second))
	})
}
