package ociimage

import (
	"archive/tar"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// OCI media types the layout must use throughout: a registry then serves it
// as written, with no Docker-format conversion.
const (
	MediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// MinCARoots is the fewest CA roots a usable bundle has; the NSS store holds
// well over a hundred.
const MinCARoots = 50

// shells are the names of the interpreters an attacker would reach for.
var shells = []string{"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "toybox"}

// Verify reports every way the layout falls short of the manager image: the
// platforms (exactly these, in this order), OCI media types, a numeric
// non-root user, the /manager entrypoint as the one executable file and no
// shell, parseable CA roots, and passwd and group entries for the user.
func Verify(l *Layout, platforms []string) error {
	var errs []error
	if l.IndexMediaType != MediaTypeIndex {
		errs = append(errs, fmt.Errorf("index media type %q, want %q", l.IndexMediaType, MediaTypeIndex))
	}
	got := make([]string, 0, len(l.Images))
	for _, img := range l.Images {
		got = append(got, img.Platform)
	}
	if !slices.Equal(got, platforms) {
		errs = append(errs, fmt.Errorf("platforms %v, want %v", got, platforms))
	}
	for _, img := range l.Images {
		for _, err := range verifyImage(&img) {
			errs = append(errs, fmt.Errorf("%s: %w", img.Platform, err))
		}
	}
	return errors.Join(errs...)
}

func verifyImage(img *Image) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if img.ManifestMediaType != MediaTypeManifest || img.ConfigMediaType != MediaTypeConfig {
		fail("manifest/config media types %q/%q, want OCI", img.ManifestMediaType, img.ConfigMediaType)
	}
	for _, mt := range img.LayerMediaTypes {
		if mt != MediaTypeLayer {
			fail("layer media type %q, want %q", mt, MediaTypeLayer)
		}
	}
	cfg := img.Config
	if p := cfg.OS + "/" + cfg.Architecture; p != img.Platform {
		fail("config is for %s, the index entry for %s", p, img.Platform)
	}
	if err := nonRoot(cfg.Config.User); err != nil {
		fail("user: %w", err)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{ManagerPath}) || len(cfg.Config.Cmd) != 0 {
		fail("entrypoint %q cmd %q, want [%s] and no cmd", cfg.Config.Entrypoint, cfg.Config.Cmd, ManagerPath)
	}
	if src := cfg.Config.Labels["org.opencontainers.image.source"]; src != Source {
		fail("source label %q, want %q", src, Source)
	}
	errs = append(errs, verifyFiles(img.Files)...)
	return errs
}

// nonRoot accepts a numeric uid:gid other than root's, which the kubelet can
// check against runAsNonRoot without reading the image's /etc/passwd.
func nonRoot(user string) error {
	uid, gid, ok := strings.Cut(user, ":")
	u, errU := strconv.Atoi(uid)
	_, errG := strconv.Atoi(gid)
	switch {
	case !ok || errU != nil || errG != nil:
		return fmt.Errorf("%q is not a numeric uid:gid", user)
	case u == 0:
		return fmt.Errorf("%q is root", user)
	}
	return nil
}

func verifyFiles(files map[string]File) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for name, f := range files {
		if slices.Contains(shells, path.Base(name)) {
			fail("%s: a shell in the image", name)
		}
		if f.Type == tar.TypeReg && f.Mode&0o111 != 0 && name != ManagerPath {
			fail("%s: an executable besides %s", name, ManagerPath)
		}
		if f.Type == tar.TypeSymlink || f.Type == tar.TypeLink {
			fail("%s: a link (to %s); the image holds plain files only", name, f.Linkname)
		}
	}
	if m, ok := files[ManagerPath]; !ok || m.Type != tar.TypeReg || m.Mode&0o777 != 0o755 || m.Size == 0 {
		fail("%s: missing, empty or not mode 0755", ManagerPath)
	}
	if n, err := countRoots(files[CABundlePath].Data); err != nil {
		fail("%s: %w", CABundlePath, err)
	} else if n < MinCARoots {
		fail("%s: %d roots, want at least %d", CABundlePath, n, MinCARoots)
	}
	uid := strconv.Itoa(NonRootUID)
	if !hasEntry(files[PasswdPath].Data, 2, uid) {
		fail("%s: no user with uid %s", PasswdPath, uid)
	}
	if !hasEntry(files[GroupPath].Data, 2, uid) {
		fail("%s: no group with gid %s", GroupPath, uid)
	}
	return errs
}

// countRoots parses every certificate of a PEM bundle and checks that a
// certificate pool accepts it, as Go's TLS client loading SSL_CERT_FILE does.
func countRoots(pemData []byte) (int, error) {
	if !x509.NewCertPool().AppendCertsFromPEM(pemData) {
		return 0, errors.New("no certificate a pool accepts")
	}
	n := 0
	for rest := pemData; ; n++ {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return n, fmt.Errorf("certificate %d: %w", n+1, err)
		}
	}
	return n, nil
}

// hasEntry reports whether a colon-separated file (passwd, group) has a line
// whose field i equals value.
func hasEntry(data []byte, i int, value string) bool {
	for line := range strings.Lines(string(data)) {
		fields := strings.Split(strings.TrimSpace(line), ":")
		if len(fields) > i && fields[i] == value {
			return true
		}
	}
	return false
}
