package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/kalypsoserving/kalypso-serving/internal/controller"
	"github.com/kalypsoserving/kalypso-serving/internal/fleetstatus"
)

// statusOptions are the flags of kalypso status.
type statusOptions struct {
	kubeconfig    string
	namespace     string
	allNamespaces bool
	output        string
	watch         bool
	interval      time.Duration
}

func statusCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var o statusOptions
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&o.namespace, "n", "", "namespace (default: the kubeconfig context's)")
	fs.BoolVar(&o.allNamespaces, "A", false, "every namespace")
	fs.StringVar(&o.output, "o", "", "output: tree (default), yaml or json")
	fs.BoolVar(&o.watch, "watch", false, "print again whenever something changes")
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "how often --watch looks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, ns, err := statusClient(o)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return runStatus(ctx, c, ns, o, stdout)
}

// statusClient builds a client from the kubeconfig and resolves the
// namespace ("" with -A).
func statusClient(o statusOptions) (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cfg := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	rest, err := cfg.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	c, err := client.New(rest, client.Options{Scheme: controller.Scheme()})
	if err != nil {
		return nil, "", err
	}
	ns := o.namespace
	switch {
	case o.allNamespaces:
		ns = ""
	case ns == "":
		if ns, _, err = cfg.Namespace(); err != nil {
			return nil, "", err
		}
	}
	return c, ns, nil
}

// runStatus prints the fleet once, or with watch each time it changes.
func runStatus(ctx context.Context, c client.Reader, ns string, o statusOptions, stdout io.Writer) error {
	var last *fleetstatus.Tree
	for {
		tree, err := fleetstatus.Collect(ctx, c, ns)
		if err != nil {
			return err
		}
		if last == nil || !reflect.DeepEqual(*last, tree) {
			if last != nil {
				_, _ = fmt.Fprintf(stdout, "\n--- %s\n", time.Now().Format(time.TimeOnly))
			}
			if err := printStatus(stdout, tree, o.output); err != nil {
				return err
			}
			last = &tree
		}
		if !o.watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.interval):
		}
	}
}

func printStatus(w io.Writer, tree fleetstatus.Tree, output string) error {
	switch output {
	case "", "tree":
		return fleetstatus.Print(w, tree)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(tree)
	case "yaml":
		data, err := yaml.Marshal(tree)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	return fmt.Errorf("unknown output %q: use tree, yaml or json", output)
}
