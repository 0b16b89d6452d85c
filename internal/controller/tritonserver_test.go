package controller_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

var nsCounter int

// newNamespace creates a fresh namespace for one test.
func newNamespace() string {
	nsCounter++
	name := fmt.Sprintf("kts-%d-%d", GinkgoParallelProcess(), nsCounter)
	Expect(k8sClient.Create(ctx, fixture.Namespace(name))).To(Succeed())
	return name
}

// storage is the Application storage of the suite: the Secret
// fixture.SecretName in fixture.Region.
var storage = fixture.WithStorage(fixture.SecretName, fixture.Region)

func getServer(ns, name string) func(Gomega) *servingv1alpha1.KalypsoTritonServer {
	return func(g Gomega) *servingv1alpha1.KalypsoTritonServer {
		var s servingv1alpha1.KalypsoTritonServer
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s)).To(Succeed())
		return &s
	}
}

func condition(t string) func(*servingv1alpha1.KalypsoTritonServer) *metav1.Condition {
	return func(s *servingv1alpha1.KalypsoTritonServer) *metav1.Condition {
		return meta.FindStatusCondition(s.Status.Conditions, t)
	}
}

func deploymentOf(ns, name string) func(Gomega) *appsv1.Deployment {
	return func(g Gomega) *appsv1.Deployment {
		var d appsv1.Deployment
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &d)).To(Succeed())
		return &d
	}
}

var _ = Describe("KalypsoTritonServer", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
		Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fixture.SecretName))).To(Succeed())
	})

	It("creates the Deployment, Service and PDB, and reports Ready once the rollout is available", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "srv"))).To(Succeed())

		Eventually(func(g Gomega) {
			d := deploymentOf(ns, "srv")(g)
			c := d.Spec.Template.Spec.Containers[0]
			g.Expect(c.Args).To(ContainElements("--model-repository=s3://models/srv", "--http-port=8000"))
			g.Expect(c.Env).To(ContainElement(HaveField("ValueFrom.SecretKeyRef.Key", "AWS_SECRET_ACCESS_KEY")))
			g.Expect(d.Spec.Template.Annotations).To(HaveKey("kalypso-serving.io/storage-secret-version"))
			g.Expect(metav1.IsControlledBy(d, getServer(ns, "srv")(g))).To(BeTrue())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			var svc corev1.Service
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "srv"}, &svc)).To(Succeed())
			g.Expect(svc.Spec.Ports).To(HaveLen(3))
			var pdb policyv1.PodDisruptionBudget
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "srv"}, &pdb)).To(Succeed())
		}).Should(Succeed())

		Eventually(getServer(ns, "srv")).Should(WithTransform(condition(servingv1alpha1.ConditionReady),
			HaveField("Reason", servingv1alpha1.ReasonProgressing)))
		fixture.MarkAvailable(ctx, k8sClient, ns, "srv")
		Eventually(getServer(ns, "srv")).Should(And(
			WithTransform(condition(servingv1alpha1.ConditionReady), HaveField("Status", metav1.ConditionTrue)),
			HaveField("Status.Phase", servingv1alpha1.PhaseReady),
			HaveField("Status.AvailableReplicas", int32(2)),
			HaveField("Status.Selector", ContainSubstring("kalypso-serving.io/tritonserver=srv")),
		))
		Eventually(func(g Gomega) {
			var app servingv1alpha1.KalypsoApplication
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "app"}, &app)).To(Succeed())
			g.Expect(app.Status.Servers).To(Equal(int32(1)))
			g.Expect(app.Status.ReadyServers).To(Equal(int32(1)))
		}).Should(Succeed())
	})

	It("makes no write once converged, and leaves fields of other managers alone", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "steady"))).To(Succeed())
		Eventually(deploymentOf(ns, "steady")).Should(Not(BeNil()))
		fixture.MarkAvailable(ctx, k8sClient, ns, "steady")
		Eventually(getServer(ns, "steady")).Should(HaveField("Status.Phase", servingv1alpha1.PhaseReady))

		// Another tool labels the Deployment; the event wakes the reconciler.
		// (A label, not an annotation: annotations bump a Deployment's
		// generation, and envtest has no Deployment controller to observe it.)
		d := deploymentOf(ns, "steady")(Default)
		patch := client.MergeFrom(d.DeepCopy())
		d.Labels["example.com/owner"] = "someone-else"
		Expect(k8sClient.Patch(ctx, d, patch)).To(Succeed())
		rv := d.ResourceVersion
		srvBefore := getServer(ns, "steady")(Default)
		srvRV := srvBefore.ResourceVersion

		Consistently(func(g Gomega) {
			d := deploymentOf(ns, "steady")(g)
			g.Expect(d.ResourceVersion).To(Equal(rv))
			g.Expect(d.Labels).To(HaveKeyWithValue("example.com/owner", "someone-else"))
			g.Expect(getServer(ns, "steady")(g).ResourceVersion).To(Equal(srvRV), "status before: %+v\nafter: %+v", srvBefore.Status, getServer(ns, "steady")(g).Status)
		}, 3*time.Second, 200*time.Millisecond).Should(Succeed())
	})

	It("updates children when the spec changes and recreates a deleted child", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "edit"))).To(Succeed())
		Eventually(deploymentOf(ns, "edit")).Should(Not(BeNil()))

		Eventually(func(g Gomega) {
			s := getServer(ns, "edit")(g)
			s.Spec.TritonConfig.Tag = "25.01-py3"
			s.Spec.Networking.HTTPPort = 9000
			g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			c := deploymentOf(ns, "edit")(g).Spec.Template.Spec.Containers[0]
			g.Expect(c.Image).To(HaveSuffix(":25.01-py3"))
			g.Expect(c.Args).To(ContainElement("--http-port=9000"))
			g.Expect(c.ReadinessProbe.HTTPGet.Port.IntValue()).To(Equal(9000))
		}).Should(Succeed())

		var svc corev1.Service
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "edit"}, &svc)).To(Succeed())
		Expect(k8sClient.Delete(ctx, &svc)).To(Succeed())
		Eventually(func(g Gomega) {
			var again corev1.Service
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "edit"}, &again)).To(Succeed())
			g.Expect(again.UID).NotTo(Equal(svc.UID))
			g.Expect(again.Spec.Ports[0].Port).To(Equal(int32(9000)))
		}).Should(Succeed())
	})

	It("deletes the PDB it owns when replicas drop to one", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "pdb"))).To(Succeed())
		Eventually(func() error {
			return k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pdb"}, &policyv1.PodDisruptionBudget{})
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			s := getServer(ns, "pdb")(g)
			s.Spec.Replicas = ptr.To[int32](1)
			g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
		}).Should(Succeed())
		Eventually(func() bool {
			err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pdb"}, &policyv1.PodDisruptionBudget{})
			return apierrors.IsNotFound(err)
		}).Should(BeTrue())
	})

	It("re-renders its servers when the Application's endpoint changes", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "minio"))).To(Succeed())
		Eventually(deploymentOf(ns, "minio")).Should(Not(BeNil()))
		Eventually(func(g Gomega) {
			var app servingv1alpha1.KalypsoApplication
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "app"}, &app)).To(Succeed())
			app.Spec.Storage.Endpoint = "http://minio.storage:9000"
			g.Expect(k8sClient.Update(ctx, &app)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) []string {
			return deploymentOf(ns, "minio")(g).Spec.Template.Spec.Containers[0].Args
		}).Should(ContainElement("--model-repository=s3://http://minio.storage:9000/models/minio"))
	})

	It("rolls the pods when the storage Secret changes, without reading its values into the pod spec", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "roll"))).To(Succeed())
		var before string
		Eventually(func(g Gomega) {
			before = deploymentOf(ns, "roll")(g).Spec.Template.Annotations["kalypso-serving.io/storage-secret-version"]
			g.Expect(before).NotTo(BeEmpty())
		}).Should(Succeed())
		var sec corev1.Secret
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "creds"}, &sec)).To(Succeed())
		sec.Data["AWS_SECRET_ACCESS_KEY"] = []byte("rotated")
		Expect(k8sClient.Update(ctx, &sec)).To(Succeed())
		Eventually(func(g Gomega) string {
			return deploymentOf(ns, "roll")(g).Spec.Template.Annotations["kalypso-serving.io/storage-secret-version"]
		}).ShouldNot(Equal(before))
		d := deploymentOf(ns, "roll")(Default)
		Expect(fmt.Sprint(d.Spec)).NotTo(ContainSubstring("rotated"))
	})

	It("waits, creating nothing, while the Secret lacks a key, and names the key", func() {
		Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, "partial", fixture.WithKeys(servingv1alpha1.SecretKeyAWSAccessKeyID)))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, fixture.WithStorage("partial", fixture.Region)))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "wait"))).To(Succeed())
		Eventually(func(g Gomega) {
			var app servingv1alpha1.KalypsoApplication
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "app"}, &app)).To(Succeed())
			c := meta.FindStatusCondition(app.Status.Conditions, servingv1alpha1.ConditionStorageReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonSecretKeyMissing))
			g.Expect(c.Message).To(ContainSubstring("AWS_SECRET_ACCESS_KEY"))
			g.Expect(c.Message).NotTo(ContainSubstring("not-a-real"))
		}).Should(Succeed())
		Eventually(getServer(ns, "wait")).Should(WithTransform(condition(servingv1alpha1.ConditionReady),
			HaveField("Reason", servingv1alpha1.ReasonApplicationNotReady)))
		Consistently(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "wait"}, &appsv1.Deployment{}))
		}, time.Second).Should(BeTrue())

		// Fixing the Secret is enough: its watch brings everything forward.
		var sec corev1.Secret
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "partial"}, &sec)).To(Succeed())
		sec.Data["AWS_SECRET_ACCESS_KEY"] = []byte("x")
		Expect(k8sClient.Update(ctx, &sec)).To(Succeed())
		Eventually(deploymentOf(ns, "wait")).Should(Not(BeNil()))
	})

	It("is stalled with a clear reason when the storage URI does not fit the application", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage, fixture.WithStorageType(servingv1alpha1.StorageS3)))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "bad", fixture.WithStorageURI("gs://bucket/models")))).To(Succeed())
		Eventually(getServer(ns, "bad")).Should(And(
			WithTransform(condition(servingv1alpha1.ConditionStalled), HaveField("Reason", servingv1alpha1.ReasonInvalidStorageURI)),
			HaveField("Status.Phase", servingv1alpha1.PhaseFailed)))
	})

	It("never takes over an object it did not create", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		foreign := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken", Labels: map[string]string{"mine": "yes"}},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "x", Port: 80}}}}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "taken"))).To(Succeed())
		Eventually(getServer(ns, "taken")).Should(WithTransform(condition(servingv1alpha1.ConditionStalled),
			HaveField("Reason", servingv1alpha1.ReasonChildConflict)))
		var svc corev1.Service
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "taken"}, &svc)).To(Succeed())
		Expect(svc.ResourceVersion).To(Equal(foreign.ResourceVersion))
		Expect(svc.OwnerReferences).To(BeEmpty())
		// kubectl describe shows why: a Warning Event with the condition's reason, once.
		Eventually(eventsAbout(ns, "KalypsoTritonServer", "taken")).Should(ContainElement(And(
			HaveField("Type", corev1.EventTypeWarning), HaveField("Reason", servingv1alpha1.ReasonChildConflict),
			HaveField("Note", ContainSubstring(`Service "taken" exists and is not controlled by this KalypsoTritonServer`)))))
		Consistently(eventsAbout(ns, "KalypsoTritonServer", "taken"), 2*time.Second).Should(HaveLen(1))
	})

	It("rebuilds a stripped owner reference on its own child, and only on its own", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "strip"))).To(Succeed())
		srv := getServer(ns, "strip")(Default)
		var svc corev1.Service
		Eventually(func() error { return k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "strip"}, &svc) }).Should(Succeed())
		svc.OwnerReferences = nil
		Expect(k8sClient.Update(ctx, &svc)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "strip"}, &svc)).To(Succeed())
			g.Expect(metav1.IsControlledBy(&svc, srv)).To(BeTrue())
		}).Should(Succeed())

		// The same marks without the operator's apply entry are someone else's.
		forged := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forged",
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "kalypso-serving", "app.kubernetes.io/instance": "forged"},
			Annotations: map[string]string{"kalypso-serving.io/applied-hash": "0"}},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "x", Port: 80}}}}
		Expect(k8sClient.Create(ctx, forged)).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "forged"))).To(Succeed())
		Eventually(getServer(ns, "forged")).Should(WithTransform(condition(servingv1alpha1.ConditionStalled),
			HaveField("Reason", servingv1alpha1.ReasonChildConflict)))
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "forged"}, &svc)).To(Succeed())
		Expect(svc.ResourceVersion).To(Equal(forged.ResourceVersion))
	})

	It("reports a missing ServiceMonitor CRD as a condition and keeps serving", func() {
		Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, storage))).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(ns, "monitored", fixture.WithServiceMonitor("")))).To(Succeed())
		Eventually(getServer(ns, "monitored")).Should(WithTransform(condition(servingv1alpha1.ConditionServiceMonitorReady),
			And(HaveField("Status", metav1.ConditionFalse), HaveField("Reason", servingv1alpha1.ReasonCRDNotInstalled))))
		Eventually(deploymentOf(ns, "monitored")).Should(Not(BeNil()))
	})
})
