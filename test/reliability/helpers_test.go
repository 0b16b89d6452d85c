package reliability

import (
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
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
)

const (
	appName    = "app"
	secretName = "creds"
)

// s3Keys are the keys of every storage Secret of the suite.
var s3Keys = []string{
	servingv1alpha1.SecretKeyAWSAccessKeyID,
	servingv1alpha1.SecretKeyAWSSecretAccessKey,
	servingv1alpha1.SecretKeyAWSSessionToken,
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

func createNamespace(name string) string {
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	return name
}

// createStorage creates the S3 Secret (value(key) for each key) and the
// Application using it, and waits for the Application to be Ready.
func createStorage(ns string, value func(key string) string) {
	data := map[string][]byte{}
	for _, k := range s3Keys {
		data[k] = []byte(value(k))
	}
	Expect(k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName}, Data: data})).To(Succeed())
	Expect(k8sClient.Create(ctx, &servingv1alpha1.KalypsoApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: appName},
		Spec: servingv1alpha1.KalypsoApplicationSpec{Storage: &servingv1alpha1.Storage{
			Type: servingv1alpha1.StorageS3, SecretRef: &servingv1alpha1.LocalObjectReference{Name: secretName}, Region: "eu-west-1"}},
	})).To(Succeed())
	Eventually(func(g Gomega) {
		var app servingv1alpha1.KalypsoApplication
		g.Expect(k8sClient.Get(ctx, key(ns, appName), &app)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(app.Status.Conditions, servingv1alpha1.ConditionReady)).To(BeTrue())
	}).Should(Succeed())
}

func fakeValue(k string) string { return "not-a-real-" + strings.ToLower(k) }

// newServer returns a server with 2 replicas (so it has a PDB).
func newServer(ns, name string, mutate ...func(*servingv1alpha1.KalypsoTritonServer)) *servingv1alpha1.KalypsoTritonServer {
	srv := &servingv1alpha1.KalypsoTritonServer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: servingv1alpha1.KalypsoTritonServerSpec{
			ApplicationRef: servingv1alpha1.LocalObjectReference{Name: appName},
			StorageURI:     "s3://models/" + name,
			Replicas:       ptr.To[int32](2),
		},
	}
	for _, m := range mutate {
		m(srv)
	}
	return srv
}

func withAutoscaling(minReplicas, maxReplicas int32) func(*servingv1alpha1.KalypsoTritonServer) {
	return func(s *servingv1alpha1.KalypsoTritonServer) {
		s.Spec.Autoscaling = &servingv1alpha1.Autoscaling{MinReplicas: minReplicas, MaxReplicas: maxReplicas,
			TargetCPUUtilizationPercentage: ptr.To[int32](80)}
	}
}

func withServiceMonitor(s *servingv1alpha1.KalypsoTritonServer) {
	s.Spec.Observability = &servingv1alpha1.Observability{Metrics: &servingv1alpha1.Metrics{
		ServiceMonitor: &servingv1alpha1.ServiceMonitor{Enabled: true, Interval: "30s"}}}
}

// createServers creates n servers named prefix-000.. and returns their names.
func createServers(ns, prefix string, n int, mutate func(i int, s *servingv1alpha1.KalypsoTritonServer)) []string {
	names := make([]string, 0, n)
	for i := range n {
		srv := newServer(ns, fmt.Sprintf("%s-%03d", prefix, i))
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

// markAvailable plays the Deployment controller for every Deployment of
// the servers: it reports the current generation rolled out and available.
func markAvailable(ns string, names ...string) {
	for _, name := range names {
		Eventually(func(g Gomega) {
			var d appsv1.Deployment
			g.Expect(k8sClient.Get(ctx, key(ns, name), &d)).To(Succeed())
			n := ptr.Deref(d.Spec.Replicas, 1)
			now := metav1.Now()
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n,
				ReadyReplicas: n, AvailableReplicas: n,
				Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
					Reason: "MinimumReplicasAvailable", LastUpdateTime: now, LastTransitionTime: now}}}
			g.Expect(k8sClient.Status().Update(ctx, &d)).To(Succeed())
		}).Should(Succeed())
	}
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
			g.Expect(isReady(s)).To(BeTrue(), "server %s is not Ready: generation %d, status %+v", n, s.Generation, s.Status)
		}
	}).WithTimeout(timeout).WithPolling(250 * time.Millisecond).Should(Succeed())
}

// countReady waits up to timeout for the servers to be Ready and returns
// how many are.
func countReady(ns string, names []string, timeout time.Duration) int {
	n := 0
	waitFor(timeout, func() bool {
		var list servingv1alpha1.KalypsoTritonServerList
		Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
		n = 0
		for i := range list.Items {
			if slices.Contains(names, list.Items[i].Name) && isReady(&list.Items[i]) {
				n++
			}
		}
		return n == len(names)
	})
	return n
}

// waitFor polls cond every 100ms until it holds or timeout passes, and
// reports whether it held. Use it where a figure must be reported either way.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// isReady reports whether the server is Ready for its current generation.
func isReady(s *servingv1alpha1.KalypsoTritonServer) bool {
	return s.Status.ObservedGeneration == s.Generation &&
		meta.IsStatusConditionTrue(s.Status.Conditions, servingv1alpha1.ConditionReady)
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

// percentile returns the p-th percentile (0 < p <= 100) by nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// figure reports a spec's figure as a Ginkgo report entry and prints it as
// one quotable line.
func figure(name, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	AddReportEntry("FIGURE "+name, line)
	fmt.Printf("FIGURE %s: %s\n", name, line)
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
