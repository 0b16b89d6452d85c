package controller

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/kalypsoserving/kalypso-serving/internal/controller/application"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/project"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/tritonserver"
)

// Options tune every reconciler.
type Options struct {
	// MaxConcurrentReconciles per kind.
	MaxConcurrentReconciles int
}

// CacheOptions returns the manager's cache settings.
func CacheOptions() cache.Options {
	return cache.Options{}
}

// SetupWithManager registers the three reconcilers.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if err := (&project.Reconciler{
		Client:                  mgr.GetClient(),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoProject controller: %w", err)
	}
	if err := (&application.Reconciler{
		Client:                  mgr.GetClient(),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoApplication controller: %w", err)
	}
	if err := (&tritonserver.Reconciler{
		Client:                  mgr.GetClient(),
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up KalypsoTritonServer controller: %w", err)
	}
	return nil
}
