// Command manager runs the KalypsoServing controllers.
package main

import (
	"flag"
	"os"
	"time"

	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kalypsoserving/kalypso-serving/internal/controller"
	"github.com/kalypsoserving/kalypso-serving/internal/controller/modelsync"
	"github.com/kalypsoserving/kalypso-serving/internal/tritonapi"
)

var (
	scheme   = controller.Scheme()
	setupLog = ctrl.Log.WithName("setup")
)

func main() {
	var (
		metricsAddr          string
		probeAddr            string
		pprofAddr            string
		enableLeaderElection bool
		leaderElectionNS     string
		leaseDuration        time.Duration
		renewDeadline        time.Duration
		retryPeriod          time.Duration
		secureMetrics        bool
		enableHTTP2          bool
		qps                  float64
		burst                int
		tritonAccess         string
		tritonMap            string
		opts                 controller.Options
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address of the metrics endpoint, "+
		"e.g. :8443 for HTTPS or :8080 for HTTP; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of the health and readiness probes.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "Address of the Go pprof endpoint, e.g. 127.0.0.1:8082; "+
		"empty disables it. Never expose it beyond the pod.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Elect a leader so that only one manager replica reconciles at a time.")
	flag.StringVar(&leaderElectionNS, "leader-election-namespace", "",
		"Namespace of the leader election Lease (default: the manager's namespace).")
	flag.DurationVar(&leaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long a standby waits after the leader's last renewal before taking over.")
	flag.DurationVar(&renewDeadline, "leader-elect-renew-deadline", 10*time.Second,
		"How long the leader keeps trying to renew before it gives up leadership.")
	flag.DurationVar(&retryPeriod, "leader-elect-retry-period", 2*time.Second,
		"How often the leader renews and a standby tries to acquire.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS with authentication and authorization.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Enable HTTP/2 for the metrics server (off by default: HTTP/2 Rapid Reset and Stream Cancellation CVEs).")
	flag.Float64Var(&qps, "kube-api-qps", controller.DefaultQPS, "Sustained requests per second to the API server.")
	flag.IntVar(&burst, "kube-api-burst", controller.DefaultBurst, "Burst of requests to the API server.")
	flag.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", controller.DefaultMaxConcurrentReconciles,
		"Reconciles run in parallel per kind.")
	flag.StringVar(&tritonAccess, "triton-access", "off", "How the manager reaches Triton pods to read their model "+
		"status and load declared models: off (never), or direct (the pod's own IP and HTTP port, on a real cluster's pod network).")
	flag.StringVar(&tritonMap, "triton-address-map", "", "For simulated clusters (kwok, envtest): CIDR=127.0.0.1:PORT[,...] "+
		"sends requests for pod IPs in CIDR to a fake Triton on loopback; any other pod address is refused.")
	flag.DurationVar(&opts.Triton.Interval, "model-status-interval", modelsync.DefaultInterval,
		"Default interval between two readings of a server's pods (spec.modelStatus.intervalSeconds overrides it).")
	flag.DurationVar(&opts.Triton.RequestTimeout, "triton-request-timeout", 3*time.Second, "Bound of one model index read.")
	flag.DurationVar(&opts.Triton.LoadTimeout, "triton-load-timeout", 10*time.Minute, "Bound of one model load.")
	flag.StringVar(&opts.Triton.OperatorNamespace, "operator-namespace", envOr("POD_NAMESPACE", "kalypso-serving-system"),
		"Namespace the manager runs in: the environments' NetworkPolicy admits it to the Triton pods' HTTP port.")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	switch tritonAccess {
	case "off":
	case "direct":
		opts.Triton.Direct = true
	default:
		setupLog.Error(nil, "--triton-access must be off or direct", "value", tritonAccess)
		os.Exit(2)
	}
	if tritonMap != "" {
		m, err := tritonapi.ParseAddressMap(tritonMap)
		if err != nil {
			setupLog.Error(err, "invalid --triton-address-map")
			os.Exit(2)
		}
		opts.Triton.Map = m
	}

	restConfig := ctrl.GetConfigOrDie()
	restConfig.QPS = float32(qps)
	restConfig.Burst = burst

	mgr, err := ctrl.NewManager(restConfig, controller.ManagerOptions(scheme, controller.ManagerConfig{
		MetricsAddr:             metricsAddr,
		SecureMetrics:           secureMetrics,
		EnableHTTP2:             enableHTTP2,
		ProbeAddr:               probeAddr,
		PprofAddr:               pprofAddr,
		LeaderElection:          enableLeaderElection,
		LeaderElectionNamespace: leaderElectionNS,
		LeaseDuration:           leaseDuration,
		RenewDeadline:           renewDeadline,
		RetryPeriod:             retryPeriod,
	}))
	if err != nil {
		setupLog.Error(err, "unable to create manager")
		os.Exit(1)
	}

	if err := controller.SetupWithManager(mgr, opts); err != nil {
		setupLog.Error(err, "unable to set up controllers")
		os.Exit(1)
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "problem running manager")
		os.Exit(1)
	}
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
