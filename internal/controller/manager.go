package controller

import (
	"crypto/tls"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// Defaults of the manager's flags, shared by cmd/manager and the suites
// that run the manager in process.
const (
	DefaultQPS                     = 50
	DefaultBurst                   = 100
	DefaultMaxConcurrentReconciles = 4
	LeaderElectionID               = "kalypso-serving.serving.kalypso.io"
)

// Scheme returns the types the manager reads and writes.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(servingv1alpha1.AddToScheme(s))
	return s
}

// ManagerConfig is what a caller of ManagerOptions chooses; the zero value
// is a manager without metrics, probes or leader election, as tests run it.
type ManagerConfig struct {
	// MetricsAddr is the metrics endpoint ("0" or empty: off).
	MetricsAddr string
	// SecureMetrics serves metrics over HTTPS with authn/authz.
	SecureMetrics bool
	// EnableHTTP2 for the metrics server.
	EnableHTTP2 bool
	// ProbeAddr serves healthz/readyz ("0" or empty: off).
	ProbeAddr string
	// PprofAddr serves Go pprof (empty: off).
	PprofAddr string

	LeaderElection          bool
	LeaderElectionNamespace string
	LeaseDuration           time.Duration
	RenewDeadline           time.Duration
	RetryPeriod             time.Duration
}

// ManagerOptions builds the manager's options: the production cache and
// client settings (see CacheOptions and ClientOptions) and the caller's
// endpoints and leader election. Every manager of the project, the binary's
// and the in-process suites', is built from it.
func ManagerOptions(scheme *runtime.Scheme, c ManagerConfig) ctrl.Options {
	var tlsOpts []func(*tls.Config)
	if !c.EnableHTTP2 {
		tlsOpts = append(tlsOpts, func(t *tls.Config) { t.NextProtos = []string{"http/1.1"} })
	}
	metrics := metricsserver.Options{BindAddress: orOff(c.MetricsAddr), SecureServing: c.SecureMetrics, TLSOpts: tlsOpts}
	if c.SecureMetrics {
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	opts := ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metrics,
		HealthProbeBindAddress:  orOff(c.ProbeAddr),
		PprofBindAddress:        c.PprofAddr,
		LeaderElection:          c.LeaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: c.LeaderElectionNamespace,
		// Hand leadership over at once on a clean stop.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         CacheOptions(),
		Client:                        ClientOptions(),
	}
	if c.LeaseDuration > 0 {
		opts.LeaseDuration = &c.LeaseDuration
	}
	if c.RenewDeadline > 0 {
		opts.RenewDeadline = &c.RenewDeadline
	}
	if c.RetryPeriod > 0 {
		opts.RetryPeriod = &c.RetryPeriod
	}
	return opts
}

func orOff(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}
