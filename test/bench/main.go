// Command bench measures how fast and how lean the operator is against the
// physical limit of the API server it talks to. It starts a local control
// plane (kube-apiserver + etcd built from Go modules, RBAC on), runs the
// manager binary as a separate process authenticated as its own
// ServiceAccount, and for each N alternates baseline and operator rounds:
//
//   - baseline (B): a plain client writes exactly the children and the one
//     status write each server needs (same bodies, same concurrency, no
//     reads) while the manager is paused; its writes/s give
//     T_ideal(N) = N x W_min / C_w;
//   - operator (O): N KalypsoTritonServers are created and each is timed,
//     through watches, until its children exist and its status reports the
//     current generation.
//
// It also counts the manager's API writes (its client metrics), checks that
// a converged system makes no writes (resync, restart, unrelated churn),
// reads the manager's memory from /proc, and writes a JSON file, a table
// and a PNG plot of the latency distributions.
//
//	go run ./test/bench -n 1,100,1000 [-n10k] [-steady 5m]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

type settings struct {
	Ns            []int         `json:"n"`
	Rounds        int           `json:"roundsPerKind"`
	Rounds10k     int           `json:"roundsPerKindAt10k"`
	Concurrency   int           `json:"concurrency"`
	QPS           float64       `json:"managerQPS"`
	Burst         int           `json:"managerBurst"`
	Workers       int           `json:"managerMaxConcurrentReconciles"`
	Steady        time.Duration `json:"steadyWindow"`
	Unrelated     int           `json:"unrelatedObjects"`
	Churn         int           `json:"churnObjects"`
	Out           string        `json:"-"`
	ManagerBinary string        `json:"-"`
	Kustomize     string        `json:"-"`
	Pprof         string        `json:"-"`
}

func main() {
	s := settings{}
	var ns string
	var tenK bool
	var models int
	flag.StringVar(&ns, "n", "1,100,1000", "comma-separated server counts")
	flag.BoolVar(&tenK, "n10k", false, "also measure N=10000")
	flag.IntVar(&s.Rounds10k, "rounds10k", 1, "baseline/operator round pairs at N=10000")
	flag.IntVar(&s.Rounds, "rounds", 3, "baseline/operator round pairs per N (B,O,B,O,...)")
	flag.IntVar(&s.Concurrency, "concurrency", 16, "client concurrency of creates and baseline writes")
	flag.Float64Var(&s.QPS, "qps", 200, "manager client QPS")
	flag.IntVar(&s.Burst, "burst", 400, "manager client burst")
	flag.IntVar(&s.Workers, "workers", 16, "manager reconciles in parallel per kind, and the baseline's write concurrency")
	flag.DurationVar(&s.Steady, "steady", 5*time.Minute, "steady-state observation window")
	flag.IntVar(&s.Unrelated, "unrelated", 10000, "unrelated Secrets and ConfigMaps (each) for the memory check")
	flag.IntVar(&s.Churn, "churn", 1000, "unrelated objects churned during the steady-state window")
	flag.StringVar(&s.Out, "out", "tmp/bench", "output directory (JSON and PNG)")
	flag.StringVar(&s.ManagerBinary, "manager", "bin/manager", "manager binary")
	flag.StringVar(&s.Kustomize, "kustomize", os.Getenv("KUSTOMIZE"), "kustomize binary")
	flag.StringVar(&s.Pprof, "pprof", "", "serve the manager's pprof on this local address and save a heap profile per N")
	flag.IntVar(&models, "models", 0, "instead of the rounds: the model-status scenario at this many servers of 2 replicas")
	flag.Parse()
	for _, f := range strings.Split(ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatalf("bad -n value %q", f)
		}
		s.Ns = append(s.Ns, n)
	}
	if tenK {
		s.Ns = append(s.Ns, 10000)
	}

	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if models > 0 {
		if err := runModels(ctx, s, models); err != nil {
			fatalf("%v", err)
		}
		return
	}
	if err := run(ctx, s); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
