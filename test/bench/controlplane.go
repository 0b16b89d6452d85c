package main

import (
	"context"
	"errors"

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
	})
}
