// Command kalypso is the KalypsoServing command-line tool. Installed as
// kubectl-kalypso on the PATH it also works as `kubectl kalypso`.
//
//	kalypso render -f manifests.yaml   print the objects the operator would create
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kalypsoserving/kalypso-serving/internal/preview"
)

const usage = `kalypso: KalypsoServing command-line tool

Usage:
  kalypso render -f <file>|-   print, as YAML, the exact objects the operator
                               would create for the KalypsoTritonServers in the
                               file (their KalypsoApplications are read from the
                               same file); no cluster needed
`

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
	default:
		return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
	}
}

func renderCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	file := fs.String("f", "", "file with KalypsoApplication and KalypsoTritonServer manifests, or - for stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("render needs -f <file>")
	}
	in := stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		in = f
	}
	m, err := preview.Read(in)
	if err != nil {
		return err
	}
	return preview.Render(m, stdout)
}
