package controller_test

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"

	"github.com/kalypsoserving/kalypso-serving/internal/controller/secretwatch"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

var _ = Describe("The Secret watch", func() {
	It("remembers referenced Secrets only, and follows their changes without re-reading them", func() {
		ns := newNamespace()
		for i := range 30 {
			Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fmt.Sprintf("unrelated-%d", i), fixture.WithKeys("k")))).To(Succeed())
		}
		creds := fixture.StorageSecret(ns, fixture.SecretName)
		Expect(k8sClient.Create(ctx, creds)).To(Succeed())
		key := types.NamespacedName{Namespace: ns, Name: "creds"}

		meta, err := metadata.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		w := secretwatch.New(meta, k8sClient, func(_ context.Context, k types.NamespacedName) bool { return k == key })
		wctx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		go func() { _ = w.Start(wctx) }()

		first, err := w.Version(ctx, key)
		Expect(err).NotTo(HaveOccurred())
		Expect(first).NotTo(BeEmpty())
		missing, err := w.Version(ctx, types.NamespacedName{Namespace: ns, Name: "absent"})
		Expect(err).NotTo(HaveOccurred())
		Expect(missing).To(BeEmpty())

		for i := range 30 {
			var s corev1.Secret
			Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: fmt.Sprintf("unrelated-%d", i)}, &s)).To(Succeed())
			s.StringData = map[string]string{"k": "changed"}
			Expect(k8sClient.Update(ctx, &s)).To(Succeed())
		}
		creds.StringData = map[string]string{"AWS_ACCESS_KEY_ID": "rotated"}
		Expect(k8sClient.Update(ctx, creds)).To(Succeed())
		// Version answers from memory once a Secret is known: only the watch
		// event can move it.
		Eventually(func() (string, error) { return w.Version(ctx, key) }).ShouldNot(Equal(first))
		Expect(w.Tracked()).To(Equal(1))

		Expect(k8sClient.Delete(ctx, creds)).To(Succeed())
		Eventually(w.Tracked).Should(BeZero())
	})
})
