package reliability

import (
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

func createNamespace(name string) string {
	Expect(k8sClient.Create(ctx, fixture.Namespace(name))).To(Succeed())
	return name
}

// createStorage creates the S3 Secret (every S3 key, value(key) for each)
// and the Application using it, and waits for the Application to be Ready.
func createStorage(ns string, value func(key string) string) {
	Expect(k8sClient.Create(ctx, fixture.StorageSecret(ns, fixture.SecretName,
		fixture.WithKeys(fixture.S3Keys...), fixture.WithValues(value)))).To(Succeed())
	Expect(k8sClient.Create(ctx, fixture.Application(ns, fixture.AppName,
		fixture.WithStorageType(servingv1alpha1.StorageS3), fixture.WithStorage(fixture.SecretName, fixture.Region)))).To(Succeed())
	Eventually(func(g Gomega) {
		var app servingv1alpha1.KalypsoApplication
		g.Expect(k8sClient.Get(ctx, key(ns, fixture.AppName), &app)).To(Succeed())
		g.Expect(fixture.ApplicationReady(&app)).To(BeTrue())
	}).Should(Succeed())
}

// createServers creates n servers named prefix-000.. (fixture.Server: two
// replicas, so each has a PDB) and returns their names.
func createServers(ns, prefix string, n int, mutate func(i int, s *servingv1alpha1.KalypsoTritonServer)) []string {
	names := make([]string, 0, n)
	for i := range n {
		srv := fixture.Server(ns, fmt.Sprintf("%s-%03d", prefix, i))
		if mutate != nil {
			mutate(i, srv)
		}
		Expect(k8sClient.Create(ctx, srv)).To(Succeed())
		names = append(names, srv.Name)
	}
	return names
}

func getServer(g Gomega, ns, name string) *servingv1alpha1.KalypsoTritonServer {
	var s servingv1alpha1.KalypsoTritonServer
	g.Expect(k8sClient.Get(ctx, key(ns, name), &s)).To(Succeed())
	return &s
}

// updateServer applies mutate to the latest server and updates it,
// retrying on conflicts (the operator writes its status concurrently).
func updateServer(ns, name string, mutate func(*servingv1alpha1.KalypsoTritonServer)) {
	Eventually(func(g Gomega) {
		s := getServer(g, ns, name)
		mutate(s)
		g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
	}).WithTimeout(20 * time.Second).Should(Succeed())
}

// waitDeployments waits until every server has a Deployment.
func waitDeployments(ns string, names []string, timeout time.Duration) {
	Eventually(func(g Gomega) {
		var list appsv1.DeploymentList
		g.Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		have := map[string]bool{}
		for i := range list.Items {
			have[list.Items[i].Name] = true
		}
		for _, n := range names {
			g.Expect(have).To(HaveKey(n))
		}
	}).WithTimeout(timeout).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// waitReady waits until every server reports Ready for its current generation.
func waitReady(ns string, names []string, timeout time.Duration) {
	Eventually(func(g Gomega) {
		var list servingv1alpha1.KalypsoTritonServerList
		g.Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		byName := map[string]*servingv1alpha1.KalypsoTritonServer{}
		for i := range list.Items {
			byName[list.Items[i].Name] = &list.Items[i]
		}
		for _, n := range names {
			s := byName[n]
			g.Expect(s).NotTo(BeNil(), "server %s is missing", n)
			g.Expect(fixture.ServerReady(s)).To(BeTrue(), "server %s is not Ready: generation %d, status %+v", n, s.Generation, s.Status)
		}
	}).WithTimeout(timeout).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// countReady waits up to timeout for the servers to be Ready and returns
// how many are.
func countReady(ns string, names []string, timeout time.Duration) int {
	n := 0
	_ = fixture.WaitFor(ctx, timeout, func() bool {
		var list servingv1alpha1.KalypsoTritonServerList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		n = 0
		for i := range list.Items {
			if slices.Contains(names, list.Items[i].Name) && fixture.ServerReady(&list.Items[i]) {
				n++
			}
		}
		return n == len(names)
	})
	return n
}

// waitObserved waits until the server's status is for its current generation.
func waitObserved(ns, name string, timeout time.Duration) *servingv1alpha1.KalypsoTritonServer {
	var srv *servingv1alpha1.KalypsoTritonServer
	Eventually(func(g Gomega) {
		srv = getServer(g, ns, name)
		g.Expect(srv.Status.ObservedGeneration).To(Equal(srv.Generation))
	}).WithTimeout(timeout).WithPolling(50 * time.Millisecond).Should(Succeed())
	return srv
}

// cleanupServers deletes the servers and application of a namespace, then
// the children (there is no garbage collector in envtest), so that later
// specs do not share the manager with them.
func cleanupServers(ns string) {
	Expect(client.IgnoreNotFound(k8sClient.DeleteAllOf(ctx, &servingv1alpha1.KalypsoTritonServer{}, client.InNamespace(ns)))).To(Succeed())
	Eventually(func(g Gomega) {
		var list servingv1alpha1.KalypsoTritonServerList
		g.Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		g.Expect(list.Items).To(BeEmpty())
	}).Should(Succeed())
	Expect(client.IgnoreNotFound(k8sClient.DeleteAllOf(ctx, &servingv1alpha1.KalypsoApplication{}, client.InNamespace(ns)))).To(Succeed())
	for _, obj := range []client.Object{&appsv1.Deployment{}, &policyv1.PodDisruptionBudget{}, &autoscalingv2.HorizontalPodAutoscaler{}} {
		Expect(client.IgnoreNotFound(k8sClient.DeleteAllOf(ctx, obj, client.InNamespace(ns)))).To(Succeed())
	}
	sm := &unstructured.Unstructured{}
	sm.SetGroupVersionKind(render.ServiceMonitorGVK)
	if err := k8sClient.DeleteAllOf(ctx, sm, client.InNamespace(ns)); err != nil && !meta.IsNoMatchError(err) {
		Expect(client.IgnoreNotFound(err)).To(Succeed())
	}
	// Services do not support DeleteCollection.
	var svcs corev1.ServiceList
	Expect(k8sClient.List(ctx, &svcs, client.InNamespace(ns))).To(Succeed())
	for i := range svcs.Items {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, &svcs.Items[i]))).To(Succeed())
	}
}

const serviceMonitorCRDName = "servicemonitors.monitoring.coreos.com"

// installServiceMonitorCRD installs a minimal monitoring.coreos.com/v1
// ServiceMonitor CRD (schema: preserve unknown fields) unless present,
// and waits until it is established.
func installServiceMonitorCRD() {
	createServiceMonitorCRD()
	Eventually(func(g Gomega) {
		var got apiextensionsv1.CustomResourceDefinition
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: serviceMonitorCRDName}, &got)).To(Succeed())
		established := false
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				established = true
			}
		}
		g.Expect(established).To(BeTrue())
	}).Should(Succeed())
}

// createServiceMonitorCRD creates the CRD unless it exists, without waiting.
func createServiceMonitorCRD() {
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: serviceMonitorCRDName},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "monitoring.coreos.com",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "servicemonitors", Singular: "servicemonitor",
				Kind: "ServiceMonitor", ListKind: "ServiceMonitorList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
		},
	}
	if err := k8sClient.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}
