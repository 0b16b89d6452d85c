package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// The CRD's spec-level CEL rules cannot call internal/triton, so they spell
// out parts of its release table: the NGC release of each Triton version,
// the known NGC releases, the default release and the first release of the
// options that are younger than the oldest release. The tritonVersion enum
// lists the versions again. When the grammar is regenerated for a new
// Triton release, all of them must follow, or admission and the renderer
// disagree about which specs work.

// fixReleaseRules tells how to bring the CRD back in line.
const fixReleaseRules = "update the XValidation markers on KalypsoTritonServerSpec in " +
	"api/v1alpha1/kalypsotritonserver_types.go (and the tritonVersion Enum marker in " +
	"api/v1alpha1/kalypsotritonserver_triton_types.go) to match internal/triton, then run make manifests"

var (
	// celMap is a CEL map literal whose keys and values are quoted strings.
	celMap = regexp.MustCompile(`\{\s*(?:'[^']*'\s*:\s*'[^']*'\s*,?\s*)+\}`)
	// celPair is one entry of such a map.
	celPair = regexp.MustCompile(`'([^']*)'\s*:\s*'([^']*)'`)
	// ngcList is a CEL list of NGC releases (YY.MM).
	ngcList = regexp.MustCompile(`in \[\s*((?:'[0-9]{2}\.[0-9]{2}'\s*,?\s*)+)\]`)
	// celString is one quoted string of a list.
	celString = regexp.MustCompile(`'([^']*)'`)
	// fallbackRelease is the release assumed when the image tag names none.
	fallbackRelease  = regexp.MustCompile(`\.substring\(0,\s*5\)\s*:\s*'([^']*)'\s*\)\s*\)`)
	tritonVersionKey = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	ngcRelease       = regexp.MustCompile(`^[0-9]{2}\.[0-9]{2}$`)
)

// celEntry is one entry of a CEL map literal, in the order written.
type celEntry struct{ key, value string }

func (p celEntry) String() string { return fmt.Sprintf("'%s': '%s'", p.key, p.value) }

func parseCELMap(lit string) []celEntry {
	matches := celPair.FindAllStringSubmatch(lit, -1)
	out := make([]celEntry, 0, len(matches))
	for _, m := range matches {
		out = append(out, celEntry{m[1], m[2]})
	}
	return out
}

// ruleDiff explains how got differs from want: the entries missing, the
// ones extra, or else a different order.
func ruleDiff[T comparable](got, want []T) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, fmt.Sprintf("missing %v", w))
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			out = append(out, fmt.Sprintf("extra %v", g))
		}
	}
	if len(out) == 0 && !slices.Equal(got, want) {
		out = append(out, fmt.Sprintf("same entries in another order or repeated: got %v, want %v", got, want))
	}
	return out
}

// serverSpecSchema reads the KalypsoTritonServer CRD and returns the
// schema of spec of its only version.
func serverSpecSchema() apiextensionsv1.JSONSchemaProps {
	data, err := os.ReadFile(testenv.Path("config", "crd", "bases", "serving.kalypso.io_kalypsotritonservers.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var crd apiextensionsv1.CustomResourceDefinition
	Expect(yaml.Unmarshal(data, &crd)).To(Succeed())
	Expect(crd.Spec.Versions).To(HaveLen(1), "the test reads the rules of one CRD version")
	schema := crd.Spec.Versions[0].Schema
	Expect(schema).NotTo(BeNil())
	spec, ok := schema.OpenAPIV3Schema.Properties["spec"]
	Expect(ok).To(BeTrue(), "the CRD has no spec")
	return spec
}

// releaseRules is what the spec-level rules and the enum hard-code.
type releaseRules struct {
	versionMaps [][]celEntry // every {'<version>': '<ngc>', ...} map, per occurrence
	gateMaps    [][]celEntry // every {'<option>': '<ngc>', ...} map, per occurrence
	ngcLists    [][]string
	fallbacks   []string
	enum        []string
}

func readReleaseRules() releaseRules {
	spec := serverSpecSchema()
	var r releaseRules
	for _, v := range spec.XValidations {
		for _, lit := range celMap.FindAllString(v.Rule, -1) {
			m := parseCELMap(lit)
			switch {
			case slices.ContainsFunc(m, func(e celEntry) bool { return !ngcRelease.MatchString(e.value) }):
				// Not a map to NGC releases.
			case tritonVersionKey.MatchString(m[0].key):
				r.versionMaps = append(r.versionMaps, m)
			default:
				r.gateMaps = append(r.gateMaps, m)
			}
		}
		for _, l := range ngcList.FindAllStringSubmatch(v.Rule, -1) {
			var list []string
			for _, q := range celString.FindAllStringSubmatch(l[1], -1) {
				list = append(list, q[1])
			}
			r.ngcLists = append(r.ngcLists, list)
		}
		for _, f := range fallbackRelease.FindAllStringSubmatch(v.Rule, -1) {
			r.fallbacks = append(r.fallbacks, f[1])
		}
	}
	version := spec.Properties["tritonConfig"].Properties["tritonVersion"]
	for _, e := range version.Enum {
		var s string
		Expect(json.Unmarshal(e.Raw, &s)).To(Succeed())
		r.enum = append(r.enum, s)
	}
	return r
}

// firstNGC returns the NGC release in which the grammar first accepts option.
func firstNGC(option string) (string, bool) {
	since, _, ok := triton.OptionSpan(option)
	return since.NGC, ok
}

var _ = Describe("The CRD's Triton release rules", func() {
	var rules releaseRules
	releases := triton.Releases()
	oldest, newest := releases[0], triton.Newest()

	BeforeEach(func() { rules = readReleaseRules() })

	It("map every Triton version to its NGC release, as the grammar's release table does", func() {
		want := make([]celEntry, 0, len(releases))
		for _, r := range releases {
			want = append(want, celEntry{r.Version, r.NGC})
		}
		Expect(rules.versionMaps).NotTo(BeEmpty(), "no spec-level rule maps Triton versions to NGC releases; %s", fixReleaseRules)
		for i, m := range rules.versionMaps {
			Expect(ruleDiff(m, want)).To(BeEmpty(), "version map #%d of the spec-level rules differs from triton.Releases(); %s", i+1, fixReleaseRules)
		}
	})

	It("know exactly the grammar's NGC releases", func() {
		want := make([]string, 0, len(releases))
		for _, r := range releases {
			want = append(want, r.NGC)
		}
		Expect(rules.ngcLists).NotTo(BeEmpty(), "no spec-level rule lists the known NGC releases; %s", fixReleaseRules)
		for i, l := range rules.ngcLists {
			Expect(ruleDiff(l, want)).To(BeEmpty(), "list #%d of known NGC releases differs from triton.Releases(); %s", i+1, fixReleaseRules)
		}
	})

	It("fall back to the renderer's default release, the newest of the grammar", func() {
		Expect(render.DefaultRelease).To(Equal(newest.NGC), "render.DefaultRelease is not the newest release of the grammar")
		Expect(rules.fallbacks).NotTo(BeEmpty(), "no spec-level rule falls back to a default release; %s", fixReleaseRules)
		for i, f := range rules.fallbacks {
			Expect(f).To(Equal(render.DefaultRelease), "fallback #%d of the spec-level rules is not render.DefaultRelease (%s); %s",
				i+1, newest, fixReleaseRules)
		}
	})

	It("offer every Triton version of the grammar as tritonConfig.tritonVersion", func() {
		want := make([]string, 0, len(releases))
		for _, r := range releases {
			want = append(want, r.Version)
		}
		Expect(ruleDiff(rules.enum, want)).To(BeEmpty(), "the tritonVersion enum differs from triton.Releases(); %s", fixReleaseRules)
	})

	It("gate each option at the NGC release that first accepts it", func() {
		Expect(rules.gateMaps).NotTo(BeEmpty(), "no spec-level rule maps options to their first NGC release; %s", fixReleaseRules)
		for i, m := range rules.gateMaps {
			Expect(ruleDiff(m, rules.gateMaps[0])).To(BeEmpty(), "option gate map #%d differs from the first one in the same rules; %s", i+1, fixReleaseRules)
			var wrong []string
			for _, p := range m {
				switch ngc, ok := firstNGC(p.key); {
				case !ok:
					wrong = append(wrong, fmt.Sprintf("%s: not an option of the grammar", p.key))
				case ngc != p.value:
					wrong = append(wrong, fmt.Sprintf("%s: the CRD says %s, the grammar %s", p.key, p.value, ngc))
				}
			}
			Expect(wrong).To(BeEmpty(), "option gate map #%d disagrees with triton.OptionSpan; %s", i+1, fixReleaseRules)
		}
		gated := map[string]bool{}
		for _, p := range rules.gateMaps[0] {
			gated[p.key] = true
		}
		var missing []string
		for _, name := range triton.UserSettable() {
			if ngc, _ := firstNGC(name); ngc != oldest.NGC && !gated[name] {
				missing = append(missing, fmt.Sprintf("'%s': '%s'", name, ngc))
			}
		}
		Expect(missing).To(BeEmpty(), "options a user may set that are younger than %s but not gated by the CRD, "+
			"which admits them for older images; add them to the gate map: %s", oldest, fixReleaseRules)
	})

	It("need no gate for removed options: the grammar has none a user may set", func() {
		// The rules only know first releases; an option dropped by a newer
		// Triton would need a rule of its own.
		var removed []string
		for _, name := range triton.UserSettable() {
			if _, until, _ := triton.OptionSpan(name); until != (triton.Release{}) {
				removed = append(removed, fmt.Sprintf("%s (last in %s)", name, until))
			}
		}
		slices.Sort(removed)
		Expect(removed).To(BeEmpty(), "the CRD admits these options for releases that no longer accept them; "+
			"add a spec-level rule refusing them after their last release, or take them off the CRD's option list: %s", fixReleaseRules)
	})
})
