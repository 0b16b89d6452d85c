package ociimage

import (
	"archive/tar"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clone copies a layout deeply enough for a test to break one image.
func clone(l *Layout) *Layout {
	c := &Layout{IndexMediaType: l.IndexMediaType}
	for _, img := range l.Images {
		img.Files = maps.Clone(img.Files)
		img.LayerMediaTypes = append([]string(nil), img.LayerMediaTypes...)
		c.Images = append(c.Images, img)
	}
	return c
}

func TestVerifyRejectsWhatTheManagerImageMustNotBe(t *testing.T) {
	_, good := buildStub(t, stubOptions())
	if err := Verify(good, platforms); err != nil {
		t.Fatalf("the built layout does not verify: %v", err)
	}
	cases := []struct {
		name      string
		platforms []string
		breakIt   func(l *Layout)
		want      string
	}{
		{"a shell is rejected even when not executable", platforms, func(l *Layout) {
			l.Images[1].Files["/bin/sh"] = File{Type: tar.TypeReg, Mode: 0o644, Size: 1}
		}, "linux/arm64: /bin/sh: a shell"},
		{"an executable besides the manager is rejected", platforms, func(l *Layout) {
			l.Images[0].Files["/usr/local/bin/tool"] = File{Type: tar.TypeReg, Mode: 0o755, Size: 1}
		}, "an executable besides /manager"},
		{"a link is rejected", platforms, func(l *Layout) {
			l.Images[0].Files["/entry"] = File{Type: tar.TypeSymlink, Linkname: "/manager"}
		}, "a link (to /manager)"},
		{"root is rejected", platforms, func(l *Layout) { l.Images[0].Config.Config.User = "0:0" }, `"0:0" is root`},
		{"a user name is rejected: the kubelet cannot check it", platforms, func(l *Layout) {
			l.Images[0].Config.Config.User = "nonroot"
		}, "not a numeric uid:gid"},
		{"a shell-form entrypoint is rejected", platforms, func(l *Layout) {
			l.Images[0].Config.Config.Entrypoint = []string{"/bin/sh", "-c", "/manager"}
		}, "entrypoint"},
		{"a missing platform is reported", []string{"linux/amd64", "linux/arm64", "linux/s390x"}, func(*Layout) {}, "platforms"},
		{"a config for another architecture is reported", platforms, func(l *Layout) {
			l.Images[1].Config.Architecture = "amd64"
		}, "config is for linux/amd64, the index entry for linux/arm64"},
		{"a Docker media type is rejected", platforms, func(l *Layout) {
			l.Images[0].LayerMediaTypes[0] = "application/vnd.docker.image.rootfs.diff.tar.gzip"
		}, "layer media type"},
		{"a missing CA bundle is reported", platforms, func(l *Layout) { delete(l.Images[0].Files, CABundlePath) }, CABundlePath},
		{"a short CA bundle is reported", platforms, func(l *Layout) {
			f := l.Images[0].Files[CABundlePath]
			f.Data = f.Data[:strings.Index(string(f.Data), "-----END CERTIFICATE-----")+26]
			l.Images[0].Files[CABundlePath] = f
		}, "1 roots, want at least 50"},
		{"passwd without the nonroot user is reported", platforms, func(l *Layout) {
			l.Images[0].Files[PasswdPath] = File{Type: tar.TypeReg, Mode: 0o644, Data: []byte("root:x:0:0::/:/sbin/nologin\n")}
		}, "/etc/passwd: no user with uid 65532"},
		{"another source label is reported", platforms, func(l *Layout) {
			l.Images[0].Config.Config.Labels = map[string]string{"org.opencontainers.image.source": "elsewhere"}
		}, "source label"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := clone(good)
			tc.breakIt(l)
			err := Verify(l, tc.platforms)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestInspectRejectsATamperedBlob(t *testing.T) {
	dir, l := buildStub(t, stubOptions())
	hexDigest := strings.TrimPrefix(l.Images[0].Digest, "sha256:")
	blob := filepath.Join(dir, "blobs", "sha256", hexDigest)
	data, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-2] ^= 1
	if err := os.WriteFile(blob, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(dir); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Errorf("Inspect of a tampered manifest = %v, want a digest mismatch", err)
	}
}

func TestBuildReplacesOnlyAnEarlierLayout(t *testing.T) {
	dir, _ := buildStub(t, stubOptions())
	stale := filepath.Join(dir, "blobs", "sha256", "stale")
	if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Build(dir, stubOptions()); err != nil {
		t.Fatalf("rebuilding over a layout: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale blob of the earlier layout survived the rebuild (stat: %v)", err)
	}

	other := t.TempDir()
	keep := filepath.Join(other, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Build(other, stubOptions()); err == nil || !strings.Contains(err.Error(), "not replacing it") {
		t.Errorf("Build into a directory that is no layout = %v, want a refusal", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the refused directory lost its file: %v", err)
	}
}

func TestBuildRejectsBadPlatforms(t *testing.T) {
	for _, platforms := range [][]string{{}, {"amd64"}, {"linux/amd64", "linux/amd64"}, {"linux/"}} {
		opts := Options{}
		for _, p := range platforms {
			opts.Binaries = append(opts.Binaries, Binary{Platform: p, Data: []byte("m")})
		}
		if err := Build(filepath.Join(t.TempDir(), "oci"), opts); err == nil {
			t.Errorf("Build with platforms %q succeeded", platforms)
		}
	}
}
