package reliability

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

func updateStormSpecs() {
	It("converges on the last of 100 concurrent spec updates", func() {
		const updates = 100
		ns := createNamespace("rel-storm")
		DeferCleanup(cleanupServers, ns)
		createStorage(ns, fixture.FakeValue)
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "storm"))).To(Succeed())
		waitDeployments(ns, []string{"storm"}, 30*time.Second)
		startGen := waitObserved(ns, "storm", 30*time.Second).Generation

		var conflicts atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, updates)
		startLine := make(chan struct{})
		for i := range updates {
			wg.Go(func() {
				<-startLine
				errs <- stormUpdate(ns, "storm", i, &conflicts)
			})
		}
		close(startLine)
		wg.Wait()
		close(errs)
		for err := range errs {
			Expect(err).NotTo(HaveOccurred())
		}
		allReturned := time.Now()

		final := getServer(Default, ns, "storm")
		Expect(final.Generation).To(Equal(startGen+updates), "every update changed the spec once")
		wantImage := render.Image(final.Spec.TritonConfig)
		wantReplicas := *final.Spec.Replicas
		Eventually(func(g Gomega) {
			srv := getServer(g, ns, "storm")
			g.Expect(srv.Status.ObservedGeneration).To(Equal(srv.Generation))
			var d appsv1.Deployment
			g.Expect(k8sClient.Get(ctx, key(ns, "storm"), &d)).To(Succeed())
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(wantImage))
			g.Expect(ptr.Deref(d.Spec.Replicas, 0)).To(Equal(wantReplicas))
		}).WithTimeout(30 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
		took := time.Since(allReturned)
		mismatches := childMismatches(final)

		fixture.Figure(AddReportEntry, "update-storm", "%d concurrent updates, %d conflicts retried, converged on the last (%s, %d replicas) %s after the last update returned",
			updates, conflicts.Load(), final.Spec.TritonConfig.Tag, wantReplicas, fixture.Ms(took))
		Expect(mismatches).To(BeEmpty(), strings.Join(mismatches, "\n"))
		Expect(took).To(BeNumerically("<", 10*time.Second))
	})
}

// stormUpdate sets a unique tag and a replica count on the server,
// retrying (get and update again) on conflicts.
func stormUpdate(ns, name string, i int, conflicts *atomic.Int64) error {
	defer GinkgoRecover()
	for range 1000 {
		var s servingv1alpha1.KalypsoTritonServer
		if err := k8sClient.Get(ctx, key(ns, name), &s); err != nil {
			return err
		}
		// A custom tag per update (with the release it runs) names the last one.
		s.Spec.TritonConfig.Tag, s.Spec.TritonConfig.TritonVersion = fmt.Sprintf("storm-%03d", i), "2.53.0"
		s.Spec.Replicas = ptr.To(int32(1 + i%4))
		err := k8sClient.Update(ctx, &s)
		if !apierrors.IsConflict(err) {
			return err
		}
		conflicts.Add(1)
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
	}
	return fmt.Errorf("update %d still conflicts after 1000 attempts", i)
}
