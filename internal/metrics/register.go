package metrics

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Registration serves a collector on a registry while the manager runs and
// leads. Only the elected leader serves the fleet gauges: a standby replica
// would serve the same series under another pod's labels, and fleet sums
// would count every server twice. The reconcile counter needs no such care,
// since only the leader reconciles.
type Registration struct {
	Registerer prometheus.Registerer
	Collector  prometheus.Collector
}

var _ manager.LeaderElectionRunnable = Registration{}

// Start registers the collector and unregisters it when ctx ends.
func (r Registration) Start(ctx context.Context) error {
	if err := r.Registerer.Register(r.Collector); err != nil {
		return fmt.Errorf("registering the fleet metrics: %w", err)
	}
	<-ctx.Done()
	r.Registerer.Unregister(r.Collector)
	return nil
}

// NeedLeaderElection is true: the collector is served by the leader only.
func (Registration) NeedLeaderElection() bool { return true }

// AddFleet adds to mgr the fleet gauges, read from its cache and served on
// its metrics endpoint once it leads.
func AddFleet(mgr manager.Manager) error {
	var reader client.Reader = mgr.GetCache()
	if err := mgr.Add(Registration{Registerer: metrics.Registry, Collector: Fleet{Reader: reader}}); err != nil {
		return fmt.Errorf("adding the fleet metrics: %w", err)
	}
	return nil
}
