package render_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/render/rendertest"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// The checks that guard the renderers (the fuzz property, the golden
// comparison and the corpus replay's verdict) must fail when the renderer
// is wrong. Each broken renderer below wraps render.Children with one kind
// of bug; every check is run on it, and on the real renderer as a control.

// editArgs returns a renderer that changes the tritonserver arguments of
// the Deployment render.Children renders.
func editArgs(edit func([]string) []string) rendertest.Renderer {
	return func(in render.Input) ([]render.Child, error) {
		children, err := render.Children(in)
		if err != nil {
			return nil, err
		}
		containers, _, _ := unstructured.NestedSlice(children[0].Object.Object, "spec", "template", "spec", "containers")
		c := containers[0].(map[string]any)
		args, _, _ := unstructured.NestedStringSlice(c, "args")
		_ = unstructured.SetNestedStringSlice(c, edit(args), "args")
		_ = unstructured.SetNestedSlice(children[0].Object.Object, containers, "spec", "template", "spec", "containers")
		return children, nil
	}
}

var brokenRenderers = map[string]rendertest.Renderer{
	// Renders an option Triton does not have: tritonserver exits at start.
	"emits an unknown Triton option": editArgs(func(a []string) []string {
		return append(a, "--no-such-option=1")
	}),
	// Drops --http-port: Triton listens on 8000 whatever the spec says.
	"drops the HTTP port option": editArgs(func(a []string) []string {
		return slices.DeleteFunc(a, func(s string) bool { return strings.HasPrefix(s, "--http-port=") })
	}),
	// Renders a value Triton refuses (a switch given a value).
	"gives a value to a switch": editArgs(func(a []string) []string {
		return append(a, "--disable-auto-complete-config=true")
	}),
	// Its own output breaks the grammar, and the final check in render.Args
	// says so: the error is a *GrammarViolationError.
	"fails its own grammar check": func(in render.Input) ([]render.Child, error) {
		if _, err := render.Children(in); err != nil {
			return nil, err
		}
		return nil, render.CheckRenderedArgs(triton.Newest(), []string{"--model-repository=/m", "--grpc-port=8001", "--grpc-port=9001"})
	},
}

// refuseAll refuses every spec as invalid. The fuzz property tolerates
// refusals by design (whether a refused spec was admitted is the corpus
// replay's question), so it is checked against the golden comparison and
// the replay only.
func refuseAll(render.Input) ([]render.Child, error) {
	return nil, &render.InvalidSpecError{Reason: "refused by a broken renderer"}
}

// brokenCase is a render case and its golden file.
func brokenCase(t *testing.T) (manifests, golden []byte, in render.Input) {
	t.Helper()
	manifests, err := os.ReadFile(filepath.Join("testdata", "cases", "gcs-poll.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err = os.ReadFile(filepath.Join("testdata", "golden", "gcs-poll.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := preview.Read(bytes.NewReader(manifests))
	if err != nil || len(m.Servers) != 1 {
		t.Fatalf("want one server in the case: %v", err)
	}
	srv := m.Servers[0]
	// The stored object, as the reconciler and the corpus replay see it.
	stored, err := rendertest.AdmitServer(srv)
	if err != nil {
		t.Fatalf("the case's server must be admitted: %v", err)
	}
	stored.UID = fuzzUID
	return manifests, golden, render.Input{Server: stored,
		Application: m.Applications[srv.Namespace+"/"+srv.Spec.ApplicationRef.Name], SecretVersion: "v1"}
}

func TestChecksFailOnBrokenRenderers(t *testing.T) {
	manifests, golden, in := brokenCase(t)
	admit := admitServer(t)(t)
	anyRefusal := []rendertest.RefusalClass{{Name: "anything", Reason: "as lax as an allow-list can be", Match: func(error) bool { return true }}}

	t.Run("control: the real renderer passes every check", func(t *testing.T) {
		if err := rendertest.CheckChildren(render.Children, in, admit); err != nil {
			t.Errorf("fuzz property: %v", err)
		}
		if _, err := rendertest.CompareGolden(render.Children, manifests, golden); err != nil {
			t.Errorf("golden: %v", err)
		}
		if _, class, err := rendertest.Replay(render.Children, in, nil); err != nil || class != "" {
			t.Errorf("replay: %q, %v", class, err)
		}
	})
	for name, broken := range brokenRenderers {
		t.Run("a renderer that "+name+" fails", func(t *testing.T) {
			if err := rendertest.CheckChildren(broken, in, admit); err == nil {
				t.Error("the fuzz property passes it")
			} else {
				t.Logf("fuzz property: %v", err)
			}
			if _, err := rendertest.CompareGolden(broken, manifests, golden); err == nil {
				t.Error("the golden comparison passes it")
			} else {
				t.Logf("golden: %v", err)
			}
			if _, _, err := rendertest.Replay(broken, in, anyRefusal); err == nil {
				t.Error("the corpus replay passes it, even with an allow-list that takes any refusal")
			} else {
				t.Logf("replay: %v", err)
			}
		})
	}
	t.Run("a renderer that refuses every spec fails", func(t *testing.T) {
		if _, err := rendertest.CompareGolden(refuseAll, manifests, golden); err == nil {
			t.Error("the golden comparison passes it")
		}
		if _, _, err := rendertest.Replay(refuseAll, in, nil); err == nil {
			t.Error("the corpus replay passes it")
		}
	})
}

// A grammar violation passes the fuzz property only for a spec the CRD
// schema refuses; the renderer never sees such a spec.
func TestFuzzPropertyToleratesGrammarViolationsOnlyForRefusedSpecs(t *testing.T) {
	_, _, in := brokenCase(t)
	admit := admitServer(t)(t)
	broken := brokenRenderers["fails its own grammar check"]
	refused := in
	refused.Server = in.Server.DeepCopy()
	refused.Server.Spec.Networking.GRPCPort = refused.Server.Spec.Networking.HTTPPort // CEL: ports must differ
	if admit(refused.Server) == nil {
		t.Fatal("the schema should refuse equal ports")
	}
	if err := rendertest.CheckChildren(broken, refused, admit); err != nil {
		t.Errorf("a grammar violation on a refused spec fails the property: %v", err)
	}
	if err := rendertest.CheckChildren(broken, in, admit); err == nil {
		t.Error("a grammar violation on an admitted spec passes the property")
	}
}

// render.Args keeps the blame where it belongs: a value from the spec that
// Triton refuses is an *InvalidSpecError naming the field; a violation in
// the rendered command line as a whole is a *GrammarViolationError.
func TestArgsBlame(t *testing.T) {
	base := servingv1alpha1.KalypsoTritonServerSpec{
		ApplicationRef: servingv1alpha1.LocalObjectReference{Name: "app"}, StorageURI: "s3://bucket/m"}
	specCases := map[string]func(*servingv1alpha1.KalypsoTritonServerSpec){
		"tritonConfig.parameters": func(s *servingv1alpha1.KalypsoTritonServerSpec) {
			s.TritonConfig.Parameters = []servingv1alpha1.TritonParameter{{Name: "http-thread-count", Value: "many"}}
		},
		"tritonConfig.parameters (given twice)": func(s *servingv1alpha1.KalypsoTritonServerSpec) {
			p := servingv1alpha1.TritonParameter{Name: "http-thread-count", Value: "4"}
			s.TritonConfig.Parameters = []servingv1alpha1.TritonParameter{p, p}
		},
		"networking": func(s *servingv1alpha1.KalypsoTritonServerSpec) {
			s.Networking = servingv1alpha1.Networking{HTTPPort: 9000, GRPCPort: 9001, MetricsPort: 9001}
		},
		"tritonConfig.modelControl.models": func(s *servingv1alpha1.KalypsoTritonServerSpec) {
			s.TritonConfig.ModelControl = &servingv1alpha1.ModelControl{Mode: servingv1alpha1.ModelControlExplicit, Models: []string{"*", "a"}}
		},
		"tritonConfig.backendConfigs[0]": func(s *servingv1alpha1.KalypsoTritonServerSpec) {
			s.TritonConfig.BackendConfigs = []string{"no-setting"}
		},
		"metrics.interval": func(s *servingv1alpha1.KalypsoTritonServerSpec) {
			s.Observability = &servingv1alpha1.Observability{Metrics: &servingv1alpha1.Metrics{Interval: "999999m"}}
		},
	}
	for field, edit := range specCases {
		spec := *base.DeepCopy()
		edit(&spec)
		_, err := render.Args(spec, "srv", "s3://bucket/m")
		var specErr *render.InvalidSpecError
		var grammar *render.GrammarViolationError
		if !errors.As(err, &specErr) || errors.As(err, &grammar) || !strings.Contains(err.Error(), strings.Fields(field)[0]) {
			t.Errorf("%s: want an InvalidSpecError naming the field, got %T %v", field, err, err)
		}
	}
	if _, err := render.Args(base, "srv", "s3://bucket/m"); err != nil {
		t.Fatalf("a plain spec: %v", err)
	}
	err := render.CheckRenderedArgs(triton.Newest(), []string{"--model-repository=/m", "--no-such-option=1"})
	var grammar *render.GrammarViolationError
	if !errors.As(err, &grammar) || !errors.Is(err, triton.ErrUnknown) || len(grammar.Args) != 2 {
		t.Errorf("want a GrammarViolationError wrapping triton.ErrUnknown, got %T %v", err, err)
	}
	if err := render.CheckRenderedArgs(triton.Newest(), []string{"--model-repository=/m"}); err != nil {
		t.Errorf("a valid command line: %v", err)
	}
}

// A golden case may expect a refusal only when it says so; then its golden
// file holds the refusal, and a case that says so but renders fails.
func TestGoldenExpectInvalidMarker(t *testing.T) {
	invalid := `apiVersion: serving.kalypso.io/v1alpha1
kind: KalypsoTritonServer
metadata: {name: srv, namespace: team}
spec:
  applicationRef: {name: a}
  storageUri: pvc://models
  observability:
    tracing: {collectorEndpoint: "http://otel:4318", samplingRate: "0.3"}
`
	valid := strings.Replace(invalid, `"0.3"`, `"0.25"`, 1)
	marked := func(s string) []byte { return []byte(rendertest.ExpectInvalidMarker + "\n" + s) }

	got, err := rendertest.CompareGolden(render.Children, marked(invalid), nil)
	if got == nil || !strings.HasPrefix(string(got), "# team/srv refused: ") {
		t.Errorf("a marked invalid case renders its refusal: got %q, %v", got, err)
	}
	if _, err := rendertest.CompareGolden(render.Children, marked(invalid), got); err != nil {
		t.Errorf("a marked invalid case matches its golden refusal: %v", err)
	}
	if _, err := rendertest.CompareGolden(render.Children, []byte(invalid), got); err == nil {
		t.Error("an unmarked case passes with a refusal")
	}
	if _, err := rendertest.CompareGolden(render.Children, marked(valid), got); err == nil {
		t.Error("a marked case passes although it renders")
	}
}
