// Command krew writes the krew plugin manifest of `kubectl kalypso` for a
// release: it reads the archives `make cli-dist` wrote, checks each holds the
// plugin's executable, and fills kalypso.yaml.tmpl with their URIs and
// sha256, validated offline. `make krew-manifest` runs it.
//
//	go run ./hack/krew -version v0.2.0 -url-base https://.../v0.2.0 -archives dist/cli
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	version := flag.String("version", "", "release version, v-prefixed semantic version")
	urlBase := flag.String("url-base", "", "https URL the release archives are downloaded from")
	homepage := flag.String("homepage", "", "the project's home page (https URL)")
	dir := flag.String("archives", "dist/cli", "directory holding the release archives")
	out := flag.String("o", "-", "output file, - for stdout")
	flag.Parse()
	if err := run(*version, *homepage, *urlBase, *dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "krew:", err)
		os.Exit(1)
	}
}

func run(version, homepage, urlBase, dir, out string) error {
	if version == "" || urlBase == "" || homepage == "" {
		return fmt.Errorf("-version, -url-base and -homepage are required")
	}
	rel, err := NewRelease(version, homepage, urlBase, dir)
	if err != nil {
		return err
	}
	data, err := Render(rel)
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(out, data, 0o644)
}
