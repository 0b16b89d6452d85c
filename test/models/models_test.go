package models

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/faketriton"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

var _ = Describe("Per-model status", func() {
	It("reports each model per replica, and Triton's reason for one that failed (mode none)", func() {
		ns := newNamespace()
		fake.StuckUnavailable("bert", "failed to load 'bert' version 1: CUDA out of memory")
		DeferCleanup(func() { fake.Clear("bert") })
		createServer(ns, fixture.WithReplicas(2))
		prof := faketriton.Profile{Repository: []string{"resnet", "bert"}}
		pods := []simPod{startPod(ns, prof), startPod(ns, prof)}

		Eventually(model(ns, "resnet")).Should(And(HaveField("State", servingv1alpha1.ModelStateReady),
			HaveField("ReadyReplicas", int32(2)), HaveField("Versions", []string{"1"})))
		Eventually(model(ns, "bert")).Should(And(HaveField("State", servingv1alpha1.ModelStateUnavailable),
			HaveField("ReadyReplicas", int32(0)), HaveField("Reason", ContainSubstring("CUDA out of memory"))))
		Eventually(modelsReady(ns)).Should(And(cond(metav1.ConditionFalse, servingv1alpha1.ReasonModelsNotReady),
			HaveField("Message", ContainSubstring("model bert is UNAVAILABLE on 2 of 2 replicas"))))
		Eventually(getServer(ns, "srv")).Should(And(
			Not(Satisfy(fixture.ServerReady)), HaveField("Status.ModelsReady", "1/2")))

		By("the model loads once the fault is gone and the pods start again")
		fake.Clear("bert")
		for _, p := range pods {
			fake.Forget(p.host())
		}
		Eventually(modelsReady(ns)).Should(And(cond(metav1.ConditionTrue, servingv1alpha1.ReasonModelsReady),
			HaveField("Message", "2 models ready on 2 replicas")))
		Eventually(getServer(ns, "srv")).Should(And(Satisfy(fixture.ServerReady), HaveField("Status.ModelsReady", "2/2")))

		By("the Application counts models, not servers")
		Eventually(func(g Gomega) servingv1alpha1.KalypsoApplicationStatus {
			var app servingv1alpha1.KalypsoApplication
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: fixture.AppName}, &app)).To(Succeed())
			return app.Status
		}).Should(And(HaveField("Servers", int32(1)), HaveField("Models", int32(2)), HaveField("ReadyModels", int32(2))))
	})

	It("keeps the declared set on every replica: one load each, gates, restarts, scale-up and edits without a restart", func() {
		ns := newNamespace()
		createServer(ns, fixture.WithReplicas(2), explicit("resnet", "bert"))
		var dep appsv1.Deployment
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "srv"}, &dep)).To(Succeed())
		Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--model-control-mode=explicit"))
		Expect(dep.Spec.Template.Spec.Containers[0].Args).NotTo(ContainElement(HavePrefix("--load-model")))
		Expect(dep.Spec.Template.Spec.ReadinessGates).To(ConsistOf(HaveField("ConditionType", corev1.PodConditionType(render.ModelsReadyGate))))
		hash := dep.Annotations[render.AnnotationTemplateHash]

		prof := faketriton.Profile{Explicit: true, Repository: []string{"resnet", "bert", "gpt"}}
		pods := make([]simPod, 0, 3)
		pods = append(pods, startPod(ns, prof), startPod(ns, prof))
		for _, p := range pods {
			Eventually(gate(p)).Should(Equal(corev1.ConditionTrue))
			Expect(fake.Loads(p.host(), "resnet")).To(Equal(1))
			Expect(fake.Loads(p.host(), "bert")).To(Equal(1))
		}
		Eventually(getServer(ns, "srv")).Should(And(Satisfy(fixture.ServerReady), HaveField("Status.ModelsReady", "2/2")))
		Eventually(model(ns, "bert")).Should(And(HaveField("Declared", true), HaveField("ReadyReplicas", int32(2))))

		By("once converged: no write to the API server and no load of a READY model over several readings")
		srv := getServer(ns, "srv")(Default)
		podVersions := map[string]string{}
		for _, p := range pods {
			podVersions[p.name] = getPod(p)(Default).ResourceVersion
		}
		indexBefore := fake.IndexRequests()
		Consistently(func(g Gomega) {
			g.Expect(getServer(ns, "srv")(g).ResourceVersion).To(Equal(srv.ResourceVersion))
			for _, p := range pods {
				g.Expect(getPod(p)(g).ResourceVersion).To(Equal(podVersions[p.name]))
				g.Expect(fake.Loads(p.host(), "resnet")).To(Equal(1))
				g.Expect(fake.Loads(p.host(), "bert")).To(Equal(1))
			}
		}, 4*interval, 200*time.Millisecond).Should(Succeed())
		Expect(fake.IndexRequests()-indexBefore).To(BeNumerically(">=", 4), "the pods are read on the interval")

		By("a restarted container is taken out of traffic and gets the set again")
		fake.Forget(pods[0].host())
		setContainer(pods[0], false, 1)
		Eventually(gate(pods[0])).Should(Equal(corev1.ConditionFalse))
		setContainer(pods[0], true, 1)
		Eventually(gate(pods[0])).Should(Equal(corev1.ConditionTrue))
		Expect(fake.Loads(pods[0].host(), "resnet")).To(Equal(2))
		Expect(fake.Loads(pods[1].host(), "resnet")).To(Equal(1))

		By("a pod added by a scale-up gets the set before its gate opens")
		pods = append(pods, startPod(ns, prof))
		Eventually(gate(pods[2])).Should(Equal(corev1.ConditionTrue))
		Expect(fake.Loads(pods[2].host(), "bert")).To(Equal(1))
		Eventually(model(ns, "bert")).Should(HaveField("ReadyReplicas", int32(3)))

		By("editing the set changes the running pods, not the pod template")
		Eventually(func(g Gomega) {
			s := getServer(ns, "srv")(g)
			s.Spec.TritonConfig.ModelControl.Models = []string{"resnet", "gpt"}
			g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
		}).Should(Succeed())
		for _, p := range pods {
			Eventually(func() []int { return []int{fake.Loads(p.host(), "gpt"), fake.Unloads(p.host(), "bert")} }).Should(Equal([]int{1, 1}))
		}
		Eventually(getServer(ns, "srv")).Should(And(Satisfy(fixture.ServerReady), HaveField("Status.ModelsReady", "2/2")))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "srv"}, &dep)).To(Succeed())
		Expect(dep.Annotations[render.AnnotationTemplateHash]).To(Equal(hash))
	})

	It("reports a failed load with Triton's reason and retries with backoff, never in a loop", func() {
		ns := newNamespace()
		fake.FailLoad("broken", "failed to load 'broken', failed to parse config.pbtxt: unknown field 'instance_groups'")
		DeferCleanup(func() { fake.Clear("broken") })
		createServer(ns, fixture.WithReplicas(1), explicit("resnet", "broken"))
		p := startPod(ns, faketriton.Profile{Explicit: true, Repository: []string{"resnet", "broken"}})
		Eventually(model(ns, "broken")).Should(And(HaveField("State", servingv1alpha1.ModelStateUnavailable),
			HaveField("Reason", ContainSubstring("unknown field 'instance_groups'"))))
		Eventually(modelsReady(ns)).Should(cond(metav1.ConditionFalse, servingv1alpha1.ReasonModelsNotReady))
		Expect(gate(p)(Default)).NotTo(Equal(corev1.ConditionTrue))
		Consistently(func() int { return fake.Loads(p.host(), "broken") }, 5*interval).Should(BeNumerically("<=", 1))
		Expect(fake.Loads(p.host(), "resnet")).To(Equal(1))
	})

	It("shows a slow load as LOADING, then READY", func() {
		ns := newNamespace()
		fake.SlowLoad("llm", 4*time.Second)
		DeferCleanup(func() { fake.Clear("llm") })
		createServer(ns, fixture.WithReplicas(1), explicit("llm"))
		p := startPod(ns, faketriton.Profile{Explicit: true, Repository: []string{"llm"}})
		Eventually(modelsReady(ns)).Should(cond(metav1.ConditionFalse, servingv1alpha1.ReasonModelsLoading))
		Eventually(model(ns, "llm")).Should(HaveField("State", servingv1alpha1.ModelStateLoading))
		Eventually(modelsReady(ns)).Should(cond(metav1.ConditionTrue, servingv1alpha1.ReasonModelsReady))
		Expect(fake.Loads(p.host(), "llm")).To(Equal(1))
	})

	It("says the models are why running pods are not available", func() {
		ns := newNamespace()
		fake.SlowLoad("big", 4*time.Second)
		DeferCleanup(func() { fake.Clear("big") })
		createServer(ns, fixture.WithReplicas(1), explicit("big"))
		// The Deployment controller's view while the gate is closed: the
		// pod is updated but not available.
		Eventually(func(g Gomega) {
			var d appsv1.Deployment
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: server}, &d)).To(Succeed())
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1}
			g.Expect(k8sClient.Status().Update(ctx, &d)).To(Succeed())
		}).Should(Succeed())
		startPod(ns, faketriton.Profile{Explicit: true, Repository: []string{"big"}})
		Eventually(func(g Gomega) *metav1.Condition {
			return meta.FindStatusCondition(getServer(ns, server)(g).Status.Conditions, servingv1alpha1.ConditionReady)
		}).Should(And(HaveField("Status", metav1.ConditionFalse), HaveField("Reason", servingv1alpha1.ReasonModelsLoading)))
	})

	DescribeTable("refuses a hostile answer with a clear condition, and keeps the pod's gate as it was",
		func(script func(host string), reason, message string) {
			ns := newNamespace()
			createServer(ns, fixture.WithReplicas(1))
			p := startPod(ns, faketriton.Profile{Repository: []string{"resnet"}})
			Eventually(modelsReady(ns)).Should(cond(metav1.ConditionTrue, servingv1alpha1.ReasonModelsReady))
			script(p.host())
			Eventually(modelsReady(ns)).Should(And(cond(metav1.ConditionFalse, reason),
				HaveField("Message", And(ContainSubstring(p.name), ContainSubstring(message)))))
			Eventually(getServer(ns, "srv")).ShouldNot(Satisfy(fixture.ServerReady))
			Expect(getServer(ns, "srv")(Default).Status.Models).To(BeEmpty())
		},
		Entry("an oversized index", func(h string) { fake.Oversized(h, true) }, servingv1alpha1.ReasonTritonResponseRefused, "larger than"),
		Entry("a malformed index", func(h string) { fake.Malformed(h, true) }, servingv1alpha1.ReasonTritonResponseRefused, ""),
		Entry("a redirect", func(h string) { fake.Redirect(h, "http://127.0.0.1:1/v2/repository/index") },
			servingv1alpha1.ReasonTritonResponseRefused, "redirect"),
	)

	It("does not read a server whose reading is off, and passes its set to Triton at start", func() {
		ns := newNamespace()
		createServer(ns, fixture.WithReplicas(1), explicit("resnet"), func(s *servingv1alpha1.KalypsoTritonServer) {
			s.Spec.ModelStatus = &servingv1alpha1.ModelStatusReading{Enabled: ptr.To(false)}
		})
		p := startPod(ns, faketriton.Profile{Explicit: true, Startup: []string{"resnet"}, Repository: []string{"resnet"}})
		Eventually(modelsReady(ns)).Should(And(cond(metav1.ConditionUnknown, servingv1alpha1.ReasonDisabled),
			HaveField("Message", ContainSubstring("spec.modelStatus.enabled is false"))))
		Eventually(getServer(ns, "srv")).Should(Satisfy(fixture.ServerReady))
		var dep appsv1.Deployment
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "srv"}, &dep)).To(Succeed())
		Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--load-model=resnet"))
		Expect(dep.Spec.Template.Spec.ReadinessGates).To(BeEmpty())
		Consistently(fake.Hosts, 2*interval).ShouldNot(ContainElement(p.host()))
	})

	It("asks only pods the Deployment owns, and reports a pod address it has no mapping for", func() {
		ns := newNamespace()
		createServer(ns, fixture.WithReplicas(1))
		// Same labels, but made by someone else (no ReplicaSet of the server controls it).
		impostor := startPodWith(ns, faketriton.Profile{Repository: []string{"resnet"}},
			func(p *corev1.Pod) { p.OwnerReferences = nil })
		unmapped := startPod(ns, faketriton.Profile{Repository: []string{"resnet"}})
		unmapped.ip = "192.0.2.10"
		setContainer(unmapped, true, 0)
		Eventually(modelsReady(ns)).Should(And(cond(metav1.ConditionFalse, servingv1alpha1.ReasonTritonUnreachable),
			HaveField("Message", And(ContainSubstring(unmapped.name), ContainSubstring("no address mapping")))))
		Consistently(fake.Hosts, 2*interval).ShouldNot(ContainElement(impostor.host()))
	})

	It("never dialled anything but loopback", func() {
		addrs := dials.all()
		Expect(addrs).NotTo(BeEmpty())
		for _, a := range addrs {
			Expect(a).To(HavePrefix("127.0.0.1:"), "the manager dialled %s", a)
		}
	})
})
