package ociimage

import (
	"archive/tar"
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var platforms = []string{"linux/amd64", "linux/arm64"}

// stubOptions stand in for the cross-compiled managers: the builder treats
// the binary as opaque bytes, so any content exercises the same code path.
func stubOptions() Options {
	return Options{
		Binaries: []Binary{
			{Platform: "linux/amd64", Data: []byte("\x7fELF stub manager for amd64")},
			{Platform: "linux/arm64", Data: []byte("\x7fELF stub manager for arm64")},
		},
		Version:  "v0.1.0",
		Revision: "0123456789abcdef",
		Created:  time.Unix(1700000000, 0),
	}
}

func buildStub(t *testing.T, opts Options) (string, *Layout) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oci")
	if err := Build(dir, opts); err != nil {
		t.Fatalf("Build: %v", err)
	}
	l, err := Inspect(dir)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	return dir, l
}

func TestBuildWritesTheManagerImageForEachPlatform(t *testing.T) {
	opts := stubOptions()
	_, l := buildStub(t, opts)
	if err := Verify(l, platforms); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if l.IndexMediaType != MediaTypeIndex {
		t.Errorf("index media type %q", l.IndexMediaType)
	}
	if len(l.Images) != 2 {
		t.Fatalf("%d images, want 2", len(l.Images))
	}
	for i, img := range l.Images {
		assertImage(t, img, platforms[i], opts.Binaries[i].Data)
	}
}

// assertImage checks one platform's image field by field, apart from Verify.
func assertImage(t *testing.T, img Image, platform string, manager []byte) {
	t.Helper()
	if img.Platform != platform || img.Config.OS+"/"+img.Config.Architecture != platform {
		t.Errorf("index says %s, config %s/%s; want %s", img.Platform, img.Config.OS, img.Config.Architecture, platform)
	}
	if img.ManifestMediaType != MediaTypeManifest || img.ConfigMediaType != MediaTypeConfig ||
		!slices.Equal(img.LayerMediaTypes, []string{MediaTypeLayer}) {
		t.Errorf("%s: media types %q %q %q, want OCI and one gzip layer",
			img.Platform, img.ManifestMediaType, img.ConfigMediaType, img.LayerMediaTypes)
	}
	c := img.Config.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/manager"}) || c.WorkingDir != "/" {
		t.Errorf("%s: user %q entrypoint %q workdir %q", img.Platform, c.User, c.Entrypoint, c.WorkingDir)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.source":   "github.com/kalypsoserving/kalypso-serving",
		"org.opencontainers.image.title":    "kalypso-serving-manager",
		"org.opencontainers.image.version":  "v0.1.0",
		"org.opencontainers.image.revision": "0123456789abcdef",
		"org.opencontainers.image.created":  "2023-11-14T22:13:20Z",
	}
	if !maps.Equal(c.Labels, wantLabels) {
		t.Errorf("%s: labels %v, want %v", img.Platform, c.Labels, wantLabels)
	}
	m := img.Files["/manager"]
	if !bytes.Equal(m.Data, manager) || m.Mode != 0o755 || m.UID != 65532 || m.GID != 65532 {
		t.Errorf("%s: /manager %q mode %o owner %d:%d; want this platform's binary, 0755, 65532:65532",
			img.Platform, m.Data, m.Mode, m.UID, m.GID)
	}
	if tmp := img.Files["/tmp"]; tmp.Type != tar.TypeDir || tmp.Mode != 0o1777 {
		t.Errorf("%s: /tmp type %c mode %o, want a 1777 directory", img.Platform, tmp.Type, tmp.Mode)
	}
	assertNoShell(t, img)
	assertUserFiles(t, img)
	if n, err := countRoots(img.Files[CABundlePath].Data); err != nil || n <= 50 {
		t.Errorf("%s: CA bundle has %d roots (%v), want more than 50", img.Platform, n, err)
	}
}

func assertNoShell(t *testing.T, img Image) {
	t.Helper()
	for name, f := range img.Files {
		if strings.HasPrefix(name, "/bin") || strings.HasPrefix(name, "/usr") || strings.HasSuffix(name, "sh") {
			t.Errorf("%s: %s is in the image", img.Platform, name)
		}
		if f.Type == tar.TypeReg && f.Mode&0o111 != 0 && name != "/manager" {
			t.Errorf("%s: %s is executable", img.Platform, name)
		}
	}
}

func assertUserFiles(t *testing.T, img Image) {
	t.Helper()
	passwd := string(img.Files["/etc/passwd"].Data)
	if !strings.Contains(passwd, "\nnonroot:x:65532:65532:") {
		t.Errorf("%s: /etc/passwd has no nonroot user 65532:\n%s", img.Platform, passwd)
	}
	if group := string(img.Files["/etc/group"].Data); !strings.Contains(group, "\nnonroot:x:65532:") {
		t.Errorf("%s: /etc/group has no nonroot group 65532:\n%s", img.Platform, group)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	dirA, a := buildStub(t, stubOptions())
	dirB, b := buildStub(t, stubOptions())
	for i := range a.Images {
		if a.Images[i].Digest != b.Images[i].Digest {
			t.Errorf("%s: digests %s and %s from the same inputs", a.Images[i].Platform, a.Images[i].Digest, b.Images[i].Digest)
		}
	}
	indexA, _ := os.ReadFile(filepath.Join(dirA, "index.json"))
	indexB, _ := os.ReadFile(filepath.Join(dirB, "index.json"))
	if len(indexA) == 0 || !bytes.Equal(indexA, indexB) {
		t.Errorf("index.json differs between two builds:\n%s\n%s", indexA, indexB)
	}
	if blobsA, blobsB := blobNames(t, dirA), blobNames(t, dirB); !slices.Equal(blobsA, blobsB) {
		t.Errorf("blobs differ: %v and %v", blobsA, blobsB)
	}
	tarA, tarB := filepath.Join(t.TempDir(), "a.tar"), filepath.Join(t.TempDir(), "b.tar")
	if err := WriteArchive(dirA, tarA, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := WriteArchive(dirB, tarB, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	rawA, _ := os.ReadFile(tarA)
	rawB, _ := os.ReadFile(tarB)
	if len(rawA) == 0 || !bytes.Equal(rawA, rawB) {
		t.Errorf("archives of equal layouts differ (%d and %d bytes)", len(rawA), len(rawB))
	}

	// The digests follow the inputs: another binary or another time is another image.
	other := stubOptions()
	other.Binaries[1].Data = []byte("another arm64 manager")
	_, c := buildStub(t, other)
	if c.Images[0].Digest != a.Images[0].Digest || c.Images[1].Digest == a.Images[1].Digest {
		t.Errorf("changing the arm64 binary: amd64 %s -> %s, arm64 %s -> %s; want only arm64 to change",
			a.Images[0].Digest, c.Images[0].Digest, a.Images[1].Digest, c.Images[1].Digest)
	}
	later := stubOptions()
	later.Created = later.Created.Add(time.Second)
	if _, d := buildStub(t, later); d.Images[0].Digest == a.Images[0].Digest {
		t.Errorf("another creation time gave the same digest %s", a.Images[0].Digest)
	}
}

func blobNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
