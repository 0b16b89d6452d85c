package controller_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/fleetstatus"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

var _ = Describe("kalypso status against the API server", func() {
	It("shows the project, its environment, the application and the server, and why the server is not Ready", func() {
		p := fixture.Project("fleet", fixture.WithOwner("team"), fixture.WithEnvironments(servingv1alpha1.Environment{Name: "dev"}))
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		ns := "fleet-dev"
		Eventually(getProject("fleet")).Should(Satisfy(func(p *servingv1alpha1.KalypsoProject) bool {
			return p.Status.Phase == servingv1alpha1.PhaseReady
		}))
		Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fixture.SecretName))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "srv"))).To(Succeed())

		Eventually(func(g Gomega) fleetstatus.Server {
			tree, err := fleetstatus.Collect(ctx, k8sClient, "")
			g.Expect(err).NotTo(HaveOccurred())
			var found *fleetstatus.Project
			for i := range tree.Projects {
				if tree.Projects[i].Name == "fleet" {
					found = &tree.Projects[i]
				}
			}
			g.Expect(found).NotTo(BeNil())
			g.Expect(found.Environments).To(HaveLen(1))
			g.Expect(found.Environments[0].Namespace).To(Equal(ns))
			g.Expect(found.Environments[0].Applications).To(HaveLen(1))
			g.Expect(found.Environments[0].Applications[0].Items).To(HaveLen(1))
			return found.Environments[0].Applications[0].Items[0]
		}).Should(And(HaveField("Name", "srv"), HaveField("Ready", false),
			HaveField("Reason", servingv1alpha1.ReasonProgressing)))

		fixture.MarkAvailable(ctx, k8sClient, ns, "srv")
		Eventually(func(g Gomega) string {
			tree, err := fleetstatus.Collect(ctx, k8sClient, ns)
			g.Expect(err).NotTo(HaveOccurred())
			var out bytes.Buffer
			g.Expect(fleetstatus.Print(&out, tree)).To(Succeed())
			return out.String()
		}).Should(And(ContainSubstring("fleet"), ContainSubstring("└─ dev (fleet-dev)"),
			MatchRegexp(`└─ srv\s+Ready\s+replicas 2/2`), Not(ContainSubstring("Progressing"))))
	})
})
