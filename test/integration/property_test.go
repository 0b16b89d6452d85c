package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// The admission property: for every server spec of a large corpus (the
// generated cases of generator_test.go, the renderers' committed fuzz
// corpus and the render cases), the API server's verdict is final.
//
//	admitted (CRD schema and CEL, defaults applied)
//	  => rendered, or refused before anything is applied for a reason only
//	     another object decides (crossObjectRefusals, each counted)
//	  => every child accepted by a server-side dry run, the pod by Pod
//	     Security restricted without a warning
//	  => the command line accepted by the grammar of the Triton release the
//	     image runs (rendertest.CheckOutput).
//
// Zero exceptions. The in-process evaluation of the CRD schema that
// FuzzChildren relies on must agree with the API server on every spec.

// propertySeed and propertyCases fix the generated corpus; the environment
// variables PROPERTY_SEED and PROPERTY_CASES explore others.
var (
	propertySeed  = envUint("PROPERTY_SEED", 12)
	propertyCases = int(envUint("PROPERTY_CASES", 2400))
)

func envUint(name string, def uint64) uint64 {
	if v, err := strconv.ParseUint(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// crossObjectRefusals are the only refusals of admitted server specs: what
// they depend on is another object, which admission of the server cannot see.
var crossObjectRefusals = []rendertest.RefusalClass{{
	Name:   "storage settings of the Application that do not fit the URI",
	Reason: "the server's storageUri scheme and its Application's storage type, endpoint or region disagree",
	Match: func(err error) bool {
		var storageErr *render.InvalidStorageError
		return errors.As(err, &storageErr)
	},
}}

// propertyCase is one spec of the corpus with the class it exercises.
type propertyCase struct {
	class  string
	server *unstructured.Unstructured
	app    *unstructured.Unstructured
	about  string
}

// classCounts are the figures of one class.
type classCounts struct{ total, refused, rendered, crossObject int }

var _ = Describe("The admission property", func() {
	It("holds for every spec of the corpus: admitted => rendered => accepted by the API server and by Triton's grammar", func() {
		warnings := &testenv.WarningRecorder{}
		wcfg := rest.CopyConfig(cfg)
		wcfg.WarningHandlerWithContext = warnings
		c, err := client.New(wcfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fuzzNamespace, Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}}}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, ns))).To(Succeed())

		cases := propertyCorpus()
		counts := map[string]*classCounts{}
		var failures []string
		fail := func(pc propertyCase, format string, args ...any) {
			if len(failures) < 20 {
				failures = append(failures, fmt.Sprintf("%s\n    %s", fmt.Sprintf(format, args...), pc.about))
			}
		}
		for _, pc := range cases {
			n := counts[pc.class]
			if n == nil {
				n = &classCounts{}
				counts[pc.class] = n
			}
			n.total++
			app, srv, refused := admit(c, pc)
			if refused != nil {
				if !apierrors.IsInvalid(refused) && !apierrors.IsBadRequest(refused) {
					fail(pc, "the API server answered neither admitted nor invalid: %v", refused)
				}
				n.refused++
				continue
			}
			if _, inProcess := rendertest.AdmitServer(srv.DeepCopy()); inProcess != nil {
				fail(pc, "the API server admits the spec but the in-process schema refuses it: %v", inProcess)
			}
			srv.UID = "00000000-0000-0000-0000-0000000000f2"
			children, class, err := rendertest.Replay(render.Children, render.Input{Server: srv, Application: app, SecretVersion: "v1"}, crossObjectRefusals)
			switch {
			case err != nil:
				fail(pc, "admitted, then: %v", err)
				continue
			case class != "":
				n.crossObject++
				continue
			}
			warnings.Reset()
			for _, child := range children {
				if child.Object == nil || child.GVK == render.ServiceMonitorGVK { // no Prometheus Operator CRD here
					continue
				}
				if err := admitChild(ctx, c, child); err != nil {
					fail(pc, "admitted and rendered, then: %v", err)
				}
			}
			if w := warnings.All(); len(w) > 0 {
				fail(pc, "admitted and rendered objects with warnings: %v", w)
			}
			n.rendered++
		}
		report := propertyReport(cases, counts)
		AddReportEntry("admission property", report)
		GinkgoWriter.Println(report)
		Expect(failures).To(BeEmpty(), "the property fails (first %d shown):\n%s", len(failures), strings.Join(failures, "\n"))
		Expect(len(cases)).To(BeNumerically(">=", 2000))
		for class, n := range counts {
			Expect(n.refused).To(BeNumerically(">", 0), "class %q: no case refused at admission; the generator no longer exercises it", class)
			Expect(n.rendered).To(BeNumerically(">", 0), "class %q: no case admitted and rendered", class)
		}
		Expect(counts["cross-object storage"].crossObject).To(BeNumerically(">", 0), "no case reaches the cross-object refusal")
	})
})

// admit dry-runs the case's Application and server; it returns the stored
// (defaulted) objects, or the API server's refusal of either.
func admit(c client.Client, pc propertyCase) (*servingv1alpha1.KalypsoApplication, *servingv1alpha1.KalypsoTritonServer, error) {
	GinkgoHelper()
	app := pc.app.DeepCopy()
	if err := c.Create(ctx, app, client.DryRunAll); err != nil {
		return nil, nil, err
	}
	srv := pc.server.DeepCopy()
	if err := c.Create(ctx, srv, client.DryRunAll); err != nil {
		return nil, nil, err
	}
	var typedApp servingv1alpha1.KalypsoApplication
	var typedSrv servingv1alpha1.KalypsoTritonServer
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(app.Object, &typedApp)).To(Succeed())
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(srv.Object, &typedSrv)).To(Succeed())
	return &typedApp, &typedSrv, nil
}

// propertyCorpus is the generated cases, then the fuzz corpus and the
// render cases (class "fuzz corpus and render cases").
func propertyCorpus() []propertyCase {
	GinkgoHelper()
	var out []propertyCase
	for _, g := range generate(propertySeed, propertyCases) {
		out = append(out, propertyCase{class: g.class, about: g.describe(),
			server: unstructuredOf("KalypsoTritonServer", g.name, g.spec),
			app:    unstructuredOf("KalypsoApplication", "app", map[string]any{"storage": g.storage})})
	}
	for _, raw := range corpusServerSpecs() {
		var spec map[string]any
		if json.Unmarshal(raw, &spec) != nil || spec == nil {
			continue // not a server spec at all: the fuzzer's noise
		}
		uri, _ := spec["storageUri"].(string)
		app := corpusApplication(uri)
		appSpec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&app.Spec)
		Expect(err).NotTo(HaveOccurred())
		out = append(out, propertyCase{class: "fuzz corpus and render cases", about: string(raw),
			server: unstructuredOf("KalypsoTritonServer", "srv", spec),
			app:    unstructuredOf("KalypsoApplication", "app", appSpec)})
	}
	return out
}

func unstructuredOf(kind, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": servingv1alpha1.GroupVersion.String(), "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": fuzzNamespace},
		"spec":     runtime.DeepCopyJSONValue(spec),
	}}
}

// propertyReport is the corpus figures as a table, one row per class.
func propertyReport(cases []propertyCase, counts map[string]*classCounts) string {
	classes := make([]string, 0, len(counts))
	for class := range counts {
		classes = append(classes, class)
	}
	slices.Sort(classes)
	var b strings.Builder
	var sum classCounts
	fmt.Fprintf(&b, "%d specs (seed %d)\n| class | specs | refused at admission | rendered and accepted | cross-object refusal |\n| --- | --- | --- | --- | --- |\n",
		len(cases), propertySeed)
	for _, class := range classes {
		n := counts[class]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", class, n.total, n.refused, n.rendered, n.crossObject)
		sum.total, sum.refused, sum.rendered, sum.crossObject = sum.total+n.total, sum.refused+n.refused, sum.rendered+n.rendered, sum.crossObject+n.crossObject
	}
	fmt.Fprintf(&b, "| all | %d | %d | %d | %d |", sum.total, sum.refused, sum.rendered, sum.crossObject)
	return b.String()
}

// admitChild dry-runs one rendered child, and a Deployment's pod.
func admitChild(ctx context.Context, c client.Client, child render.Child) error {
	obj := child.Object.DeepCopy()
	if err := apply.Prepare(obj); err != nil {
		return err
	}
	if err := apply.Apply(ctx, c, obj, apply.Options{FieldOwner: render.FieldOwner, DryRun: true}); err != nil {
		return fmt.Errorf("the API server refuses the rendered %s: %w", child.GVK.Kind, err)
	}
	if child.GVK != render.DeploymentGVK {
		return nil
	}
	var dep appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(child.Object.Object, &dep); err != nil {
		return err
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace, Name: "srv",
		Labels: dep.Spec.Template.Labels}, Spec: dep.Spec.Template.Spec}
	// References to cluster objects (priority and runtime classes, the
	// service account) are the cluster's to provide.
	pod.Spec.PriorityClassName, pod.Spec.RuntimeClassName, pod.Spec.ServiceAccountName = "", nil, ""
	if err := c.Create(ctx, pod, client.DryRunAll); err != nil {
		return fmt.Errorf("the API server refuses the rendered pod: %w", err)
	}
	return nil
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
