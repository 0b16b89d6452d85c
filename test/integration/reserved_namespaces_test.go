package integration

import (
	"os"
	"os/exec"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

const (
	operatorNS        = "kalypso-serving-system"
	reservedNSConfig  = "kalypso-serving-reserved-namespaces"
	policyLoadTimeout = 30 * time.Second
)

// admissionPolicyManifests returns the objects of config/admission-policy:
// built with kustomize when KUSTOMIZE names a binary (as the Makefile
// sets it), which also checks the kustomization, else read from its files.
func admissionPolicyManifests() []*unstructured.Unstructured {
	dir := testenv.Path("config", "admission-policy")
	bin := os.Getenv("KUSTOMIZE")
	if bin == "" {
		return readManifests(dir)
	}
	out, err := exec.Command(bin, "build", dir).Output()
	Expect(err).NotTo(HaveOccurred(), "kustomize build %s", dir)
	objs, err := testenv.DecodeObjects(out)
	Expect(err).NotTo(HaveOccurred(), "decoding kustomize output")
	return objs
}

// projectIn returns a project named name with one environment env, placed
// in namespace when it is not empty.
func projectIn(name, env, namespace string) *unstructured.Unstructured {
	e := map[string]any{"name": env}
	if namespace != "" {
		e["namespace"] = namespace
	}
	return with(with(validProject(), "metadata.name", name), "spec.environments", []any{e})
}

// refusedByPolicy fails unless err is the reserved-namespaces policy's refusal.
func refusedByPolicy(g Gomega, err error) {
	g.ExpectWithOffset(1, err).To(HaveOccurred())
	g.ExpectWithOffset(1, apierrors.IsForbidden(err)).To(BeTrue(), "want a Forbidden refusal, got %v", err)
	g.ExpectWithOffset(1, err.Error()).To(ContainSubstring("ValidatingAdmissionPolicy '" + reservedNSConfig + "'"))
}

var _ = Describe("The reserved-namespaces admission policy", Ordered, func() {
	var installed []*unstructured.Unstructured

	BeforeAll(func() {
		err := k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}})
		if !apierrors.IsAlreadyExists(err) {
			Expect(err).NotTo(HaveOccurred())
		}
		installed = admissionPolicyManifests()
		kinds := map[string]bool{}
		for _, o := range installed {
			kinds[o.GetKind()] = true
			Expect(k8sClient.Create(ctx, o)).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
		}
		Expect(kinds).To(Equal(map[string]bool{"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "ConfigMap": true}))

		By("waiting until the policy refuses the operator's own namespace")
		Eventually(func(g Gomega) {
			refusedByPolicy(g, k8sClient.Create(ctx, projectIn("proj", "dev", operatorNS), client.DryRunAll))
		}, policyLoadTimeout, 100*time.Millisecond).Should(Succeed())
	})

	AfterAll(func() {
		for _, o := range installed {
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, o))).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
		}
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, projectIn("ordinary", "dev", "")))).To(Succeed())
		By("waiting until the policy no longer applies, so that other specs are not affected")
		Eventually(func() error {
			return k8sClient.Create(ctx, projectIn("proj", "dev", operatorNS), client.DryRunAll)
		}, policyLoadTimeout, 100*time.Millisecond).Should(Succeed())
	})

	It("is ready to apply: the ConfigMap in the operator's namespace, the binding pointing at it", func() {
		for _, o := range installed {
			switch o.GetKind() {
			case "ConfigMap":
				Expect(o.GetNamespace()).To(Equal(operatorNS))
				Expect(o.GetName()).To(Equal(reservedNSConfig))
			case "ValidatingAdmissionPolicyBinding":
				Expect(o.GetNamespace()).To(BeEmpty())
				ref, _, _ := unstructured.NestedStringMap(o.Object, "spec", "paramRef")
				Expect(ref).To(Equal(map[string]string{"name": reservedNSConfig, "namespace": operatorNS, "parameterNotFoundAction": "Deny"}))
			case "ValidatingAdmissionPolicy":
				Expect(o.GetNamespace()).To(BeEmpty())
			}
		}
	})

	It("refuses an environment whose namespace is the operator's own, naming both", func() {
		err := k8sClient.Create(ctx, projectIn("proj", "dev", operatorNS), client.DryRunAll)
		refusedByPolicy(Default, err)
		Expect(err.Error()).To(ContainSubstring("environment dev would use namespace " + operatorNS))
		Expect(err.Error()).To(ContainSubstring("reserved (ConfigMap " + operatorNS + "/" + reservedNSConfig + ")"))
	})

	It("refuses an environment whose default namespace <project>-<environment> is reserved", func() {
		err := k8sClient.Create(ctx, projectIn("kalypso-serving", "system", ""), client.DryRunAll)
		refusedByPolicy(Default, err)
		Expect(err.Error()).To(ContainSubstring("environment system would use namespace " + operatorNS))
	})

	It("refuses a namespace with a reserved prefix, and names every offending environment", func() {
		p := with(validProject(), "spec.environments", yamlValue(`[{name: dev}, {name: ops, namespace: openshift-monitoring}, {name: prod, namespace: openshift-ingress}]`))
		err := k8sClient.Create(ctx, p, client.DryRunAll)
		refusedByPolicy(Default, err)
		Expect(err.Error()).To(And(
			ContainSubstring("environment ops would use namespace openshift-monitoring"),
			ContainSubstring("environment prod would use namespace openshift-ingress"),
			Not(ContainSubstring("environment dev"))))
	})

	It("admits an ordinary project, and refuses an update that moves it into a reserved namespace", func() {
		Expect(k8sClient.Create(ctx, projectIn("ordinary", "dev", ""), client.DryRunAll)).To(Succeed())
		Expect(k8sClient.Create(ctx, projectIn("openshift", "dev", "team-openshift"), client.DryRunAll)).To(Succeed())

		p := projectIn("ordinary", "dev", "")
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Expect(unstructured.SetNestedSlice(p.Object, []any{map[string]any{"name": "dev", "namespace": operatorNS}}, "spec", "environments")).To(Succeed())
		err := k8sClient.Update(ctx, p)
		refusedByPolicy(Default, err)
		Expect(err.Error()).To(ContainSubstring("environment dev would use namespace " + operatorNS))
	})

	It("refuses a namespace once it is added to the ConfigMap", func() {
		Expect(k8sClient.Create(ctx, projectIn("proj", "dev", "monitoring"), client.DryRunAll)).To(Succeed())

		var cm corev1.ConfigMap
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: operatorNS, Name: reservedNSConfig}, &cm)).To(Succeed())
		cm.Data["namespaces"] += "cert-manager, monitoring\n"
		Expect(k8sClient.Update(ctx, &cm)).To(Succeed())

		Eventually(func(g Gomega) {
			err := k8sClient.Create(ctx, projectIn("proj", "dev", "monitoring"), client.DryRunAll)
			refusedByPolicy(g, err)
			g.Expect(err.Error()).To(ContainSubstring("environment dev would use namespace monitoring"))
		}, policyLoadTimeout, 100*time.Millisecond).Should(Succeed())
		refusedByPolicy(Default, k8sClient.Create(ctx, projectIn("proj", "dev", "cert-manager"), client.DryRunAll))
		refusedByPolicy(Default, k8sClient.Create(ctx, projectIn("proj", "dev", operatorNS), client.DryRunAll))
		Expect(k8sClient.Create(ctx, projectIn("proj", "dev", "monitoring-team"), client.DryRunAll)).To(Succeed())
	})

	It("refuses every project while the ConfigMap is missing, so the protection cannot lapse", func() {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNS, Name: reservedNSConfig}}
		Expect(k8sClient.Delete(ctx, cm)).To(Succeed())
		Eventually(func(g Gomega) {
			err := k8sClient.Create(ctx, projectIn("ordinary-two", "dev", ""), client.DryRunAll)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring("no params found"))
		}, policyLoadTimeout, 100*time.Millisecond).Should(Succeed())
	})
})
