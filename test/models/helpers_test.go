package models

import (
	"fmt"

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

// server is the name of the server each test creates in its namespace.
const server = "srv"

var nsCounter, ipCounter int

// newNamespace creates a namespace with the suite's storage Secret and
// Application, Ready for servers.
func newNamespace() string {
	nsCounter++
	ns := fmt.Sprintf("models-%d", nsCounter)
	Expect(k8sClient.Create(ctx, fixture.Namespace(ns))).To(Succeed())
	Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fixture.SecretName))).To(Succeed())
	Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName, fixture.WithStorage(fixture.SecretName, fixture.Region)))).To(Succeed())
	return ns
}

// explicit sets model control mode explicit with the declared models.
func explicit(models ...string) fixture.ServerOption {
	return func(s *servingv1alpha1.KalypsoTritonServer) {
		s.Spec.TritonConfig.ModelControl = &servingv1alpha1.ModelControl{Mode: servingv1alpha1.ModelControlExplicit, Models: models}
	}
}

// createServer creates the server and plays the Deployment controller.
func createServer(ns string, opts ...fixture.ServerOption) {
	name := server
	Expect(k8sClient.Create(ctx, fixture.Server(ns, name, opts...))).To(Succeed())
	fixture.MarkAvailable(ctx, k8sClient, ns, name)
}

// simPod is a pod the suite plays the kubelet for.
type simPod struct {
	ns, name, ip string
}

// host is how the fake Triton knows the pod: the address the operator asks.
func (p simPod) host() string { return p.ip + ":8000" }

// startPod creates a pod of the server's current template, owned like the
// Deployment controller's pods, running with a ready container at a fresh
// simulated IP, and tells the fake what the pod is.
func startPod(ns string, prof faketriton.Profile) simPod {
	return startPodWith(ns, prof, func(*corev1.Pod) {})
}

// startPodWith is startPod with the pod changed by edit before it is created.
func startPodWith(ns string, prof faketriton.Profile, edit func(*corev1.Pod)) simPod {
	ipCounter++
	p := simPod{ns: ns, name: fmt.Sprintf("%s-h1-%d", server, ipCounter), ip: fmt.Sprintf("10.0.%d.%d", ipCounter/250, ipCounter%250+1)}
	profiles.set(p.host(), prof)
	var dep appsv1.Deployment
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: server}, &dep)).To(Succeed())
	labels := map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "h1"}
	for k, v := range dep.Spec.Template.Labels {
		labels[k] = v
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: p.name, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: server + "-h1",
				UID: types.UID("rs-" + server), Controller: ptr.To(true)}}},
		Spec: dep.Spec.Template.Spec,
	}
	edit(pod)
	Expect(k8sClient.Create(ctx, pod)).To(Succeed())
	setContainer(p, true, 0)
	return p
}

// setContainer plays the kubelet: the container's readiness and restarts.
// Pod Ready follows ContainersReady and the readiness gates, as the kubelet
// computes it.
func setContainer(p simPod, ready bool, restarts int32) {
	Eventually(func(g Gomega) {
		pod := getPod(p)(g)
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.PodIP = p.ip
		pod.Status.PodIPs = []corev1.PodIP{{IP: p.ip}}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: render.ContainerName, Ready: ready,
			RestartCount: restarts, Image: "triton", ImageID: "triton"}}
		setPodCondition(pod, corev1.ContainersReady, status)
		podReady := ready
		for _, gate := range pod.Spec.ReadinessGates {
			podReady = podReady && gateOf(pod, string(gate.ConditionType)) == corev1.ConditionTrue
		}
		setPodCondition(pod, corev1.PodReady, map[bool]corev1.ConditionStatus{true: corev1.ConditionTrue, false: corev1.ConditionFalse}[podReady])
		g.Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())
	}).Should(Succeed())
}

func setPodCondition(pod *corev1.Pod, t corev1.PodConditionType, s corev1.ConditionStatus) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			pod.Status.Conditions[i].Status = s
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: t, Status: s, LastTransitionTime: metav1.Now()})
}

func gateOf(pod *corev1.Pod, t string) corev1.ConditionStatus {
	for _, c := range pod.Status.Conditions {
		if string(c.Type) == t {
			return c.Status
		}
	}
	return ""
}

func getPod(p simPod) func(Gomega) *corev1.Pod {
	return func(g Gomega) *corev1.Pod {
		var pod corev1.Pod
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: p.ns, Name: p.name}, &pod)).To(Succeed())
		return &pod
	}
}

// gate is the operator's readiness gate condition of the pod.
func gate(p simPod) func(Gomega) corev1.ConditionStatus {
	return func(g Gomega) corev1.ConditionStatus { return gateOf(getPod(p)(g), render.ModelsReadyGate) }
}

func getServer(ns, name string) func(Gomega) *servingv1alpha1.KalypsoTritonServer {
	return func(g Gomega) *servingv1alpha1.KalypsoTritonServer {
		var s servingv1alpha1.KalypsoTritonServer
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s)).To(Succeed())
		return &s
	}
}

// modelsReady is the server's ModelsReady condition (zero when absent).
func modelsReady(ns string) func(Gomega) metav1.Condition {
	name := server
	return func(g Gomega) metav1.Condition {
		if c := meta.FindStatusCondition(getServer(ns, name)(g).Status.Conditions, servingv1alpha1.ConditionModelsReady); c != nil {
			return *c
		}
		return metav1.Condition{}
	}
}

// model is one entry of the server's status.models (zero when absent).
func model(ns, m string) func(Gomega) servingv1alpha1.ModelStatus {
	name := server
	return func(g Gomega) servingv1alpha1.ModelStatus {
		for _, s := range getServer(ns, name)(g).Status.Models {
			if s.Name == m {
				return s
			}
		}
		return servingv1alpha1.ModelStatus{}
	}
}

func cond(status metav1.ConditionStatus, reason string) OmegaMatcher {
	return And(HaveField("Status", status), HaveField("Reason", reason))
}

var _ = GinkgoWriter
