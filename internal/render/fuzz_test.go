package render_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/render/rendertest"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

// The fuzz targets feed arbitrary specs to every renderer. A renderer may
// refuse a spec with a typed error, but never panics, renders the same
// bytes for the same input, and what it renders is coherent: Triton's
// grammar holds, every object is named, placed and owned as the operator
// expects. test/integration replays the FuzzChildren corpus against the API
// server for its verdict. Seeds: testdata/fuzz, plus the render cases.

const fuzzUID = "00000000-0000-0000-0000-0000000000f1"

// FuzzChildren renders a server (spec JSON) of an application (spec JSON)
// and holds the result to rendertest.CheckChildren: a grammar violation of
// the renderer's own output fails unless the CRD schema (CEL included,
// evaluated in-process) refuses the spec.
func FuzzChildren(f *testing.F) {
	for _, c := range fuzzSeeds(f) {
		f.Add(c.server, c.app, "v1")
	}
	admit := admitServer(f)
	f.Fuzz(func(t *testing.T, serverSpec, appSpec []byte, secretVersion string) {
		in, ok := fuzzInput(serverSpec, appSpec, secretVersion)
		if !ok {
			return
		}
		if err := rendertest.CheckChildren(render.Children, in, admit(t)); err != nil {
			t.Fatal(err)
		}
	})
}

// admitServer compiles the server CRD's schema once and returns, per test,
// the admission check CheckChildren asks for: nil when the schema admits
// the server, an error when it refuses it. Anything else stops the test,
// so a broken schema can never pass for a refusal.
func admitServer(tb testing.TB) func(testing.TB) func(*servingv1alpha1.KalypsoTritonServer) error {
	tb.Helper()
	if _, err := rendertest.ServerSchema(); err != nil {
		tb.Fatal(err)
	}
	return func(t testing.TB) func(*servingv1alpha1.KalypsoTritonServer) error {
		return func(srv *servingv1alpha1.KalypsoTritonServer) error {
			_, err := rendertest.AdmitServer(srv)
			var refused *rendertest.AdmissionError
			if err != nil && !errors.As(err, &refused) {
				t.Fatalf("evaluating the CRD schema: %v", err)
			}
			return err
		}
	}
}

// envSeeds are project specs written with the API's field names (see
// config/samples); TestEnvFuzzSeedsUseTheAPI keeps them that way.
var envSeeds = []string{
	`{"displayName":"p","owner":"team","deletionPolicy":"Retain","environments":[{"name":"prod","namespace":"team-prod",` +
		`"description":"production","podSecurity":"baseline",` +
		`"resourceQuota":{"limits":{"cpu":"8","memory":"16Gi","nvidia.com/gpu":"4"},"requests":{"cpu":"4","nvidia.com/gpu":"2"},` +
		`"hard":{"pods":"20","count/deployments.apps":"5"}},` +
		`"limitRange":{"limits":[{"type":"Container","default":{"cpu":"1","memory":"2Gi"},"defaultRequest":{"cpu":"250m"},"max":{"memory":"8Gi"}}]},` +
		`"networkIsolation":{"mode":"Isolated","monitoringNamespace":"prometheus","ingressNamespace":"gateway"},` +
		`"access":{"admins":[{"kind":"Group","name":"ml-leads"}],"editors":[{"kind":"User","name":"alice"}],` +
		`"viewers":[{"kind":"ServiceAccount","name":"ci"},{"kind":"ServiceAccount","name":"bot","namespace":"tools"}]}}]}`,
	`{"environments":[{"name":"dev","networkIsolation":{"mode":"None"},"podSecurity":"privileged",` +
		`"resourceQuota":{"limits":{"hugepages-2Mi":"1Gi","ephemeral-storage":"10Gi"},"requests":{"memory":"4Gi"}},` +
		`"limitRange":{"limits":[{"type":"Pod","max":{"cpu":"4"}},{"type":"PersistentVolumeClaim","min":{"storage":"1Gi"}}]}},` +
		`{"name":"stage","access":{"viewers":[{"kind":"Group","name":"qa"}]}}]}`,
	`{"deletionPolicy":"Delete","environments":[{"name":"a"},{"name":"b","networkIsolation":{}},` +
		`{"name":"c","resourceQuota":{"hard":{"services":"3"}},"access":{"editors":[{"kind":"Group","name":"devs"}]}}]}`,
}

// FuzzEnvChildren renders every environment of a project (spec JSON).
func FuzzEnvChildren(f *testing.F) {
	for _, s := range envSeeds {
		f.Add([]byte(s))
	}
	f.Add(sampleProjectSpec(f))
	f.Fuzz(func(t *testing.T, projectSpec []byte) {
		var spec servingv1alpha1.KalypsoProjectSpec
		if json.Unmarshal(projectSpec, &spec) != nil {
			return
		}
		proj := &servingv1alpha1.KalypsoProject{ObjectMeta: metav1.ObjectMeta{Name: "proj", UID: fuzzUID}, Spec: spec}
		for _, env := range spec.Environments {
			if err := checkEnvironment(render.EnvInput{Project: proj, Env: env}); err != nil {
				t.Fatalf("environment %q: %v", env.Name, err)
			}
		}
	})
}

// checkEnvironment renders an environment twice and checks that the output
// is the same and that every object is named, placed, labelled and owned as
// the project's.
func checkEnvironment(in render.EnvInput) error {
	render1 := func() ([]render.Child, error) {
		ns, err := render.NamespaceChild(in)
		if err != nil {
			return nil, err
		}
		children, err := render.EnvChildren(in)
		return append([]render.Child{ns}, children...), err
	}
	first, err := render1()
	if err != nil {
		return fmt.Errorf("a project spec that decodes fails to render: %w", err)
	}
	second, err := render1()
	if err != nil {
		return fmt.Errorf("rendering twice: %w", err)
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if !bytes.Equal(a, b) {
		return errors.New("rendering an environment twice differs")
	}
	ns := render.EnvNamespace(in.Project.Name, in.Env)
	if first[0].GVK != render.NamespaceGVK || first[0].Object == nil || first[0].Key != (types.NamespacedName{Name: ns}) {
		return fmt.Errorf("the first child must be the namespace %s, got %v %v", ns, first[0].GVK, first[0].Key)
	}
	for i, c := range first {
		wantNS := ns
		if i == 0 {
			wantNS = ""
		}
		if err := checkEnvChild(in, c, wantNS); err != nil {
			return err
		}
	}
	return nil
}

// checkEnvChild checks one child of an environment: keyed in its
// namespace and, when present, named, labelled and owned as the project's.
func checkEnvChild(in render.EnvInput, c render.Child, namespace string) error {
	if c.Key.Namespace != namespace || c.Key.Name == "" {
		return fmt.Errorf("%s key %v is not in namespace %q", c.GVK.Kind, c.Key, namespace)
	}
	if c.Object == nil {
		return nil
	}
	o := c.Object
	if o.GroupVersionKind() != c.GVK || o.GetName() != c.Key.Name || o.GetNamespace() != c.Key.Namespace {
		return fmt.Errorf("%s %v is rendered as %s %s/%s", c.GVK.Kind, c.Key, o.GroupVersionKind().Kind, o.GetNamespace(), o.GetName())
	}
	l := o.GetLabels()
	if l[render.LabelManagedBy] != render.ManagedByValue || l[render.LabelProject] != in.Project.Name ||
		l[render.LabelEnvironment] != in.Env.Name {
		return fmt.Errorf("%s %v lacks the environment's labels: %v", c.GVK.Kind, c.Key, l)
	}
	owners := o.GetOwnerReferences()
	if in.Project.Spec.DeletionPolicy == servingv1alpha1.DeletionPolicyRetain {
		if len(owners) != 0 {
			return fmt.Errorf("%s %v is owned by the project, which retains its namespaces", c.GVK.Kind, c.Key)
		}
		return nil
	}
	if len(owners) != 1 || string(owners[0].UID) != fuzzUID || owners[0].Controller == nil || !*owners[0].Controller {
		return fmt.Errorf("%s %v is not controlled by the project: %v", c.GVK.Kind, c.Key, owners)
	}
	return nil
}

// sampleProjectSpec is the spec of config/samples' project, as JSON.
func sampleProjectSpec(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(testenv.Path("config", "samples", "serving_v1alpha1_kalypsoproject.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var p servingv1alpha1.KalypsoProject
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		tb.Fatal(err)
	}
	return mustJSON(tb, p.Spec)
}

// TestEnvFuzzSeedsUseTheAPI keeps the environment fuzz away from defaults:
// the seeds and the committed corpus (the inputs that decode at all) use
// only the API's field names, and together they render every kind of
// environment object, an isolated and an open environment, and a project
// that retains its namespaces.
func TestEnvFuzzSeedsUseTheAPI(t *testing.T) {
	inputs := map[string][]byte{"sample project": sampleProjectSpec(t)}
	for i, s := range envSeeds {
		inputs[fmt.Sprintf("seed %d", i)] = []byte(s)
	}
	corpus, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzEnvChildren", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range corpus {
		values := readCorpusFile(t, p)
		if len(values) != 1 {
			t.Fatalf("%s: want one []byte value, got %d", p, len(values))
		}
		var loose servingv1alpha1.KalypsoProjectSpec
		if json.Unmarshal(values[0], &loose) == nil {
			inputs[p] = values[0]
		}
	}
	seen := map[string]int{}
	for name, data := range inputs {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var spec servingv1alpha1.KalypsoProjectSpec
		if err := dec.Decode(&spec); err != nil {
			t.Errorf("%s uses a field the API does not have: %v", name, err)
			continue
		}
		if spec.DeletionPolicy == servingv1alpha1.DeletionPolicyRetain {
			seen["Retain"]++
		}
		proj := &servingv1alpha1.KalypsoProject{ObjectMeta: metav1.ObjectMeta{Name: "proj", UID: fuzzUID}, Spec: spec}
		for _, env := range spec.Environments {
			in := render.EnvInput{Project: proj, Env: env}
			if err := checkEnvironment(in); err != nil {
				t.Errorf("%s, environment %q: %v", name, env.Name, err)
			}
			children, err := render.EnvChildren(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range children {
				if c.Object != nil {
					seen[c.GVK.Kind]++
				} else if c.GVK == render.NetworkPolicyGVK {
					seen["open"]++
				}
			}
		}
	}
	for _, want := range []string{"ResourceQuota", "LimitRange", "NetworkPolicy", "RoleBinding", "open", "Retain"} {
		if seen[want] == 0 {
			t.Errorf("no seed or corpus input renders %s; got %v", want, seen)
		}
	}
}

// readCorpusFile decodes a committed fuzz input (go test fuzz v1) whose
// values are all []byte.
func readCorpusFile(tb testing.TB, path string) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		tb.Fatalf("%s is not a go test fuzz v1 file", path)
	}
	var out [][]byte
	for _, l := range lines[1:] {
		quoted, ok := strings.CutPrefix(l, "[]byte(")
		if !ok {
			continue
		}
		v, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		out = append(out, []byte(v))
	}
	return out
}

type fuzzSeed struct{ server, app []byte }

// fuzzSeeds are the server and application specs of the render cases.
func fuzzSeeds(f *testing.F) []fuzzSeed {
	var out []fuzzSeed
	for name, data := range goldenCases(f) {
		m, err := preview.Read(bytes.NewReader(data))
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		for _, srv := range m.Servers {
			var appSpec []byte
			if app := m.Applications[srv.Namespace+"/"+srv.Spec.ApplicationRef.Name]; app != nil {
				appSpec = mustJSON(f, app.Spec)
			}
			out = append(out, fuzzSeed{server: mustJSON(f, srv.Spec), app: appSpec})
		}
	}
	return out
}

func fuzzInput(serverSpec, appSpec []byte, secretVersion string) (render.Input, bool) {
	var spec servingv1alpha1.KalypsoTritonServerSpec
	if json.Unmarshal(serverSpec, &spec) != nil {
		return render.Input{}, false
	}
	in := render.Input{
		Server: &servingv1alpha1.KalypsoTritonServer{
			ObjectMeta: metav1.ObjectMeta{Name: "srv", Namespace: "ns", UID: fuzzUID}, Spec: spec},
		SecretVersion: secretVersion,
	}
	if len(appSpec) > 0 {
		var as servingv1alpha1.KalypsoApplicationSpec
		if json.Unmarshal(appSpec, &as) != nil {
			return render.Input{}, false
		}
		in.Application = &servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns"}, Spec: as}
	}
	return in, true
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
