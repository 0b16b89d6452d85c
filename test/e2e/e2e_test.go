package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

const (
	devNS   = "sample-project-dev"
	stageNS = "sample-project-stage"
	prodNS  = "sample-project-prod"
)

func server(ns, name string) func(Gomega) *servingv1alpha1.KalypsoTritonServer {
	return func(g Gomega) *servingv1alpha1.KalypsoTritonServer {
		var s servingv1alpha1.KalypsoTritonServer
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s)).To(Succeed())
		return &s
	}
}

func readyCondition(s *servingv1alpha1.KalypsoTritonServer) *metav1.Condition {
	c := meta.FindStatusCondition(s.Status.Conditions, servingv1alpha1.ConditionReady)
	if c == nil {
		return &metav1.Condition{}
	}
	return c
}

func runningPods(ns, srv string) func(Gomega) []corev1.Pod {
	return func(g Gomega) []corev1.Pod {
		var pods corev1.PodList
		g.Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns),
			client.MatchingLabels{"kalypso-serving.io/tritonserver": srv})).To(Succeed())
		var out []corev1.Pod
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				out = append(out, p)
			}
		}
		return out
	}
}

var _ = Describe("KalypsoServing on a local cluster", Ordered, func() {
	It("turns the sample project into governed namespaces", func() {
		kubectl("apply", "-f", testenv.Path("config", "samples", "serving_v1alpha1_kalypsoproject.yaml"))
		Eventually(func(g Gomega) {
			for _, env := range []string{"dev", "stage", "prod"} {
				var ns corev1.Namespace
				g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: "sample-project-" + env}, &ns)).To(Succeed())
				g.Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
				g.Expect(ns.Labels).To(HaveKeyWithValue("kalypso-serving.io/project", "sample-project"))
				var np networkingv1.NetworkPolicy
				g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: "kalypso-default-ingress"}, &np)).To(Succeed())
			}
			var q corev1.ResourceQuota
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: prodNS, Name: "kalypso-quota"}, &q)).To(Succeed())
			g.Expect(q.Status.Hard).To(HaveKey(corev1.ResourceName("requests.nvidia.com/gpu")))
		}).Should(Succeed())
		Expect(kubectl("get", "kalypsoprojects")).To(MatchRegexp(`sample-project\s+Ready\s+team-ai-research\s+3`))
	})

	It("lets the sample project's own people run their environment, and nothing the operator governs", func() {
		lead := []string{"--as", "lead", "--as-group", "team-ai-research-leads", "-n", devNS}
		Eventually(func() string { return kubectl(append(lead, "auth", "can-i", "create", "secrets")...) }).Should(HavePrefix("yes"))
		kubectl(append(lead, "create", "secret", "generic", "team-made", "--from-literal=AWS_ACCESS_KEY_ID=x")...)
		Expect(kubectl(append(lead, "auth", "can-i", "get", "pods", "--subresource=log")...)).To(HavePrefix("yes"))
		Expect(kubectl(append(lead, "get", "events")...)).NotTo(ContainSubstring("Forbidden"))
		for _, denied := range [][]string{{"delete", "networkpolicy/kalypso-default-ingress"}, {"update", "resourcequota/kalypso-quota"},
			{"create", "rolebindings"}, {"create", "pods", "--subresource=exec"}} {
			out, err := kubectlMayFail(append(lead, append([]string{"auth", "can-i"}, denied...)...)...)
			Expect(err).To(HaveOccurred(), "the environment admin may %v", denied)
			Expect(out).To(HavePrefix("no"))
		}
		Expect(k8sClient.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: devNS, Name: "team-made"}})).To(Succeed())
	})

	It("rolls out the sample server, reports it Ready and counts it in its application", func() {
		kubectl("apply", "-f", testenv.Path("hack", "local-cluster", "demo-secret.yaml"))
		kubectl("apply", "-f", testenv.Path("config", "samples", "serving_v1alpha1_kalypsoapplication.yaml"))
		kubectl("apply", "-f", testenv.Path("config", "samples", "serving_v1alpha1_kalypsotritonserver.yaml"))
		Eventually(server(devNS, "recommendation-v1")).Should(Satisfy(fixture.ServerReady))
		Eventually(runningPods(devNS, "recommendation-v1")).Should(HaveLen(2))
		out := kubectl("-n", devNS, "get", "kalypsotritonservers")
		Expect(out).To(MatchRegexp(`NAME\s+APPLICATION\s+PHASE\s+REPLICAS\s+AVAILABLE\s+MODELS\s+AGE`))
		Expect(out).To(MatchRegexp(`recommendation-v1\s+recommendation-application\s+Ready\s+2\s+2\s+2/2`))
		Eventually(func() string { return kubectl("-n", devNS, "get", "kalypsoapplications") }).
			Should(MatchRegexp(`recommendation-application\s+sample-project\s+Ready\s+1\s+1\s+2\s+2`))
	})

	It("follows the scale subresource", func() {
		kubectl("-n", devNS, "scale", "kalypsotritonserver", "recommendation-v1", "--replicas=3")
		Eventually(runningPods(devNS, "recommendation-v1")).Should(HaveLen(3))
		Eventually(server(devNS, "recommendation-v1")).Should(And(Satisfy(fixture.ServerReady), HaveField("Status.AvailableReplicas", int32(3))))
	})

	It("reports each model per replica from the fake Triton, and keeps an explicit set on every replica", func() {
		// hack/local-cluster/demo-models.yaml: densenet_onnx loads, ranker-slow
		// takes 20 s, reranker-broken fails to load (the fake's scripting).
		kubectl("apply", "-f", testenv.Path("hack", "local-cluster", "demo-models.yaml"))
		Eventually(server(devNS, "ranking-v2"), 2*time.Minute).Should(HaveField("Status.ModelsReady", "2/3"))
		Eventually(runningPods(devNS, "ranking-v2")).Should(HaveLen(2))
		s := server(devNS, "ranking-v2")(Default)
		Expect(s.Status.Models[0]).To(And(HaveField("Name", "reranker-broken"), HaveField("State", servingv1alpha1.ModelStateUnavailable),
			HaveField("Reason", ContainSubstring("failed to load")), HaveField("Declared", true)))
		Expect(meta.FindStatusCondition(s.Status.Conditions, servingv1alpha1.ConditionModelsReady)).To(And(
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", servingv1alpha1.ReasonModelsNotReady)))
		Expect(kubectl("-n", devNS, "get", "kalypsotritonserver", "ranking-v2")).To(MatchRegexp(`ranking-v2\s+recommendation-application\s+\w+\s+2\s+\d\s+2/3`))
		Expect(kubectl("-n", devNS, "describe", "kalypsotritonserver", "ranking-v2")).To(And(
			ContainSubstring("reranker-broken"), ContainSubstring("ModelsNotReady"), ContainSubstring("densenet_onnx")))
		pods := runningPods(devNS, "ranking-v2")(Default)
		for _, p := range pods {
			Expect(p.Spec.ReadinessGates).To(ConsistOf(HaveField("ConditionType", corev1.PodConditionType(render.ModelsReadyGate))))
			Expect(p.Spec.Containers[0].Args).NotTo(ContainElement(HavePrefix("--load-model")))
		}

		By("dropping the broken model from the set: the same pods serve it, their gates open")
		kubectl("-n", devNS, "patch", "kalypsotritonserver", "ranking-v2", "--type=json",
			`-p=[{"op":"replace","path":"/spec/tritonConfig/modelControl/models","value":["densenet_onnx","ranker-slow"]}]`)
		Eventually(server(devNS, "ranking-v2")).Should(And(HaveField("Status.ModelsReady", "2/2"), Satisfy(fixture.ServerReady)))
		Eventually(func(g Gomega) {
			now := runningPods(devNS, "ranking-v2")(g)
			g.Expect(now).To(HaveLen(2))
			for i, p := range now {
				g.Expect(p.UID).To(Equal(pods[i].UID), "no pod was replaced")
				g.Expect(p.Status.Conditions).To(ContainElement(And(
					HaveField("Type", corev1.PodConditionType(render.ModelsReadyGate)), HaveField("Status", corev1.ConditionTrue))))
			}
		}).Should(Succeed())
		kubectl("-n", devNS, "delete", "kalypsotritonserver", "ranking-v2")
	})

	It("runs GPU servers on GPU nodes, and the GPU quota really binds", func() {
		gpu := fixture.Server(prodNS, "gpu", fixture.WithApplication("prod-app"),
			fixture.WithStorageURI("s3://kalypso-models/recommendation/v1/"), fixture.WithReplicas(2), fixture.WithGPUs(1))
		app := fixture.Application(prodNS, "prod-app", fixture.WithRegion("ap-northeast-2"))
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		Expect(k8sClient.Create(ctx, gpu)).To(Succeed())
		Eventually(server(prodNS, "gpu")).Should(Satisfy(fixture.ServerReady))
		pods := runningPods(prodNS, "gpu")(Default)
		Expect(pods).To(HaveLen(2))
		for _, p := range pods {
			Expect(p.Spec.NodeName).To(HavePrefix("gpu-node-"))
		}

		// prod allows 4 GPUs; 2 are used. Three more per pod cannot fit.
		greedy := gpu.DeepCopy()
		greedy.ObjectMeta = metav1.ObjectMeta{Namespace: prodNS, Name: "greedy"}
		greedy.Spec.GPUs = ptr.To[int32](3)
		greedy.Spec.Replicas = ptr.To[int32](1)
		Expect(k8sClient.Create(ctx, greedy)).To(Succeed())
		Eventually(func(g Gomega) {
			var events corev1.EventList
			g.Expect(k8sClient.List(ctx, &events, client.InNamespace(prodNS))).To(Succeed())
			found := false
			for _, e := range events.Items {
				if strings.Contains(e.Message, "exceeded quota") && strings.Contains(e.Message, "requests.nvidia.com/gpu") {
					found = true
				}
			}
			g.Expect(found).To(BeTrue(), "the ReplicaSet controller reports the quota refusal")
		}).Should(Succeed())
		Expect(runningPods(prodNS, "greedy")(Default)).To(BeEmpty())
		Eventually(server(prodNS, "greedy")).Should(WithTransform(readyCondition, And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", servingv1alpha1.ReasonPodsRefused),
			HaveField("Message", ContainSubstring("exceeded quota")))))
	})

	It("rolls out within a GPU quota that is exactly full, and says how many GPUs a bigger pod misses", func() {
		Expect(k8sClient.Delete(ctx, &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Namespace: prodNS, Name: "greedy"}})).To(Succeed())
		full := fixture.Server(prodNS, "full", fixture.WithApplication("prod-app"),
			fixture.WithStorageURI("s3://kalypso-models/recommendation/v1/"), fixture.WithReplicas(2), fixture.WithGPUs(1))
		Expect(k8sClient.Create(ctx, full)).To(Succeed())
		Eventually(server(prodNS, "full")).Should(Satisfy(fixture.ServerReady)) // 4 of 4 GPUs in use

		start := time.Now()
		Eventually(func(g Gomega) {
			s := server(prodNS, "gpu")(g)
			s.Spec.TritonConfig.Tag = "25.04-py3"
			g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			pods := runningPods(prodNS, "gpu")(g)
			g.Expect(pods).To(HaveLen(2))
			for _, p := range pods {
				g.Expect(p.Spec.Containers[0].Image).To(HaveSuffix(":25.04-py3"))
			}
			g.Expect(server(prodNS, "gpu")(g)).To(Satisfy(fixture.ServerReady))
		}, 3*time.Minute).Should(Succeed())
		var dep appsv1.Deployment
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: prodNS, Name: "gpu"}, &dep)).To(Succeed())
		Expect(dep.Spec.Strategy.RollingUpdate.MaxSurge.IntValue()).To(Equal(0), "no room for a surge pod")
		AddReportEntry("rollout with a full GPU quota", fmt.Sprintf("2 replicas replaced one at a time in %s", time.Since(start).Round(time.Second)))

		// The quota controller counts the replaced pods asynchronously: the
		// next change is judged against a quota that shows all 4 GPUs used.
		Eventually(func(g Gomega) string {
			var q corev1.ResourceQuota
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: prodNS, Name: render.QuotaName}, &q)).To(Succeed())
			used := q.Status.Used[corev1.ResourceName("requests.nvidia.com/gpu")]
			return used.String()
		}).Should(Equal("4"))
		Eventually(func(g Gomega) {
			s := server(prodNS, "gpu")(g)
			s.Spec.GPUs = ptr.To[int32](2)
			g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			c := meta.FindStatusCondition(server(prodNS, "gpu")(g).Status.Conditions, servingv1alpha1.ConditionStalled)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(servingv1alpha1.ReasonQuotaExceeded))
			g.Expect(c.Message).To(ContainSubstring("requests.nvidia.com/gpu hard 4, used 4, a pod needs 2, missing 1"))
		}).Should(Succeed())
		Expect(runningPods(prodNS, "gpu")(Default)).To(HaveLen(2), "the running pods keep serving")
		Expect(k8sClient.Delete(ctx, full)).To(Succeed())
	})

	It("reports a server that no node can hold as not Ready, with the reason", func() {
		// stage has no quota; no node has 9 GPUs.
		huge := fixture.Server(stageNS, "huge", fixture.WithApplication("stage-app"), fixture.WithStorageURI("pvc://models/huge"),
			fixture.WithDefaultReplicas(), fixture.WithGPUs(9))
		Expect(k8sClient.Create(ctx, fixture.Application(stageNS, "stage-app"))).To(Succeed())
		Expect(k8sClient.Create(ctx, huge)).To(Succeed())
		Eventually(func(g Gomega) {
			var pods corev1.PodList
			g.Expect(k8sClient.List(ctx, &pods, client.InNamespace(stageNS), client.MatchingLabels{"kalypso-serving.io/tritonserver": "huge"})).To(Succeed())
			g.Expect(pods.Items).To(HaveLen(1))
			g.Expect(pods.Items[0].Status.Phase).To(Equal(corev1.PodPending))
			g.Expect(pods.Items[0].Status.Conditions).To(ContainElement(And(
				HaveField("Type", corev1.PodScheduled), HaveField("Status", corev1.ConditionFalse))))
		}).Should(Succeed())
		// The pod's scheduling failure can be seen before the Deployment's
		// status reaches the server: wait for the reason, then hold it.
		unavailable := WithTransform(readyCondition, And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", servingv1alpha1.ReasonDeploymentUnavailable),
			HaveField("Message", ContainSubstring("0 of 1 replicas available"))))
		Eventually(server(stageNS, "huge")).Should(unavailable)
		Consistently(server(stageNS, "huge"), 3*time.Second).Should(unavailable)
		Expect(kubectl("-n", stageNS, "get", "kalypsotritonserver", "huge")).To(MatchRegexp(`huge\s+stage-app\s+Progressing`))
	})

	It("shows why a server is stalled in kubectl describe: a Warning Event with the reason", func() {
		squatter := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: stageNS, Name: "squatter"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "web", Port: 80}}}}
		Expect(k8sClient.Create(ctx, squatter)).To(Succeed())
		Expect(k8sClient.Create(ctx, fixture.Server(stageNS, "squatter", fixture.WithApplication("stage-app"),
			fixture.WithStorageURI("pvc://models/squatter"), fixture.WithDefaultReplicas()))).To(Succeed())
		Eventually(func() string { return kubectl("-n", stageNS, "describe", "kalypsotritonserver", "squatter") }).
			Should(And(MatchRegexp(`Warning\s+ChildConflict`), ContainSubstring(`Service "squatter" exists and is not controlled`)))
		var svc corev1.Service
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: stageNS, Name: "squatter"}, &svc)).To(Succeed())
		Expect(svc.ResourceVersion).To(Equal(squatter.ResourceVersion))
		kubectl("-n", stageNS, "delete", "kalypsotritonserver", "squatter")
		Expect(k8sClient.Delete(ctx, squatter)).To(Succeed())
	})

	It("recreates a deleted child and garbage-collects the children of a deleted server", func() {
		var svc corev1.Service
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: devNS, Name: "recommendation-v1"}, &svc)).To(Succeed())
		Expect(k8sClient.Delete(ctx, &svc)).To(Succeed())
		Eventually(func(g Gomega) {
			var again corev1.Service
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: devNS, Name: "recommendation-v1"}, &again)).To(Succeed())
			g.Expect(again.UID).NotTo(Equal(svc.UID))
		}).Should(Succeed())

		kubectl("-n", devNS, "delete", "kalypsotritonserver", "recommendation-v1")
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: devNS, Name: "recommendation-v1"}, &appsv1.Deployment{}))
		}).Should(BeTrue())
		Eventually(runningPods(devNS, "recommendation-v1")).Should(BeEmpty())
		Eventually(func() string { return kubectl("-n", devNS, "get", "kalypsoapplications") }).
			Should(MatchRegexp(`recommendation-application\s+sample-project\s+Ready\s+0\s+0\s+0\s+0`))
	})

	It("deletes the project's namespaces with the project, and leaves a pre-existing namespace alone", func() {
		Expect(k8sClient.Create(ctx, fixture.Namespace("team-owned"))).To(Succeed())
		kubectl("patch", "kalypsoproject", "sample-project", "--type=json",
			`-p=[{"op":"add","path":"/spec/environments/-","value":{"name":"claimed","namespace":"team-owned"}}]`)
		Eventually(func() string {
			return kubectl("get", "kalypsoproject", "sample-project", "-o", "jsonpath={.status.environments}")
		}).
			Should(ContainSubstring("NamespaceConflict"))

		kubectl("delete", "kalypsoproject", "sample-project", "--wait=false")
		Eventually(func(g Gomega) {
			for _, env := range []string{"dev", "stage", "prod"} {
				err := k8sClient.Get(ctx, types.NamespacedName{Name: "sample-project-" + env}, &corev1.Namespace{})
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "namespace sample-project-%s still exists", env)
			}
		}, 3*time.Minute).Should(Succeed())
		var kept corev1.Namespace
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: "team-owned"}, &kept)).To(Succeed())
		Expect(kept.DeletionTimestamp).To(BeNil())
		Expect(kept.Labels).NotTo(HaveKey("kalypso-serving.io/project"))
	})

	It("installs config/default (server-side dry run)", func() {
		out, err := exec.Command(os.Getenv("KUSTOMIZE"), "build", testenv.Path("config", "default")).Output()
		Expect(err).NotTo(HaveOccurred())
		manifest := filepath.Join(GinkgoT().TempDir(), "default.yaml")
		Expect(os.WriteFile(manifest, out, 0o600)).To(Succeed())
		Expect(kubectl("apply", "--server-side", "--dry-run=server", "-f", manifest)).To(ContainSubstring("deployment.apps/kalypso-serving-controller-manager serverside-applied (server dry run)"))
	})

	It("runs its own manager restricted, with limits, a NetworkPolicy and GOMEMLIMIT from its limit", func() {
		out, err := exec.Command(os.Getenv("KUSTOMIZE"), "build", testenv.Path("config", "default")).Output()
		Expect(err).NotTo(HaveOccurred())
		var dep *appsv1.Deployment
		var policies []networkingv1.NetworkPolicy
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
		for {
			var raw runtime.RawExtension
			if err := dec.Decode(&raw); err != nil {
				Expect(err).To(MatchError(io.EOF))
				break
			}
			obj, _, err := serializer.NewCodecFactory(scheme).UniversalDeserializer().Decode(raw.Raw, nil, nil)
			if err != nil {
				continue // custom resource definitions and other kinds this scheme lacks
			}
			switch o := obj.(type) {
			case *appsv1.Deployment:
				dep = o
			case *networkingv1.NetworkPolicy:
				policies = append(policies, *o)
			}
		}
		Expect(dep).NotTo(BeNil())
		tmpl := dep.Spec.Template
		c := tmpl.Spec.Containers[0]
		Expect(c.Resources.Limits).To(And(HaveKey(corev1.ResourceCPU), HaveKey(corev1.ResourceMemory)))
		Expect(c.Env).To(ContainElement(And(HaveField("Name", "GOMEMLIMIT"),
			HaveField("ValueFrom.ResourceFieldRef.Resource", "limits.memory"))))
		selected := 0
		for _, p := range policies {
			sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
			Expect(err).NotTo(HaveOccurred())
			if sel.Matches(labels.Set(tmpl.Labels)) && slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
				selected++
			}
		}
		Expect(selected).To(BeNumerically(">=", 1), "no NetworkPolicy selects the manager's pods")

		// Its pod, as the Deployment would create it, under Pod Security
		// restricted in enforce and warn mode: admitted, with no warning.
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "manager-pod-security", Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}}}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, ns))).To(Succeed())
		warnings := &testenv.WarningRecorder{}
		wcfg := rest.CopyConfig(restConfig)
		wcfg.WarningHandlerWithContext = warnings
		wc, err := client.New(wcfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "manager", Labels: tmpl.Labels},
			Spec: *tmpl.Spec.DeepCopy()}
		pod.Spec.ServiceAccountName = ""
		Expect(wc.Create(ctx, pod, client.DryRunAll)).To(Succeed())
		Expect(warnings.All()).To(BeEmpty())
		AddReportEntry("manager pod security", fmt.Sprintf("restricted: admitted, %d warnings; %d NetworkPolicy selecting it",
			len(warnings.All()), selected))
	})

	It("left no error in the manager's log", func() {
		data, err := os.ReadFile(filepath.Join(state, "manager.log"))
		Expect(err).NotTo(HaveOccurred())
		var errs []string
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, `"level":"error"`) && !strings.Contains(line, "the object has been modified") {
				errs = append(errs, line)
			}
		}
		Expect(errs).To(BeEmpty(), fmt.Sprintf("%d error lines", len(errs)))
	})
})
