// Command kalypso is the KalypsoServing command-line tool. Installed as
// kubectl-kalypso on the PATH it also works as `kubectl kalypso`.
//
//	kalypso render -f manifests.yaml   print the objects the operator would create
//	kalypso status [-A]                what is serving and what is broken
//	kalypso version                    the release this binary was built from
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/preview"
)

const usage = `kalypso: KalypsoServing command-line tool

Usage:
  kalypso render -f <file|dir|-> [-f ...]
        print, as YAML, the exact objects the operator would create for the
        KalypsoTritonServers in the files (their KalypsoApplications are read
        from the same files); a directory means its *.yaml files; no cluster
        is needed
  kalypso status [-n NAMESPACE | -A] [-o tree|yaml|json] [--watch] [--kubeconfig FILE]
        what is serving and what is broken: projects, their environments,
        applications and servers with readiness, replicas and models, and the
        reason of anything not Ready
  kalypso version
        the release this binary was built from
`

// version is stamped at release time (make cli-dist: -X main.version=...).
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kalypso:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		_, err := fmt.Fprint(stdout, usage)
		return err
	}
	switch args[0] {
	case "render":
		return renderCmd(args[1:], stdin, stdout)
	case "status":
		return statusCmd(args[1:], stdout)
	case "version":
		_, err := fmt.Fprintln(stdout, version)
		return err
	default:
		return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
	}
}

// files collects repeated -f values.
type files []string

func (f *files) String() string     { return fmt.Sprint(*f) }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func renderCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	var inputs files
	fs.Var(&inputs, "f", "file or directory with KalypsoApplication and KalypsoTritonServer manifests, or - for stdin (repeatable)")
	var opts preview.Options
	fs.BoolVar(&opts.OperatorLoadsModels, "operator-loads-models", true, "render as a manager that reads Triton pods "+
		"(--triton-access=direct, as config/manager ships it): mode explicit gets a readiness gate, not --load-model")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(inputs) == 0 {
		return fmt.Errorf("render needs -f <file|dir|->")
	}
	all := &preview.Manifests{Applications: map[string]*servingv1alpha1.KalypsoApplication{}}
	for _, in := range inputs {
		paths, err := expand(in)
		if err != nil {
			return err
		}
		for _, p := range paths {
			m, err := read(p, stdin)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			all.Merge(m)
		}
	}
	return preview.Render(all, stdout, opts)
}

// expand turns a directory into its YAML files, sorted.
func expand(in string) ([]string, error) {
	if in == "-" {
		return []string{in}, nil
	}
	info, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{in}, nil
	}
	var out []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(in, pattern))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	return out, nil
}

func read(path string, stdin io.Reader) (*preview.Manifests, error) {
	if path == "-" {
		return preview.Read(stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return preview.Read(f)
}
