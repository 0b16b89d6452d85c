package rendertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// Renderer renders every child of a server; render.Children is the real
// one. The checks below take it as a parameter so that a test can prove
// each of them fails on a broken renderer.
type Renderer func(render.Input) ([]render.Child, error)

// Verdict classifies a renderer's error.
type Verdict int

const (
	// Rendered: no error.
	Rendered Verdict = iota
	// Refused: an *InvalidSpecError or *InvalidStorageError, the spec
	// cannot work (the operator reports it as a condition).
	Refused
	// RendererBug: a *GrammarViolationError, the renderer's own output
	// breaks Triton's grammar.
	RendererBug
	// Untyped: any other error.
	Untyped
)

// Classify sorts a renderer's error into a Verdict.
func Classify(err error) Verdict {
	var grammar *render.GrammarViolationError
	var spec *render.InvalidSpecError
	var storage *render.InvalidStorageError
	switch {
	case err == nil:
		return Rendered
	case errors.As(err, &grammar):
		return RendererBug
	case errors.As(err, &spec), errors.As(err, &storage):
		return Refused
	default:
		return Untyped
	}
}

// childKinds are the kinds Children renders, in apply order.
var childKinds = []schema.GroupVersionKind{
	render.DeploymentGVK, render.ServiceGVK, render.PDBGVK, render.HPAGVK, render.ServiceMonitorGVK,
}

// CheckChildren is the property FuzzChildren holds every renderer to. The
// renderer may refuse a spec as invalid; it may report a grammar violation
// of its own output only for a spec the CRD schema refuses (admit returns
// an error), as the operator never sees one; any other error fails. What it
// renders must be deterministic and pass CheckOutput.
func CheckChildren(r Renderer, in render.Input, admit func(*servingv1alpha1.KalypsoTritonServer) error) error {
	children, err := r(in)
	switch Classify(err) {
	case Refused:
		return nil
	case RendererBug:
		if admitErr := admit(in.Server); admitErr != nil {
			return nil // the API server refuses the spec: the renderer never sees it
		}
		return fmt.Errorf("a spec the CRD schema admits renders into arguments that break Triton's grammar: %w", err)
	case Untyped:
		return fmt.Errorf("an untyped render error: %w", err)
	}
	again, err := r(in)
	if err != nil {
		return fmt.Errorf("rendering twice: the second time fails: %w", err)
	}
	first, err := json.Marshal(children)
	if err != nil {
		return err
	}
	second, err := json.Marshal(again)
	if err != nil {
		return err
	}
	if !bytes.Equal(first, second) {
		return errors.New("rendering twice gives different objects")
	}
	return CheckOutput(in, children)
}

// CheckOutput checks rendered children on their own: every kind in apply
// order with a Deployment; every object named, placed, owned and labelled
// as its server's; the tritonserver command line follows Triton's grammar
// and sets each endpoint's port to the container port of that name.
func CheckOutput(in render.Input, children []render.Child) error {
	if len(children) != len(childKinds) {
		return fmt.Errorf("want %d children (one per kind), got %d", len(childKinds), len(children))
	}
	key := types.NamespacedName{Namespace: in.Server.Namespace, Name: in.Server.Name}
	for i, c := range children {
		if c.GVK != childKinds[i] {
			return fmt.Errorf("child %d is a %s, want %s", i, c.GVK.Kind, childKinds[i].Kind)
		}
		if c.Key != key {
			return fmt.Errorf("%s child has key %v, want the server's %v", c.GVK.Kind, c.Key, key)
		}
		if c.Object == nil {
			continue
		}
		o := c.Object
		owners := o.GetOwnerReferences()
		if o.GetName() != in.Server.Name || o.GetNamespace() != in.Server.Namespace || len(owners) != 1 ||
			owners[0].UID != in.Server.UID || owners[0].Kind != "KalypsoTritonServer" ||
			owners[0].Controller == nil || !*owners[0].Controller {
			return fmt.Errorf("%s is not named, placed and owned as its server: %s/%s %v",
				c.GVK.Kind, o.GetNamespace(), o.GetName(), owners)
		}
		if o.GetLabels()[render.LabelManagedBy] != render.ManagedByValue {
			return fmt.Errorf("%s lacks the managed-by label", c.GVK.Kind)
		}
		if o.GroupVersionKind() != c.GVK {
			return fmt.Errorf("%s object says it is a %s", c.GVK.Kind, o.GroupVersionKind())
		}
	}
	if children[0].Object == nil {
		return errors.New("no Deployment rendered")
	}
	var dep appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(children[0].Object.Object, &dep); err != nil {
		return fmt.Errorf("decoding the Deployment: %w", err)
	}
	return checkCommandLine(in.Server.Spec.TritonConfig.TritonVersion, dep.Annotations[render.AnnotationTritonVersion],
		dep.Spec.Template.Spec.Containers)
}

// expectedRelease is the Triton release the server runs, found without the
// renderer's help: tritonVersion when the spec sets it, otherwise the
// release the rendered image's tag names.
func expectedRelease(tritonVersion, image string) (triton.Release, error) {
	if tritonVersion != "" {
		if r, ok := triton.ReleaseByVersion(tritonVersion); ok {
			return r, nil
		}
		return triton.Release{}, fmt.Errorf("tritonVersion %q is not in the release table", tritonVersion)
	}
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, _ := strings.Cut(last, ":")
	ngc, _, _ := strings.Cut(tag, "-")
	if r, ok := triton.ReleaseByNGC(ngc); ok && !strings.Contains(image, "@") {
		return r, nil
	}
	return triton.Release{}, fmt.Errorf("image %q names no known Triton release and the spec sets no tritonVersion", image)
}

// portOptions maps Triton's port options to the container port names.
var portOptions = map[string]string{"http-port": "http", "grpc-port": "grpc", "metrics-port": "metrics"}

func checkCommandLine(tritonVersion, annotated string, containers []corev1.Container) error {
	var c *corev1.Container
	for i := range containers {
		if containers[i].Name == render.ContainerName {
			c = &containers[i]
		}
	}
	if c == nil {
		return fmt.Errorf("no %s container", render.ContainerName)
	}
	if len(c.Command) != 1 || c.Command[0] != "tritonserver" {
		return fmt.Errorf("command is %v, want [tritonserver]", c.Command)
	}
	rel, err := expectedRelease(tritonVersion, c.Image)
	if err != nil {
		return err
	}
	if annotated != rel.Version {
		return fmt.Errorf("the Deployment says Triton %q, the image and spec say %s", annotated, rel)
	}
	if err := render.CheckRenderedArgs(rel, c.Args); err != nil {
		return fmt.Errorf("the rendered command line: %w", err)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for option, portName := range portOptions {
		var values []string
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "--"+option+"="); ok {
				values = append(values, v)
			}
		}
		declared, isDeclared := ports[portName]
		if portName == "metrics" && slices.Contains(c.Args, "--allow-metrics=false") {
			// No metrics endpoint: neither a port option nor a port.
			if len(values) != 0 || isDeclared {
				return fmt.Errorf("metrics are off but --%s is %v and container port %s is declared: %v", option, values, portName, isDeclared)
			}
			continue
		}
		want := fmt.Sprint(declared)
		if len(values) != 1 || values[0] != want {
			return fmt.Errorf("--%s is %v, want exactly one, equal to container port %s (%s)", option, values, portName, want)
		}
	}
	return nil
}

// ExpectInvalidMarker, as a line of a golden case, marks a case the
// renderer must refuse as invalid; its golden file then holds the reason.
const ExpectInvalidMarker = "# golden: expect-invalid"

// ExpectsInvalid reports whether a case file carries ExpectInvalidMarker.
func ExpectsInvalid(manifests []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(manifests))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == ExpectInvalidMarker {
			return true
		}
	}
	return false
}

// Golden renders the servers of m with r as the golden files hold them: the
// YAML stream of every child, in the order and form preview.Render writes.
// For a case that expects a refusal (expectInvalid), it is one line naming
// the refusal instead. It fails on a renderer bug, on an untyped error, on
// a refusal the case does not expect, and on a case that expects a refusal
// but renders.
func Golden(r Renderer, m *preview.Manifests, expectInvalid bool) ([]byte, error) {
	servers := append([]*servingv1alpha1.KalypsoTritonServer(nil), m.Servers...)
	if len(servers) == 0 {
		return nil, errors.New("case has no KalypsoTritonServer")
	}
	sort.Slice(servers, func(i, j int) bool {
		return servers[i].Namespace+"/"+servers[i].Name < servers[j].Namespace+"/"+servers[j].Name
	})
	var buf bytes.Buffer
	for _, srv := range servers {
		app := m.Applications[srv.Namespace+"/"+srv.Spec.ApplicationRef.Name]
		in := render.Input{Server: srv, Application: app}
		children, err := r(in)
		name := srv.Namespace + "/" + srv.Name
		switch v := Classify(err); {
		case v == Refused && expectInvalid:
			fmt.Fprintf(&buf, "# %s refused: %v\n", name, err)
			continue
		case v != Rendered:
			return nil, fmt.Errorf("KalypsoTritonServer %s: %w", name, err)
		case expectInvalid:
			return nil, fmt.Errorf("KalypsoTritonServer %s: the case expects a refusal, but it renders", name)
		}
		if err := CheckOutput(in, children); err != nil {
			return nil, fmt.Errorf("KalypsoTritonServer %s: %w", name, err)
		}
		for _, c := range children {
			if c.Object == nil {
				continue
			}
			obj := c.Object.DeepCopy()
			if err := apply.Prepare(obj); err != nil {
				return nil, err
			}
			data, err := yaml.Marshal(obj.Object)
			if err != nil {
				return nil, fmt.Errorf("encoding %s %s: %w", c.GVK.Kind, obj.GetName(), err)
			}
			buf.WriteString("---\n")
			buf.Write(data)
		}
	}
	return buf.Bytes(), nil
}

// CompareGolden renders a case file with r and compares it with the golden
// bytes; it returns what r rendered (for -update) and why it differs.
func CompareGolden(r Renderer, manifests, want []byte) ([]byte, error) {
	m, err := preview.Read(bytes.NewReader(manifests))
	if err != nil {
		return nil, err
	}
	got, err := Golden(r, m, ExpectsInvalid(manifests))
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got, want) {
		return got, errors.New("the rendered output differs from the golden file")
	}
	return got, nil
}

// RefusalClass is a kind of refusal of a spec the API server admits that
// only admission can close (a rule CEL cannot express yet, or a missing
// one). Reason says why it is tolerated; Match recognises the error.
type RefusalClass struct {
	Name   string
	Reason string
	Match  func(error) bool
}

// Replay is the corpus replay's verdict on one spec the API server
// admitted (in.Server is the stored object): its rendered children, or the
// name of the allow-listed refusal class it fell into. A renderer bug, an
// untyped error, a refusal outside the allow-list and output failing
// CheckOutput are errors.
func Replay(r Renderer, in render.Input, allowed []RefusalClass) ([]render.Child, string, error) {
	children, err := r(in)
	switch Classify(err) {
	case Rendered:
		if err := CheckOutput(in, children); err != nil {
			return nil, "", fmt.Errorf("an admitted spec renders wrong output: %w", err)
		}
		return children, "", nil
	case Refused:
		for _, c := range allowed {
			if c.Match(err) {
				return nil, c.Name, nil
			}
		}
		return nil, "", fmt.Errorf("the renderer refuses an admitted spec, and no allow-listed class covers it: %w", err)
	case RendererBug:
		return nil, "", fmt.Errorf("renderer bug on an admitted spec: %w", err)
	default:
		return nil, "", fmt.Errorf("an untyped render error for an admitted spec: %w", err)
	}
}
