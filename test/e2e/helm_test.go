package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

// The chart is installed beside the suite's own installation (config/local
// and the manager process): under other names (fullnameOverride) and in
// its own namespace, without the user roles, which config/local owns and
// the suite's manager binds. Only the CRDs are shared: the release adopts
// them, as a cluster installed with kustomize would be migrated.
const (
	helmRelease   = "kalypso-helm"
	helmNamespace = "kalypso-helm-system"
	keptProject   = "helm-kept"
	// droppedField is the KalypsoProject spec field the older chart's CRD
	// lacks; the project the spec keeps does not set it until the upgrade.
	droppedField = "displayName"
)

var kalypsoCRDs = []string{
	"kalypsoprojects.serving.kalypso.io",
	"kalypsoapplications.serving.kalypso.io",
	"kalypsotritonservers.serving.kalypso.io",
}

// helm runs the built helm binary as the cluster admin, with its own
// configuration and cache directories, and returns its output.
func helm(home string, args ...string) string {
	cmd := exec.Command(os.Getenv("HELM"), append([]string{"--kubeconfig", adminKube}, args...)...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	out, err := cmd.CombinedOutput()
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "helm %v: %s", args, out)
	return string(out)
}

// olderChart writes a copy of the chart into dir as version 0.0.9, whose
// KalypsoProject CRD lacks droppedField, and returns the chart's path and
// that CRD's file.
func olderChart(dir string) (chart, crd string) {
	chart = filepath.Join(dir, "kalypso-serving")
	Expect(os.CopyFS(chart, os.DirFS(testenv.Path("charts", "kalypso-serving")))).To(Succeed())
	chartFile := filepath.Join(chart, "Chart.yaml")
	data, err := os.ReadFile(chartFile)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(data)).To(ContainSubstring("\nversion: 0.1.0\n"))
	Expect(os.WriteFile(chartFile, []byte(strings.Replace(string(data), "\nversion: 0.1.0\n", "\nversion: 0.0.9\n", 1)), 0o644)).To(Succeed())

	crd = filepath.Join(chart, "files", "crds", "serving.kalypso.io_kalypsoprojects.yaml")
	data, err = os.ReadFile(crd)
	Expect(err).NotTo(HaveOccurred())
	var obj map[string]any
	Expect(yaml.Unmarshal(data, &obj)).To(Succeed())
	for _, v := range obj["spec"].(map[string]any)["versions"].([]any) {
		props := v.(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)["properties"].(map[string]any)
		spec := props["spec"].(map[string]any)["properties"].(map[string]any)
		Expect(spec).To(HaveKey(droppedField))
		delete(spec, droppedField)
	}
	data, err = yaml.Marshal(obj)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(crd, data, 0o644)).To(Succeed())
	return chart, crd
}

// projectSchemaHasDroppedField reports whether the cluster's KalypsoProject
// CRD declares droppedField.
func projectSchemaHasDroppedField() bool {
	out := kubectl("get", "crd", kalypsoCRDs[0], "-o",
		"jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties."+droppedField+".type}")
	return out != ""
}

func keptProjectNow(g Gomega) *servingv1alpha1.KalypsoProject {
	var p servingv1alpha1.KalypsoProject
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: keptProject}, &p)).To(Succeed())
	return &p
}

func projectReady(p *servingv1alpha1.KalypsoProject) bool {
	return meta.IsStatusConditionTrue(p.Status.Conditions, servingv1alpha1.ConditionReady)
}

var _ = Describe("The Helm chart, taking over an installation made from config/", Ordered, func() {
	var (
		home    string
		values  []string
		keptUID types.UID
	)

	BeforeAll(func() {
		Expect(os.Getenv("HELM")).NotTo(BeEmpty(), "HELM is not set: run the suite with make test-e2e")
		home = GinkgoT().TempDir()
		values = []string{"--namespace", helmNamespace, "--set", "fullnameOverride=" + helmRelease,
			"--set", "rbac.userRoles=false", "--set", "grafanaDashboards.enabled=true"}
	})

	AfterAll(func() {
		// Whatever happened above: no release, no kept project, and the
		// CRDs exactly as config/ installs them, without the adoption marks.
		_, _ = exec.Command(os.Getenv("HELM"), "--kubeconfig", adminKube, "uninstall", helmRelease,
			"--namespace", helmNamespace, "--ignore-not-found").CombinedOutput()
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, fixture.Project(keptProject)))).To(Succeed())
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, fixture.Namespace(helmNamespace)))).To(Succeed())
		crds, err := exec.Command(os.Getenv("KUSTOMIZE"), "build", testenv.Path("config", "crd")).Output()
		Expect(err).NotTo(HaveOccurred())
		manifest := filepath.Join(GinkgoT().TempDir(), "crds.yaml")
		Expect(os.WriteFile(manifest, crds, 0o600)).To(Succeed())
		kubectl("apply", "--server-side", "--force-conflicts", "-f", manifest)
		kubectl(append([]string{"annotate", "crd"}, append(kalypsoCRDs,
			"meta.helm.sh/release-name-", "meta.helm.sh/release-namespace-")...)...)
		kubectl(append([]string{"label", "crd"}, append(kalypsoCRDs, "app.kubernetes.io/managed-by-")...)...)
		Expect(projectSchemaHasDroppedField()).To(BeTrue())
	})

	It("starts from CRDs of an older config/ and a user's project", func() {
		p := fixture.Project(keptProject, fixture.WithOwner("team-helm"),
			fixture.WithEnvironments(servingv1alpha1.Environment{Name: "dev"}))
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Eventually(keptProjectNow).Should(Satisfy(projectReady))
		keptUID = keptProjectNow(Default).UID

		// An older release's config/crd, applied the way `make install` does:
		// the KalypsoProject CRD without droppedField.
		_, crd := olderChart(GinkgoT().TempDir())
		kubectl("apply", "--server-side", "--force-conflicts", "-f", crd)
		Eventually(projectSchemaHasDroppedField).Should(BeFalse())
	})

	It("adopts those CRDs into a release of the older chart (chart README: from kustomize to Helm)", func() {
		kubectl(append([]string{"annotate", "crd", "--overwrite"}, append(kalypsoCRDs,
			"meta.helm.sh/release-name="+helmRelease, "meta.helm.sh/release-namespace="+helmNamespace)...)...)
		kubectl(append([]string{"label", "crd", "--overwrite"}, append(kalypsoCRDs, "app.kubernetes.io/managed-by=Helm")...)...)

		chart, _ := olderChart(GinkgoT().TempDir())
		helm(home, append([]string{"install", helmRelease, chart, "--create-namespace"}, values...)...)
		Expect(helm(home, "list", "--namespace", helmNamespace)).To(MatchRegexp(helmRelease + `\s+` + helmNamespace + `\s+1\s+.*deployed\s+kalypso-serving-0\.0\.9\s+dev`))
		Expect(projectSchemaHasDroppedField()).To(BeFalse())
		Expect(helm(home, "get", "manifest", helmRelease, "--namespace", helmNamespace)).To(And(
			ContainSubstring("helm.sh/resource-policy: keep"), ContainSubstring("name: "+kalypsoCRDs[0])))

		kubectl("-n", helmNamespace, "get", "deployment", helmRelease+"-controller-manager")
		kubectl("get", "clusterrole", helmRelease+"-manager")
		kubectl("get", "clusterrolebinding", helmRelease+"-manager-rolebinding")
		kubectl("-n", helmNamespace, "get", "configmap", helmRelease+"-dashboard-operator")
		kubectl("get", "validatingadmissionpolicy", helmRelease+"-reserved-namespaces")
		Expect(keptProjectNow(Default).UID).To(Equal(keptUID))
	})

	It("updates the CRD with helm upgrade to the current chart", func() {
		helm(home, append([]string{"upgrade", helmRelease, testenv.Path("charts", "kalypso-serving")}, values...)...)
		Expect(helm(home, "list", "--namespace", helmNamespace)).To(MatchRegexp(helmRelease + `\s+` + helmNamespace + `\s+2\s+.*deployed\s+kalypso-serving-0\.1\.0\s+dev`))
		Eventually(projectSchemaHasDroppedField).Should(BeTrue())

		// The field is stored again (while it was missing, the API server
		// would have pruned it), and the project is the user's own still.
		Eventually(func(g Gomega) {
			kubectl("patch", "kalypsoproject", keptProject, "--type=merge", "-p", `{"spec":{"`+droppedField+`":"Kept through helm"}}`)
			g.Expect(keptProjectNow(g).Spec.DisplayName).To(Equal("Kept through helm"))
		}).Should(Succeed())
		p := keptProjectNow(Default)
		Expect(p.UID).To(Equal(keptUID))
		Expect(p.Spec.Owner).To(Equal("team-helm"))
	})

	It("uninstalls, leaving the CRDs and the users' objects, and removing the rest of the release", func() {
		helm(home, "uninstall", helmRelease, "--namespace", helmNamespace, "--wait")
		for _, crd := range kalypsoCRDs {
			kubectl("get", "crd", crd)
		}
		Expect(projectSchemaHasDroppedField()).To(BeTrue())
		Eventually(keptProjectNow).Should(And(HaveField("UID", keptUID),
			HaveField("Spec.DisplayName", "Kept through helm"), Satisfy(projectReady)))
		var env corev1.Namespace
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: keptProject + "-dev"}, &env)).To(Succeed())
		Expect(env.DeletionTimestamp).To(BeNil())

		for _, gone := range [][]string{
			{"-n", helmNamespace, "deployment", helmRelease + "-controller-manager"},
			{"clusterrole", helmRelease + "-manager"},
			{"clusterrolebinding", helmRelease + "-manager-rolebinding"},
			{"validatingadmissionpolicy", helmRelease + "-reserved-namespaces"},
		} {
			out, err := kubectlMayFail(append([]string{"get"}, gone...)...)
			Expect(err).To(HaveOccurred(), "%v is still there: %s", gone, out)
			Expect(out).To(ContainSubstring("NotFound"))
		}
		// The suite's own installation is untouched.
		kubectl("get", "clusterrole", "kalypso-serving-manager", "kalypso-serving-admin")
		AddReportEntry("helm", "install 0.0.9 over adopted CRDs, upgrade to 0.1.0 added spec."+droppedField+
			", uninstall kept the 3 CRDs and the project "+keptProject)
	})
})
