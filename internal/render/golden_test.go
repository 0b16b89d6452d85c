package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenCases maps a case name to the manifests it renders: every sample in
// config/samples, and every file under testdata/cases.
func goldenCases(t testing.TB) map[string][]byte {
	t.Helper()
	cases := map[string][]byte{}
	var samples bytes.Buffer
	paths, err := filepath.Glob(testenv.Path("config", "samples", "serving_*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		samples.WriteString("---\n")
		samples.Write(data)
	}
	cases["samples"] = samples.Bytes()
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[strings.TrimSuffix(filepath.Base(f), ".yaml")] = data
	}
	return cases
}

func renderCase(t *testing.T, manifests []byte) []byte {
	t.Helper()
	m, err := preview.Read(bytes.NewReader(manifests))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Servers) == 0 {
		t.Fatal("case has no KalypsoTritonServer")
	}
	var out bytes.Buffer
	if err := preview.Render(m, &out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestGolden compares the rendered children of every case with its golden
// file. Run `make golden` after an intended change and review the diff.
func TestGolden(t *testing.T) {
	for name, manifests := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			got := renderCase(t, manifests)
			path := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("missing golden file (run make golden): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered output of %s changed; run `make golden` and review the diff.\n--- got ---\n%s", name, got)
			}
		})
	}
}

// TestGoldenArgsFollowTritonGrammar parses every rendered tritonserver
// command line with the checker of Triton's option grammar.
func TestGoldenArgsFollowTritonGrammar(t *testing.T) {
	checked := 0
	for name, manifests := range goldenCases(t) {
		for _, dep := range deployments(t, renderCase(t, manifests)) {
			c := dep.Spec.Template.Spec.Containers[0]
			if len(c.Command) != 1 || c.Command[0] != "tritonserver" {
				t.Errorf("%s/%s: command is %v, want [tritonserver]", name, dep.Name, c.Command)
			}
			if err := triton.CheckArgs(c.Args); err != nil {
				t.Errorf("%s/%s: rendered arguments break Triton's grammar: %v", name, dep.Name, err)
			}
			checked++
		}
	}
	if checked < 7 {
		t.Fatalf("checked %d command lines, want every case's", checked)
	}
}

var topLevelDeployment = regexp.MustCompile(`(?m)^kind: Deployment$`)

func deployments(t *testing.T, stream []byte) []appsv1.Deployment {
	t.Helper()
	var out []appsv1.Deployment
	for _, doc := range bytes.Split(stream, []byte("---\n")) {
		if !topLevelDeployment.Match(doc) {
			continue
		}
		var d appsv1.Deployment
		if err := yaml.UnmarshalStrict(doc, &d); err != nil {
			t.Fatalf("decoding rendered Deployment: %v", err)
		}
		out = append(out, d)
	}
	return out
}
