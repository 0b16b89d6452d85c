package helmchart

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/diff"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

// namespace is the one config/default installs into, and the release
// namespace the chart is rendered for.
const namespace = "kalypso-serving-system"

// tool returns the binary the environment variable env names; without one
// the test skips, or fails under CI=true, where a skipped drift check would
// let the chart and config/ part unnoticed.
func tool(t *testing.T, env string) string {
	t.Helper()
	bin := os.Getenv(env)
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: run the tests with `make test`, which builds it", env)
		}
		t.Skipf("%s is not set: run the tests with `make test`, which builds it", env)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s=%s: %v", env, bin, err)
	}
	return bin
}

// helmTemplate renders the chart as the release kalypso-serving in
// namespace, with the given extra helm arguments (--set, -f).
func helmTemplate(t *testing.T, args ...string) []*unstructured.Unstructured {
	t.Helper()
	all := append([]string{"template", "kalypso-serving", testenv.Path("charts", "kalypso-serving"),
		"--namespace", namespace}, args...)
	return run(t, tool(t, "HELM"), all...)
}

// kustomizeBuild builds the kustomization in config/<dir>.
func kustomizeBuild(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	return run(t, tool(t, "KUSTOMIZE"), "build", testenv.Path("config", dir))
}

// run runs bin and decodes the objects of its YAML output.
func run(t *testing.T, bin string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.String())
	}
	objs, err := testenv.DecodeObjects(out)
	if err != nil {
		t.Fatalf("decoding the output of %s %v: %v", bin, args, err)
	}
	return objs
}

// key names an object the way the API server tells objects apart.
func key(u *unstructured.Unstructured) string {
	k := u.GetKind() + " "
	if u.GetNamespace() != "" {
		k += u.GetNamespace() + "/"
	}
	return k + u.GetName()
}

// index maps each object's key to the object.
func index(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := make(map[string]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		m[key(o)] = o
	}
	return m
}

// field returns the value at path in u, or nil.
func field(u *unstructured.Unstructured, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	return v
}

// sameJSON fails the test when want and got do not encode to the same
// JSON bytes (map keys sorted), showing the difference.
func sameJSON(t *testing.T, what string, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w, g) {
		t.Errorf("%s differs (- config/, + chart):\n%s", what, diff.Diff(want, got))
	}
}
