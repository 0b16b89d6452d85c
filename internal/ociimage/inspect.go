package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Layout is an OCI image layout as read back by Inspect.
type Layout struct {
	IndexMediaType string
	Images         []Image
}

// Image is one platform's image of a layout, with the merged filesystem of
// its layers.
type Image struct {
	// Platform is "os/arch" from the index entry.
	Platform          string
	Digest            string
	ManifestMediaType string
	ConfigMediaType   string
	LayerMediaTypes   []string
	Config            ConfigFile
	// Size is the bytes a registry stores: manifest, config and layers.
	Size int64
	// Files maps absolute paths to entries; the last layer to name a path wins.
	Files map[string]File
}

// ConfigFile is the part of an OCI image configuration the checks read.
type ConfigFile struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		WorkingDir string            `json:"WorkingDir"`
		Env        []string          `json:"Env"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// File is one tar entry of a layer.
type File struct {
	Type     byte
	Mode     int64
	UID, GID int
	Size     int64
	Linkname string
	// Data is the content of a regular file up to maxKeptFile bytes (the
	// manager binary itself is only measured).
	Data []byte
}

const maxKeptFile = 4 << 20

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	Platform  *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant,omitempty"`
	} `json:"platform,omitempty"`
}

type manifest struct {
	MediaType string       `json:"mediaType"`
	Config    descriptor   `json:"config"`
	Layers    []descriptor `json:"layers"`
	Manifests []descriptor `json:"manifests"`
}

// Inspect reads the layout in dir with the standard library alone. Every
// blob is checked against its digest and size, every layer against its diff
// ID, so what it returns is what a registry or a runtime would see.
func Inspect(dir string) (*Layout, error) {
	var marker struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := readJSON(filepath.Join(dir, "oci-layout"), &marker); err != nil {
		return nil, err
	}
	if marker.Version != "1.0.0" {
		return nil, fmt.Errorf("oci-layout: imageLayoutVersion %q, want 1.0.0", marker.Version)
	}
	var index manifest
	if err := readJSON(filepath.Join(dir, "index.json"), &index); err != nil {
		return nil, err
	}
	l := &Layout{IndexMediaType: index.MediaType}
	for _, d := range index.Manifests {
		img, err := inspectImage(dir, d)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
		l.Images = append(l.Images, *img)
	}
	return l, nil
}

func inspectImage(dir string, d descriptor) (*Image, error) {
	if d.Platform == nil {
		return nil, errors.New("index entry has no platform")
	}
	img := &Image{Platform: d.Platform.OS + "/" + d.Platform.Architecture, Digest: d.Digest,
		ManifestMediaType: d.MediaType, Size: d.Size, Files: map[string]File{}}
	if d.Platform.Variant != "" {
		img.Platform += "/" + d.Platform.Variant
	}
	raw, err := readBlob(dir, d)
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m.MediaType != d.MediaType {
		return nil, fmt.Errorf("manifest says media type %q, the index %q", m.MediaType, d.MediaType)
	}
	img.ConfigMediaType = m.Config.MediaType
	img.Size += m.Config.Size
	cfg, err := readBlob(dir, m.Config)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(cfg, &img.Config); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(img.Config.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%d layers but %d diff IDs", len(m.Layers), len(img.Config.RootFS.DiffIDs))
	}
	for i, layer := range m.Layers {
		img.LayerMediaTypes = append(img.LayerMediaTypes, layer.MediaType)
		img.Size += layer.Size
		if err := readLayer(dir, layer, img.Config.RootFS.DiffIDs[i], img.Files); err != nil {
			return nil, fmt.Errorf("layer %s: %w", layer.Digest, err)
		}
	}
	return img, nil
}

// readLayer unpacks one layer into files, checking the uncompressed bytes
// against the config's diff ID.
func readLayer(dir string, d descriptor, diffID string, files map[string]File) error {
	compressed, err := readBlob(dir, d)
	if err != nil {
		return err
	}
	var r io.Reader = bytes.NewReader(compressed)
	if strings.HasSuffix(d.MediaType, "+gzip") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		r = zr
	}
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(r, h))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		f := File{Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid, Size: hdr.Size, Linkname: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg && hdr.Size <= maxKeptFile {
			if f.Data, err = io.ReadAll(tr); err != nil {
				return err
			}
		}
		files[path.Clean("/"+hdr.Name)] = f
	}
	// The tar reader stops at the end-of-archive marker; the diff ID covers
	// the padding after it too.
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID {
		return fmt.Errorf("uncompressed digest %s, config diff ID %s", got, diffID)
	}
	return nil
}

// readBlob returns a blob after checking its size and digest.
func readBlob(dir string, d descriptor) ([]byte, error) {
	alg, hexDigest, ok := strings.Cut(d.Digest, ":")
	if !ok || alg != "sha256" || len(hexDigest) != sha256.Size*2 {
		return nil, fmt.Errorf("digest %q is not sha256", d.Digest)
	}
	data, err := os.ReadFile(filepath.Join(dir, "blobs", alg, hexDigest))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != d.Size {
		return nil, fmt.Errorf("blob %s has %d bytes, descriptor says %d", d.Digest, len(data), d.Size)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != hexDigest {
		return nil, fmt.Errorf("blob %s does not match its digest", d.Digest)
	}
	return data, nil
}

func readJSON(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	return nil
}
