package ociimage

import (
	"archive/tar"
	"bytes"
	"encoding/pem"
	"fmt"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The non-root identity the manager runs as; config/manager/manager.yaml
// sets the same runAsUser and runAsGroup.
const (
	NonRootUID  = 65532
	NonRootName = "nonroot"
	// User is the image config's user, numeric so that the kubelet can
	// enforce runAsNonRoot without reading /etc/passwd.
	User = "65532:65532"
)

// Paths inside the image.
const (
	ManagerPath   = "/manager"
	CABundlePath  = "/etc/ssl/certs/ca-certificates.crt"
	PasswdPath    = "/etc/passwd"
	GroupPath     = "/etc/group"
	nonRootHome   = "/home/nonroot"
	noLoginShell  = "/sbin/nologin"
	directoryMode = 0o755
)

// CABundle returns the PEM bundle of the root certificates of the NSS trust
// store as vendored by the golang.org/x/crypto/x509roots/fallback module, so
// the roots are pinned by go.sum like any other dependency. Roots that NSS
// only trusts with a constraint (a distrust-after date) are left out: a PEM
// file cannot carry the constraint, and without it such a root would be
// trusted for certificates NSS rejects.
func CABundle() []byte {
	var buf bytes.Buffer
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate})
	}
	return buf.Bytes()
}

// passwd and group name root (for files owned by uid 0) and the non-root
// user; neither has a login shell, and the image has none to offer.
func passwd() []byte {
	return fmt.Appendf(nil, "root:x:0:0:root:/root:%s\n%s:x:%d:%d:%s:%s:%s\n",
		noLoginShell, NonRootName, NonRootUID, NonRootUID, NonRootName, nonRootHome, noLoginShell)
}

func group() []byte {
	return fmt.Appendf(nil, "root:x:0:\n%s:x:%d:\n", NonRootName, NonRootUID)
}

// entry is one file or directory of the layer.
type entry struct {
	name string // relative to /, directories end in a slash
	mode int64
	uid  int
	data []byte
}

// rootFS lists the layer's entries in the order they are written: sorted by
// path, so a parent directory always precedes its children.
func rootFS(manager, caBundle []byte) []entry {
	return []entry{
		{name: "etc/", mode: directoryMode},
		{name: "etc/group", mode: 0o644, data: group()},
		{name: "etc/passwd", mode: 0o644, data: passwd()},
		{name: "etc/ssl/", mode: directoryMode},
		{name: "etc/ssl/certs/", mode: directoryMode},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: caBundle},
		{name: "home/", mode: directoryMode},
		{name: "home/nonroot/", mode: directoryMode, uid: NonRootUID},
		{name: "manager", mode: 0o755, uid: NonRootUID, data: manager},
		// Sticky and world-writable as programs expect; read-only like
		// the rest when the Deployment sets readOnlyRootFilesystem.
		{name: "tmp/", mode: 0o1777},
	}
}

// layerTar writes the uncompressed layer: numeric owners only, one
// modification time for every entry.
func layerTar(manager, caBundle []byte, modTime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range rootFS(manager, caBundle) {
		hdr := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.uid,
			ModTime: modTime,
			Format:  tar.FormatPAX,
		}
		if e.name[len(e.name)-1] == '/' {
			hdr.Typeflag = tar.TypeDir
		} else {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("tar %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
