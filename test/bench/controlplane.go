package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv/process"
)

// controlPlane is kube-apiserver + etcd with RBAC, the CRDs and the
// manager's RBAC installed.
type controlPlane = process.ControlPlane

// manager is the manager binary running as a child process.
type manager = process.Manager

// counters are the manager's cumulative client and controller figures.
type counters = process.Counters

func startControlPlane(ctx context.Context, s settings) (*controlPlane, error) {
	if s.Kustomize == "" {
		return nil, errors.New("set -kustomize or KUSTOMIZE (make bench does)")
	}
	return process.StartControlPlane(ctx, process.ControlPlaneOptions{
		Scheme:     scheme,
		Kustomize:  s.Kustomize,
		FieldOwner: "bench",
	})
}

func startManager(ctx context.Context, s settings, kubeconfig, logPath string) (*manager, error) {
	return process.StartManager(ctx, process.ManagerOptions{
		Binary:                  s.ManagerBinary,
		Kubeconfig:              kubeconfig,
		LogPath:                 logPath,
		QPS:                     s.QPS,
		Burst:                   s.Burst,
		MaxConcurrentReconciles: s.Workers,
		ExtraArgs:               pprofArgs(s),
	})
}

func pprofArgs(s settings) []string {
	if s.Pprof == "" {
		return nil
	}
	return []string{"--pprof-bind-address", s.Pprof}
}

// saveHeapProfile fetches the manager's heap profile after a collection.
func saveHeapProfile(addr, path string) error {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return fmt.Errorf("fetching the heap profile: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
