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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/render/rendertest"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

const fuzzNamespace = "fuzz"

// The fuzz corpus of the renderers (internal/render/testdata/fuzz, plus the
// render cases it is seeded with) replayed against the API server: every
// server spec the API server admits (CRD schema and CEL, defaults applied)
// renders into children the API server admits too (server-side apply, dry
// run) and into a pod that Pod Security restricted admits without a
// warning. The renderer may refuse an admitted spec only in one of the
// classes of admittedRefusals; every other refusal, a grammar violation of
// the renderer's own output and an untyped error fail the replay
// (rendertest.Replay). The in-process evaluation of the CRD schema that
// FuzzChildren relies on must agree with the API server on every spec.
// `make fuzz` grows the corpus.

// admittedRefusals are the refusals of admitted specs that only admission
// can close (the admission issue): each is a rule the CRD does not have yet.
// Every class must still occur in the corpus, so a class that admission
// closes is noticed and removed here. Keep the list short.
var admittedRefusals = []rendertest.RefusalClass{}

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
		undecodable, refused, rendered := 0, 0, 0
		byClass := map[string]int{}
		for _, serverSpec := range specs {
			var spec servingv1alpha1.KalypsoTritonServerSpec
			if json.Unmarshal(serverSpec, &spec) != nil {
				undecodable++
				continue
			}
			srv := &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace, Name: "srv"}, Spec: spec}
			_, inProcess := rendertest.AdmitServer(srv)
			var schemaRefusal *rendertest.AdmissionError
			if inProcess != nil && !errors.As(inProcess, &schemaRefusal) {
				Fail(fmt.Sprintf("evaluating the CRD schema in-process: %v", inProcess))
			}
			if err := c.Create(ctx, srv, client.DryRunAll); err != nil {
				Expect(apierrors.IsInvalid(err)).To(BeTrue(), "spec %s: %v", serverSpec, err)
				Expect(inProcess).To(HaveOccurred(), "the API server refuses spec %s (%v) but the in-process schema admits it", serverSpec, err)
				GinkgoWriter.Printf("refused at admission: %v\n", err)
				refused++ // the operator never sees it
				continue
			}
			Expect(inProcess).NotTo(HaveOccurred(), "the API server admits spec %s but the in-process schema refuses it", serverSpec)
			srv.UID = "00000000-0000-0000-0000-0000000000f2"
			children, class, err := rendertest.Replay(render.Children, render.Input{Server: srv,
				Application: corpusApplication(spec.StorageURI), SecretVersion: "v1"}, admittedRefusals)
			Expect(err).NotTo(HaveOccurred(), "admitted spec %s", serverSpec)
			if class != "" {
				GinkgoWriter.Printf("admitted, refused by the renderer (%s): %s\n", class, serverSpec)
				byClass[class]++
				continue
			}
			warnings.Reset()
			for _, child := range children {
				if child.Object != nil && child.GVK != render.ServiceMonitorGVK { // no Prometheus Operator CRD here
					admitChild(ctx, c, child, serverSpec)
				}
			}
			Expect(warnings.All()).To(BeEmpty(), "admitted spec %s rendered objects with warnings", serverSpec)
			rendered++
		}
		for _, class := range admittedRefusals {
			Expect(byClass[class.Name]).To(BeNumerically(">", 0),
				"no corpus spec falls into the allow-listed refusal %q any more: if admission now closes it, "+
					"remove it from admittedRefusals; otherwise add a corpus input for it", class.Name)
		}
		allowed := 0
		for _, n := range byClass {
			allowed += n
		}
		Expect(rendered).To(BeNumerically(">=", 4), "too few corpus specs reach the renderers: of %d, %d refused at admission, %d by the renderer",
			len(specs), refused, allowed)
		AddReportEntry("fuzz corpus", fmt.Sprintf("%d specs: %d rendered and admitted, %d refused at admission, "+
			"%d not server specs, %d admitted but refused by the renderer in allow-listed classes %v",
			len(specs), rendered, refused, undecodable, allowed, byClass))
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
