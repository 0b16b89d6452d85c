package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// gzipped compresses a layer. The gzip header carries no name and no time,
// so the compressed bytes, and with them the layer digest, depend on the
// content alone (for one Go release: the compressor may change between
// releases, the uncompressed diff ID does not).
func gzipped(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteArchive packs the layout in dir into one tar file, the form that
// `docker load`, `podman load` and `skopeo copy oci-archive:` accept. Entries
// are in lexical order with the given modification time, so equal layouts
// give equal archives.
func WriteArchive(dir, archive string, modTime time.Time) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(archive), ".oci-archive-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	tw := tar.NewWriter(tmp)
	// WalkDir visits entries in lexical order.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, walkErr error) error {
		if walkErr != nil || path == dir {
			return walkErr
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		return addArchiveEntry(tw, path, filepath.ToSlash(rel), d, modTime.UTC())
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), archive)
}

func addArchiveEntry(tw *tar.Writer, path, name string, d fs.DirEntry, modTime time.Time) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, ModTime: modTime, Format: tar.FormatPAX}
	switch {
	case d.IsDir():
		hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, name+"/", 0o755
		return tw.WriteHeader(hdr)
	case d.Type().IsRegular():
	default:
		return fmt.Errorf("%s: not a regular file or directory", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}
