package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// writeArchives writes one release archive per platform into a temporary
// directory, each holding the executable the manifest names (mode 0755
// unless mode says otherwise).
func writeArchives(t *testing.T, version string, mode int64) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range Platforms {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		body := []byte("binary for " + p.OS + "/" + p.Arch)
		if err := tw.WriteHeader(&tar.Header{Name: BinName(p.OS), Mode: mode, Size: int64(len(body)),
			Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ArchiveName(version, p.OS, p.Arch)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReleaseManifestIsValidAndPointsAtItsArchives(t *testing.T) {
	dir := writeArchives(t, "v0.3.1", 0o755)
	rel, err := NewRelease("v0.3.1", "https://kalypso.example/docs", "https://downloads.example/v0.3.1/", dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Render(rel)
	if err != nil {
		t.Fatal(err)
	}
	var got plugin
	if err := yaml.UnmarshalStrict(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Platforms) != len(Platforms) {
		t.Fatalf("%d platforms, want %d", len(got.Spec.Platforms), len(Platforms))
	}
	for i, p := range got.Spec.Platforms {
		want := rel.Platforms[i]
		if p.URI != "https://downloads.example/v0.3.1/"+ArchiveName("v0.3.1", want.OS, want.Arch) {
			t.Errorf("platform %d uri %q", i, p.URI)
		}
		if p.SHA256 != want.SHA256 || p.Bin != BinName(want.OS) {
			t.Errorf("platform %d: sha256 %q bin %q, want %q %q", i, p.SHA256, p.Bin, want.SHA256, BinName(want.OS))
		}
		if p.Selector.MatchLabels["os"] != want.OS || p.Selector.MatchLabels["arch"] != want.Arch {
			t.Errorf("platform %d selector %v", i, p.Selector.MatchLabels)
		}
	}
}

func TestReleaseRefusesArchivesWithoutTheExecutable(t *testing.T) {
	dir := writeArchives(t, "v0.3.1", 0o644)
	_, err := NewRelease("v0.3.1", "https://kalypso.example", "https://downloads.example", dir)
	if err == nil || !strings.Contains(err.Error(), "not executable") {
		t.Fatalf("error %v, want: not executable", err)
	}
	if _, err := NewRelease("v0.3.2", "https://kalypso.example", "https://downloads.example", dir); err == nil {
		t.Fatal("a release with no archive of its version was accepted")
	}
}

func TestValidateRefusesBrokenManifests(t *testing.T) {
	dir := writeArchives(t, "v1.0.0", 0o755)
	rel, err := NewRelease("v1.0.0", "https://kalypso.example", "https://downloads.example", dir)
	if err != nil {
		t.Fatal(err)
	}
	good, err := Render(rel)
	if err != nil {
		t.Fatal(err)
	}
	sum := rel.Platforms[0].SHA256
	cases := map[string]struct{ old, new, want string }{
		"version without v":    {"version: v1.0.0", "version: 1.0.0", "spec.version"},
		"unknown field":        {"shortDescription:", "shortDescripton:", "unknown field"},
		"plain http uri":       {"uri: https://", "uri: http://", "https URL"},
		"short sha256":         {"sha256: " + sum, "sha256: " + sum[:10], "sha256"},
		"uppercase sha256":     {"sha256: " + sum, "sha256: " + strings.ToUpper(sum), "sha256"},
		"other plugin name":    {"name: kalypso", "name: other", "metadata.name"},
		"bin not installed":    {"- from: kubectl-kalypso\n", "- from: README.md\n", "no file installs"},
		"two for one arch":     {"arch: arm64", "arch: amd64", "matched by 2 entries"},
		"path in bin":          {"bin: kubectl-kalypso\n", "bin: ../kubectl-kalypso\n", "bin"},
		"bad selector":         {"matchLabels:", "matchExpressions: [{key: os, operator: Sometimes}]\n      matchLabels:", "selector"},
		"wrong kind":           {"kind: Plugin", "kind: Index", "kind"},
		"no short description": {"  shortDescription: Show and preview KalypsoServing Triton servers\n", "", "shortDescription"},
	}
	if err := Validate(good); err != nil {
		t.Fatalf("the rendered manifest is invalid: %v", err)
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(string(good), c.old) {
				t.Fatalf("manifest has no %q", c.old)
			}
			bad := strings.Replace(string(good), c.old, c.new, 1)
			err := Validate([]byte(bad))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}
