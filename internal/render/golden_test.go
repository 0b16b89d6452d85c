package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/render/rendertest"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
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

// TestGolden compares the rendered children of every case with its golden
// file. Run `make golden` after an intended change and review the diff.
// A case is rendered by rendertest.Golden, which fails on a renderer bug
// (output breaking Triton's grammar), on an untyped error, and on a refusal
// unless the case carries rendertest.ExpectInvalidMarker.
func TestGolden(t *testing.T) {
	for name, manifests := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "golden", name+".yaml")
			want, err := os.ReadFile(path)
			if err != nil && !*update {
				t.Fatalf("missing golden file (run make golden): %v", err)
			}
			got, err := rendertest.CompareGolden(render.Children, manifests, want)
			if got == nil {
				t.Fatalf("rendering %s: %v", name, err)
			}
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err != nil {
				t.Errorf("rendered output of %s changed; run `make golden` and review the diff.\n--- got ---\n%s", name, got)
			}
		})
	}
}

// TestGoldenIsWhatPreviewRenders: the golden rendering and `kalypso render`
// (preview.Render) write the same bytes, so the golden files describe what
// the operator applies.
func TestGoldenIsWhatPreviewRenders(t *testing.T) {
	for name, manifests := range goldenCases(t) {
		if rendertest.ExpectsInvalid(manifests) {
			continue
		}
		m, err := preview.Read(bytes.NewReader(manifests))
		if err != nil {
			t.Fatal(err)
		}
		var previewed bytes.Buffer
		// The goldens render as a manager without access to pods (--load-model
		// for mode explicit); the gate and operator loading are tested beside.
		if err := preview.Render(m, &previewed, preview.Options{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		golden, err := rendertest.Golden(render.Children, m, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(previewed.Bytes(), golden) {
			t.Errorf("%s: preview.Render and the golden rendering differ", name)
		}
	}
}
