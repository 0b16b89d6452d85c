// Command image packs cross-compiled manager binaries into a
// multi-architecture OCI image layout, with no container engine and no base
// image (`make docker-build` runs it when no Docker engine answers), and
// checks a layout against what the manager image must be:
//
//	image -binary linux/amd64=bin/image/linux-amd64/manager -binary linux/arm64=... \
//	      -out bin/image/oci -archive bin/image/manager-image.tar -version v0.1.0 -revision abc123
//	image -verify bin/image/oci -platforms linux/amd64,linux/arm64
//
// SOURCE_DATE_EPOCH, when set, is the creation time of the image and of its
// files; otherwise the Unix epoch is, so rebuilding the same binaries gives
// the same digests.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kalypsoserving/kalypso-serving/internal/ociimage"
)

// binaryFlags collects repeated -binary os/arch=path flags.
type binaryFlags []string

func (b *binaryFlags) String() string     { return strings.Join(*b, ",") }
func (b *binaryFlags) Set(v string) error { *b = append(*b, v); return nil }

func main() {
	var binaries binaryFlags
	flag.Var(&binaries, "binary", "os/arch=path of a static manager binary; repeat once per platform")
	out := flag.String("out", "bin/image/oci", "directory of the OCI image layout to write (replaced if it is one)")
	archive := flag.String("archive", "", "also write the layout as one tar file here (docker load / podman load)")
	version := flag.String("version", "", "org.opencontainers.image.version label")
	revision := flag.String("revision", "", "org.opencontainers.image.revision label")
	verify := flag.String("verify", "", "check the layout in this directory instead of building one")
	platforms := flag.String("platforms", "linux/amd64,linux/arm64", "with -verify: the platforms the layout must hold, in order")
	flag.Parse()

	var err error
	if *verify != "" {
		err = check(*verify, strings.Split(*platforms, ","))
	} else {
		err = build(binaries, *out, *archive, ociimage.Options{Version: *version, Revision: *revision})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func build(binaries []string, out, archive string, opts ociimage.Options) error {
	created, err := sourceDate()
	if err != nil {
		return err
	}
	opts.Created = created
	for _, b := range binaries {
		platform, file, ok := strings.Cut(b, "=")
		if !ok {
			return fmt.Errorf("-binary %q is not os/arch=path", b)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		opts.Binaries = append(opts.Binaries, ociimage.Binary{Platform: platform, Data: data})
	}
	if err := ociimage.Build(out, opts); err != nil {
		return err
	}
	if err := summarize(out, "wrote"); err != nil {
		return err
	}
	if archive == "" {
		return nil
	}
	if err := ociimage.WriteArchive(out, archive, created); err != nil {
		return err
	}
	fmt.Println("wrote", archive)
	return nil
}

func check(dir string, platforms []string) error {
	l, err := ociimage.Inspect(dir)
	if err != nil {
		return err
	}
	if err := ociimage.Verify(l, platforms); err != nil {
		return fmt.Errorf("%s is not the manager image:\n%w", dir, err)
	}
	return summarize(dir, "verified")
}

// summarize prints one line per platform: the digest to pin and the bytes a
// registry stores.
func summarize(dir, verb string) error {
	l, err := ociimage.Inspect(dir)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s: %d platforms\n", verb, dir, len(l.Images))
	for _, img := range l.Images {
		fmt.Printf("  %-12s %s  %5.1f MiB compressed, /manager %5.1f MiB\n", img.Platform, img.Digest,
			float64(img.Size)/(1<<20), float64(img.Files[ociimage.ManagerPath].Size)/(1<<20))
	}
	return nil
}

// sourceDate is SOURCE_DATE_EPOCH as a time, or the Unix epoch when unset.
func sourceDate() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", v, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}
