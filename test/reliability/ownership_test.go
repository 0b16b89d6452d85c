package reliability

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

// childRef is one child of a server.
type childRef struct {
	gvk    schema.GroupVersionKind
	server string
	uid    types.UID
}

func (c childRef) String() string { return c.gvk.Kind + "/" + c.server }

func (c childRef) get(g Gomega, ns string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(c.gvk)
	g.Expect(k8sClient.Get(ctx, key(ns, c.server), u)).To(Succeed())
	return u
}

func ownershipSpecs() {
	It("rebuilds stripped owner references of its own children after a restart, and still refuses foreign objects", func() {
		installServiceMonitorCRD()
		const servers = 10
		ns := createNamespace("rel-owner")
		DeferCleanup(cleanupServers, ns)
		createStorage(ns, fixture.FakeValue)
		wanted := map[string][]schema.GroupVersionKind{}
		names := createServers(ns, "own", servers, func(i int, s *servingv1alpha1.KalypsoTritonServer) {
			wanted[s.Name] = []schema.GroupVersionKind{render.DeploymentGVK, render.ServiceGVK, render.PDBGVK}
			if i%3 == 0 {
				fixture.WithAutoscaling(1, 3)(s)
				wanted[s.Name] = append(wanted[s.Name], render.HPAGVK)
			}
			if i%2 == 0 {
				fixture.WithServiceMonitor("30s")(s)
				wanted[s.Name] = append(wanted[s.Name], render.ServiceMonitorGVK)
			}
		})
		waitDeployments(ns, names, time.Minute)
		fixture.MarkAvailable(ctx, k8sClient, ns, names...)
		waitReady(ns, names, time.Minute)

		uids := map[string]types.UID{}
		var children []childRef
		for _, n := range names {
			uids[n] = getServer(Default, ns, n).UID
			for _, gvk := range wanted[n] {
				c := childRef{gvk: gvk, server: n}
				Eventually(func(g Gomega) {
					u := c.get(g, ns)
					g.Expect(controllerUID(u)).To(Equal(uids[n]))
					c.uid = u.GetUID()
				}).Should(Succeed())
				children = append(children, c)
			}
		}

		By("stopping the manager and stripping owner references and finalizers")
		mgr.stop()
		mgr = nil
		DeferCleanup(func() {
			if mgr == nil {
				mgr = startManager()
			}
		})
		for _, c := range children {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(c.gvk)
			u.SetNamespace(ns)
			u.SetName(c.server)
			Expect(k8sClient.Patch(ctx, u, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"ownerReferences":null,"finalizers":null}}`)),
				client.FieldOwner("backup-restore"))).To(Succeed())
			Expect(u.GetOwnerReferences()).To(BeEmpty())
		}

		By("starting the manager again")
		mgr = startManager()
		restarted := time.Now()
		readopted, replaced := waitReadopted(ns, children, uids)
		tookReadopt := time.Since(restarted)

		perKind := map[schema.GroupVersionKind]int{}
		for _, c := range children {
			perKind[c.gvk]++
		}
		duplicates := 0
		for gvk, want := range perKind {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
			Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			duplicates += len(list.Items) - want
		}
		// No Deployment changed generation, so no Deployment controller
		// would write status again: the servers must report Ready on their own.
		readyAgain := countReady(ns, names, 15*time.Second)

		By("refusing objects of the same name that do not carry the operator's marks")
		refused, foreign := refuseForeign(ns)

		fixture.Figure(AddReportEntry, "ownership", "%d of %d children of %d servers re-adopted %s after the restart (same UIDs, controller=true), "+
			"%d replaced, %d duplicates, %d/%d servers Ready again; %d foreign objects refused with ChildConflict and left untouched",
			readopted, len(children), servers, fixture.Ms(tookReadopt), replaced, duplicates, readyAgain, servers, refused)
		Expect(readopted).To(Equal(len(children)), "children whose owner reference was not rebuilt")
		Expect(replaced).To(BeZero(), "children deleted and recreated instead of re-adopted")
		Expect(duplicates).To(BeZero())
		Expect(readyAgain).To(Equal(servers), "servers not Ready after re-adoption (nothing else will wake them)")
		Expect(refused).To(Equal(foreign), "foreign objects not refused with ChildConflict")
	})
}

// waitReadopted waits up to a minute until every child either has its
// server as controller again (re-adopted) or was replaced by a new object.
func waitReadopted(ns string, children []childRef, uids map[string]types.UID) (readopted, replaced int) {
	_ = fixture.WaitFor(ctx, time.Minute, func() bool {
		readopted, replaced = 0, 0
		for _, c := range children {
			u := c.get(Default, ns)
			switch {
			case u.GetUID() != c.uid:
				replaced++
			case controllerUID(u) == uids[c.server]:
				readopted++
			}
		}
		return readopted+replaced == len(children)
	})
	return readopted, replaced
}

// refuseForeign creates a Deployment and a Service without the operator's
// marks, then servers of the same names; it returns how many servers report
// ChildConflict, and how many foreign objects there are. The foreign objects
// must stay untouched.
func refuseForeign(ns string) (refused, total int) {
	foreignDep := foreignDeployment(ns, "foreign-dep")
	Expect(k8sClient.Create(ctx, foreignDep)).To(Succeed())
	foreignSvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "foreign-svc", Labels: map[string]string{"app": "foreign"}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "web", Port: 80}}}}
	Expect(k8sClient.Create(ctx, foreignSvc)).To(Succeed())
	foreign := []client.Object{foreignDep, foreignSvc}
	for _, f := range foreign {
		Expect(k8sClient.Create(ctx, fixture.Server(ns, f.GetName()))).To(Succeed())
	}
	for _, f := range foreign {
		stalled := func() bool {
			var s servingv1alpha1.KalypsoTritonServer
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(f), &s); err != nil {
				return false
			}
			c := meta.FindStatusCondition(s.Status.Conditions, servingv1alpha1.ConditionStalled)
			return c != nil && c.Status == metav1.ConditionTrue && c.Reason == servingv1alpha1.ReasonChildConflict
		}
		if fixture.WaitFor(ctx, 15*time.Second, stalled) == nil {
			refused++
		}
	}
	Consistently(func(g Gomega) {
		for _, f := range foreign {
			live := f.DeepCopyObject().(client.Object)
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(f), live)).To(Succeed())
			g.Expect(live.GetResourceVersion()).To(Equal(f.GetResourceVersion()), "%s was changed", f.GetName())
			g.Expect(live.GetOwnerReferences()).To(BeEmpty())
		}
	}, 2*time.Second, 200*time.Millisecond).Should(Succeed())
	return refused, len(foreign)
}

// controllerUID is the UID of obj's controller, or "".
func controllerUID(obj metav1.Object) types.UID {
	if ref := metav1.GetControllerOf(obj); ref != nil && ref.Kind == "KalypsoTritonServer" {
		return ref.UID
	}
	return ""
}

// foreignDeployment is someone else's Deployment: none of the operator's marks.
func foreignDeployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": "foreign"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: fmt.Sprintf("example.invalid/%s:1", name)}}},
			},
		},
	}
}
