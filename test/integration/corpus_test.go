package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

const fuzzNamespace = "fuzz"

// The fuzz corpus of the renderers (internal/render/testdata/fuzz, plus the
// render cases it is seeded with) replayed against the API server: every
// server spec the API server admits (CRD schema and CEL, defaults applied)
// renders into children the API server admits too (server-side apply, dry
// run) and into a pod that Pod Security restricted admits without a
// warning; or the renderer refuses it with a typed error, which the
// operator reports as a condition. `make fuzz` grows the corpus.
var _ = Describe("The renderers' fuzz corpus", func() {
	It("renders every admitted server spec into objects the API server admits, without warnings", func() {
		warnings := &testenv.WarningRecorder{}
		wcfg := rest.CopyConfig(cfg)
		wcfg.WarningHandlerWithContext = warnings
		c, err := client.New(wcfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fuzzNamespace, Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}}}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, ns))).To(Succeed())

		specs := corpusServerSpecs()
		refused, invalid, rendered := 0, 0, 0
		for _, serverSpec := range specs {
			var spec servingv1alpha1.KalypsoTritonServerSpec
			if json.Unmarshal(serverSpec, &spec) != nil {
				refused++
				continue
			}
			srv := &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace, Name: "srv"}, Spec: spec}
			if err := c.Create(ctx, srv, client.DryRunAll); err != nil {
				GinkgoWriter.Printf("refused at admission: %v\n", err)
				refused++ // the operator never sees it
				continue
			}
			srv.UID = "00000000-0000-0000-0000-0000000000f2"
			children, err := render.Children(render.Input{Server: srv, Application: corpusApplication(spec.StorageURI), SecretVersion: "v1"})
			var specErr *render.InvalidSpecError
			var storageErr *render.InvalidStorageError
			if errors.As(err, &specErr) || errors.As(err, &storageErr) {
				GinkgoWriter.Printf("refused by the renderer: %v\n", err)
				invalid++
				continue
			}
			Expect(err).NotTo(HaveOccurred(), "an untyped render error for admitted spec %s", serverSpec)
			warnings.Reset()
			for _, child := range children {
				if child.Object != nil && child.GVK != render.ServiceMonitorGVK { // no Prometheus Operator CRD here
					admitChild(ctx, c, child, serverSpec)
				}
			}
			Expect(warnings.All()).To(BeEmpty(), "admitted spec %s rendered objects with warnings", serverSpec)
			rendered++
		}
		Expect(rendered).To(BeNumerically(">=", 4), "too few corpus specs reach the renderers: of %d, %d refused at admission, %d by the renderer",
			len(specs), refused, invalid)
		AddReportEntry("fuzz corpus", fmt.Sprintf("%d specs: %d rendered and admitted, %d refused at admission, %d refused by the renderer",
			len(specs), rendered, refused, invalid))
	})
})

// admitChild dry-runs one rendered child, and a Deployment's pod.
func admitChild(ctx context.Context, c client.Client, child render.Child, serverSpec []byte) {
	GinkgoHelper()
	obj := child.Object.DeepCopy()
	Expect(apply.Prepare(obj)).To(Succeed())
	Expect(apply.Apply(ctx, c, obj, apply.Options{FieldOwner: render.FieldOwner, DryRun: true})).To(Succeed(),
		"admitted spec %s rendered a %s the API server refuses", serverSpec, child.GVK.Kind)
	if child.GVK != render.DeploymentGVK {
		return
	}
	var dep appsv1.Deployment
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(child.Object.Object, &dep)).To(Succeed())
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace, Name: "srv",
		Labels: dep.Spec.Template.Labels}, Spec: dep.Spec.Template.Spec}
	// References to cluster objects (priority and runtime classes, the
	// service account) are the cluster's to provide.
	pod.Spec.PriorityClassName, pod.Spec.RuntimeClassName, pod.Spec.ServiceAccountName = "", nil, ""
	Expect(c.Create(ctx, pod, client.DryRunAll)).To(Succeed(), "admitted spec %s rendered a pod the API server refuses", serverSpec)
}

// corpusApplication is an Application whose storage fits the URI's scheme:
// a MinIO endpoint for s3, a credentials Secret for the object stores.
func corpusApplication(uri string) *servingv1alpha1.KalypsoApplication {
	storage := &servingv1alpha1.Storage{SecretRef: &servingv1alpha1.LocalObjectReference{Name: "creds"}}
	if strings.HasPrefix(uri, "s3://") {
		storage.Endpoint = "http://minio:9000"
	}
	return &servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace, Name: "app"},
		Spec: servingv1alpha1.KalypsoApplicationSpec{Storage: storage}}
}

// corpusServerSpecs returns the server specs of the render cases and of
// the committed FuzzChildren corpus (its first value is the server spec).
func corpusServerSpecs() [][]byte {
	GinkgoHelper()
	var out [][]byte
	cases, err := filepath.Glob(testenv.Path("internal", "render", "testdata", "cases", "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	for _, p := range cases {
		data, err := os.ReadFile(p)
		Expect(err).NotTo(HaveOccurred())
		m, err := preview.Read(bytes.NewReader(data))
		Expect(err).NotTo(HaveOccurred(), p)
		for _, srv := range m.Servers {
			spec, err := json.Marshal(srv.Spec)
			Expect(err).NotTo(HaveOccurred())
			out = append(out, spec)
		}
	}
	corpus, err := filepath.Glob(testenv.Path("internal", "render", "testdata", "fuzz", "FuzzChildren", "*"))
	Expect(err).NotTo(HaveOccurred())
	for _, p := range corpus {
		data, err := os.ReadFile(p)
		Expect(err).NotTo(HaveOccurred())
		lines := strings.Split(string(data), "\n")
		Expect(len(lines)).To(BeNumerically(">=", 2), p)
		quoted, ok := strings.CutPrefix(lines[1], "[]byte(")
		Expect(ok).To(BeTrue(), "%s: the first value is not []byte", p)
		spec, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		Expect(err).NotTo(HaveOccurred(), p)
		out = append(out, []byte(spec))
	}
	return out
}
