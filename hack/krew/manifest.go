package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

//go:embed kalypso.yaml.tmpl
var manifestTemplate string

// pluginName is the krew name: `kubectl krew install kalypso`, run as
// `kubectl kalypso`.
const pluginName = "kalypso"

// Platforms are the os/arch pairs a release ships an archive for.
var Platforms = []struct{ OS, Arch string }{
	{"linux", amd64}, {"linux", arm64},
	{"darwin", amd64}, {"darwin", arm64},
	{"windows", amd64},
}

const amd64, arm64 = "amd64", "arm64"

// Platform is one archive of a release.
type Platform struct {
	OS, Arch, URI, SHA256, Bin string
}

// Release is what the template is filled with.
type Release struct {
	Version   string
	Homepage  string
	Platforms []Platform
}

// ArchiveName is the file name `make cli-dist` gives a platform's archive.
func ArchiveName(version, goos, goarch string) string {
	return fmt.Sprintf("kubectl-kalypso_%s_%s_%s.tar.gz", version, goos, goarch)
}

// BinName is the executable inside a platform's archive.
func BinName(goos string) string {
	if goos == "windows" {
		return "kubectl-kalypso.exe"
	}
	return "kubectl-kalypso"
}

// NewRelease reads every platform's archive in dir, checks it holds the
// plugin's executable at its root, and records its URI under urlBase and
// its sha256.
func NewRelease(version, homepage, urlBase, dir string) (*Release, error) {
	rel := &Release{Version: version, Homepage: homepage}
	for _, p := range Platforms {
		name := ArchiveName(version, p.OS, p.Arch)
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		bin := BinName(p.OS)
		if err := archiveHolds(data, bin); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		sum := sha256.Sum256(data)
		rel.Platforms = append(rel.Platforms, Platform{OS: p.OS, Arch: p.Arch, Bin: bin,
			URI: strings.TrimSuffix(urlBase, "/") + "/" + name, SHA256: hex.EncodeToString(sum[:])})
	}
	return rel, nil
}

// archiveHolds checks that a .tar.gz has a regular, executable file named
// bin at its root.
func archiveHolds(data []byte, bin string) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("no %s at the archive's root", bin)
		}
		if err != nil {
			return err
		}
		if strings.TrimPrefix(h.Name, "./") == bin && h.Typeflag == tar.TypeReg {
			if h.Mode&0o111 == 0 {
				return fmt.Errorf("%s is not executable", bin)
			}
			return nil
		}
	}
}

// Render fills the manifest template and validates the result.
func Render(rel *Release) ([]byte, error) {
	tmpl, err := template.New("manifest").Option("missingkey=error").Parse(manifestTemplate)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, rel); err != nil {
		return nil, err
	}
	if err := Validate(out.Bytes()); err != nil {
		return nil, fmt.Errorf("rendered manifest: %w", err)
	}
	return out.Bytes(), nil
}

// plugin is the part of krew's Plugin schema (v1alpha2) a manifest uses;
// decoding is strict, so a misspelt or unknown field is an error.
type plugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage,omitempty"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description,omitempty"`
		Caveats          string `json:"caveats,omitempty"`
		Platforms        []struct {
			Selector *metav1.LabelSelector `json:"selector"`
			URI      string                `json:"uri"`
			SHA256   string                `json:"sha256"`
			Bin      string                `json:"bin"`
			Files    []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
		} `json:"platforms"`
	} `json:"spec"`
}

var (
	semverRE = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	nameRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	sha256RE = regexp.MustCompile(`^[a-f0-9]{64}$`)
)

// Validate checks a manifest offline the way krew's index checks one: the
// schema, the name, a v-prefixed semantic version, a short description,
// and for every platform an https URI, a sha256, a binary that the files
// install and a label selector that matches exactly one os/arch of the
// release (no two platforms may match the same one).
func Validate(data []byte) error {
	var p plugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return err
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(p.APIVersion == "krew.googlecontainertools.github.com/v1alpha2", "apiVersion %q", p.APIVersion)
	check(p.Kind == "Plugin", "kind %q", p.Kind)
	check(p.Metadata.Name == pluginName && nameRE.MatchString(p.Metadata.Name), "metadata.name %q", p.Metadata.Name)
	check(semverRE.MatchString(p.Spec.Version), "spec.version %q is not a v-prefixed semantic version", p.Spec.Version)
	check(p.Spec.ShortDescription != "" && len(p.Spec.ShortDescription) <= 60,
		"spec.shortDescription must be 1-60 characters")
	check(len(p.Spec.Platforms) > 0, "spec.platforms is empty")
	matched := map[string]int{}
	for i, pl := range p.Spec.Platforms {
		u, err := url.Parse(pl.URI)
		check(err == nil && u.Scheme == "https" && u.Host != "", "platforms[%d].uri %q is not an https URL", i, pl.URI)
		check(sha256RE.MatchString(pl.SHA256), "platforms[%d].sha256 %q is not a lowercase hex sha256", i, pl.SHA256)
		check(pl.Bin != "" && !strings.ContainsAny(pl.Bin, `/\`), "platforms[%d].bin %q", i, pl.Bin)
		installs := false
		for _, f := range pl.Files {
			check(f.From != "" && f.To != "" && !strings.Contains(f.To, ".."), "platforms[%d].files %q -> %q", i, f.From, f.To)
			installs = installs || f.From == pl.Bin || f.From == "*"
		}
		check(installs, "platforms[%d]: no file installs bin %q", i, pl.Bin)
		sel, err := metav1.LabelSelectorAsSelector(pl.Selector)
		if pl.Selector == nil || err != nil {
			check(false, "platforms[%d].selector: %v", i, err)
			continue
		}
		n := 0
		for _, want := range Platforms {
			if sel.Matches(labels.Set{"os": want.OS, "arch": want.Arch}) {
				matched[want.OS+"/"+want.Arch]++
				n++
			}
		}
		check(n == 1, "platforms[%d].selector %s matches %d release platforms, want 1", i, sel, n)
	}
	for _, want := range Platforms {
		k := want.OS + "/" + want.Arch
		check(matched[k] == 1, "platform %s is matched by %d entries, want 1", k, matched[k])
	}
	return errors.Join(errs...)
}
