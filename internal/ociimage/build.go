package ociimage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Source is the image's org.opencontainers.image.source label: the module
// path, which names the project without naming where it is hosted.
const Source = "github.com/kalypsoserving/kalypso-serving"

// Title is the image's org.opencontainers.image.title label.
const Title = "kalypso-serving-manager"

// Binary is a static manager executable built for one platform.
type Binary struct {
	// Platform is "os/arch", for example "linux/arm64".
	Platform string
	Data     []byte
}

// Options describe one image build. Everything that ends up in the image
// comes from here, so equal options give equal digests.
type Options struct {
	Binaries []Binary
	// Version and Revision fill the OCI version and revision labels; empty
	// values leave the labels out.
	Version  string
	Revision string
	// Created is the creation time of the configs and the modification time
	// of every file: the SOURCE_DATE_EPOCH of a release, or the Unix epoch.
	Created time.Time
}

// ParsePlatform splits "os/arch" into a platform with both parts set.
func ParsePlatform(s string) (v1.Platform, error) {
	osName, arch, ok := strings.Cut(s, "/")
	if !ok || osName == "" || arch == "" || strings.Contains(arch, "/") {
		return v1.Platform{}, fmt.Errorf("platform %q is not os/arch", s)
	}
	return v1.Platform{OS: osName, Architecture: arch}, nil
}

// Build writes a multi-architecture OCI image layout to dir: index.json names
// one image manifest per binary, in the order given. dir must be absent,
// empty or an earlier layout, which is replaced.
func Build(dir string, opts Options) error {
	if len(opts.Binaries) == 0 {
		return errors.New("no binaries: give at least one platform")
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	caBundle := CABundle()
	seen := map[string]bool{}
	for _, b := range opts.Binaries {
		platform, err := ParsePlatform(b.Platform)
		if err != nil {
			return err
		}
		if seen[b.Platform] {
			return fmt.Errorf("platform %s given twice", b.Platform)
		}
		seen[b.Platform] = true
		img, err := image(platform, b.Data, caBundle, opts)
		if err != nil {
			return fmt.Errorf("image for %s: %w", b.Platform, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &platform},
		})
	}
	if err := clearLayout(dir); err != nil {
		return err
	}
	if _, err := layout.Write(dir, idx); err != nil {
		return err
	}
	// The library writes these two files executable; they are data.
	for _, name := range []string{"oci-layout", "index.json"} {
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// image is the single-layer image of one platform.
func image(platform v1.Platform, manager, caBundle []byte, opts Options) (v1.Image, error) {
	raw, err := layerTar(manager, caBundle, opts.Created.UTC())
	if err != nil {
		return nil, err
	}
	compressed, err := gzipped(raw)
	if err != nil {
		return nil, err
	}
	// Given gzip, the tarball layer keeps these bytes as they are and
	// computes the diff ID from the decompressed stream.
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(compressed)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: opts.Created.UTC()}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   created,
			CreatedBy: "hack/image: manager binary, CA roots, passwd and group of the nonroot user",
			Comment:   "built without a container engine or a base image",
		},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS = platform.OS
	cfg.Architecture = platform.Architecture
	cfg.Variant = platform.Variant
	cfg.Created = created
	cfg.Config = v1.Config{
		User:       User,
		Entrypoint: []string{ManagerPath},
		WorkingDir: "/",
		Env:        []string{"SSL_CERT_FILE=" + CABundlePath},
		Labels:     labels(opts),
	}
	return mutate.ConfigFile(img, cfg)
}

// labels are the OCI annotation keys the registries and scanners read.
func labels(opts Options) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.source":  Source,
		"org.opencontainers.image.title":   Title,
		"org.opencontainers.image.created": opts.Created.UTC().Format(time.RFC3339),
	}
	if opts.Version != "" {
		l["org.opencontainers.image.version"] = opts.Version
	}
	if opts.Revision != "" {
		l["org.opencontainers.image.revision"] = opts.Revision
	}
	return l
}

// clearLayout makes room for a new layout without deleting anything that is
// not one: stale blobs of an earlier build would otherwise stay behind.
func clearLayout(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return fmt.Errorf("%s is neither empty nor an OCI image layout; not replacing it", dir)
	}
	return os.RemoveAll(dir)
}
