package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// ScrapeTimeout bounds the cache reads of one scrape. Reads of a synced
// cache take microseconds; the bound only matters while an informer is
// still syncing, and is well under Prometheus' default scrape timeout.
const ScrapeTimeout = 3 * time.Second

// Names of the fleet gauges.
const (
	ServersName         = "kalypso_servers"
	ServerReadyName     = "kalypso_server_ready"
	ModelsName          = "kalypso_models"
	QuotaHardName       = "kalypso_environment_quota_hard"
	QuotaUsedName       = "kalypso_environment_quota_used"
	QueueTimeTargetName = "kalypso_server_queue_time_target_microseconds"
)

// phases are the values of kalypso_servers' phase label; an empty phase
// (never reconciled) counts as Pending.
var phases = []servingv1alpha1.Phase{servingv1alpha1.PhasePending, servingv1alpha1.PhaseReady,
	servingv1alpha1.PhaseProgressing, servingv1alpha1.PhaseFailed, servingv1alpha1.PhaseTerminating}

// modelStates are the values of kalypso_models' state label; a state
// outside them counts as UNKNOWN.
var modelStates = []servingv1alpha1.ModelState{servingv1alpha1.ModelStateReady, servingv1alpha1.ModelStateUnavailable,
	servingv1alpha1.ModelStateLoading, servingv1alpha1.ModelStateUnloading, servingv1alpha1.ModelStateUnknown}

// quotaResources maps the quota keys reported to the resource label:
// GPUs and CPU cores as counts, memory in bytes.
var quotaResources = []struct {
	key   corev1.ResourceName
	label string
}{
	{"requests.nvidia.com/gpu", "gpu"},
	{corev1.ResourceRequestsCPU, "cpu"},
	{corev1.ResourceRequestsMemory, "memory"},
}

// Label names of the fleet gauges.
const (
	labelProject     = "project"
	labelEnvironment = "environment"
	labelNamespace   = "namespace"
	labelServer      = "server"
)

var (
	serversDesc = prometheus.NewDesc(ServersName,
		"KalypsoTritonServers by project, environment and phase.",
		[]string{labelProject, labelEnvironment, "phase"}, nil)
	serverReadyDesc = prometheus.NewDesc(ServerReadyName,
		"1 when the KalypsoTritonServer's Ready condition is True, 0 otherwise; one series per server.",
		[]string{labelNamespace, labelServer, labelProject, labelEnvironment}, nil)
	modelsDesc = prometheus.NewDesc(ModelsName,
		"Models listed in the servers' status.models, by project, environment and state.",
		[]string{labelProject, labelEnvironment, "state"}, nil)
	quotaHardDesc = prometheus.NewDesc(QuotaHardName,
		"Hard limit of the environment's ResourceQuota (gpu and cpu in units, memory in bytes).",
		[]string{labelProject, labelEnvironment, "resource"}, nil)
	quotaUsedDesc = prometheus.NewDesc(QuotaUsedName,
		"Usage the environment's ResourceQuota reports (gpu and cpu in units, memory in bytes).",
		[]string{labelProject, labelEnvironment, "resource"}, nil)
	queueTimeTargetDesc = prometheus.NewDesc(QueueTimeTargetName,
		"The server's autoscaling queue time target, for servers that set one.",
		[]string{labelNamespace, labelServer}, nil)
)

// Fleet is a prometheus.Collector computing the fleet gauges from a
// reader at scrape time. Given the manager's cache it makes no API call:
// it lists the KalypsoTritonServers, the environment ResourceQuotas and
// the metadata of the governed namespaces, all of which the controllers
// already watch.
type Fleet struct {
	Reader client.Reader
}

var _ prometheus.Collector = Fleet{}

// Describe sends the descriptors of every fleet gauge.
func (f Fleet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{serversDesc, serverReadyDesc, modelsDesc, quotaHardDesc, quotaUsedDesc, queueTimeTargetDesc} {
		ch <- d
	}
}

// readOnly lists the cache's own objects instead of deep copies: a scrape
// only reads them, and copying every server's status on each scrape would
// make the collector's cost grow with the fleet for nothing.
var readOnly = client.UnsafeDisableDeepCopy

// envKey is a (project, environment) pair; both are empty for a namespace
// no project governs.
type envKey struct{ project, environment string }

// Collect reads the cache and sends the gauges. A failed read marks the
// gauges it feeds as invalid (the scrape reports the error) and leaves the
// others intact.
func (f Fleet) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()

	envs, err := f.environments(ctx)
	if err != nil {
		invalid(ch, err, serversDesc, serverReadyDesc, modelsDesc)
	} else if err := f.collectServers(ctx, ch, envs); err != nil {
		invalid(ch, err, serversDesc, serverReadyDesc, modelsDesc, queueTimeTargetDesc)
	}
	if err := f.collectQuotas(ctx, ch); err != nil {
		invalid(ch, err, quotaHardDesc, quotaUsedDesc)
	}
}

func invalid(ch chan<- prometheus.Metric, err error, descs ...*prometheus.Desc) {
	for _, d := range descs {
		ch <- prometheus.NewInvalidMetric(d, err)
	}
}

// environments maps each namespace a project governs to its project and
// environment, from the labels the project controller sets on it.
func (f Fleet) environments(ctx context.Context) (map[string]envKey, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	if err := f.Reader.List(ctx, list, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue}, readOnly); err != nil {
		return nil, fmt.Errorf("listing environment namespaces: %w", err)
	}
	out := make(map[string]envKey, len(list.Items))
	for _, ns := range list.Items {
		p, e := ns.Labels[render.LabelProject], ns.Labels[render.LabelEnvironment]
		if p != "" && e != "" {
			out[ns.Name] = envKey{p, e}
		}
	}
	return out, nil
}

// collectServers sends the per-environment counts of servers by phase and
// of models by state (every phase and state, zeros included, for every
// environment and every namespace holding a server) and the per-server
// readiness and queue time target.
func (f Fleet) collectServers(ctx context.Context, ch chan<- prometheus.Metric, envs map[string]envKey) error {
	var servers servingv1alpha1.KalypsoTritonServerList
	if err := f.Reader.List(ctx, &servers, readOnly); err != nil {
		return fmt.Errorf("listing KalypsoTritonServers: %w", err)
	}
	byPhase := map[envKey]map[servingv1alpha1.Phase]int{}
	byState := map[envKey]map[servingv1alpha1.ModelState]int{}
	touch := func(k envKey) {
		if byPhase[k] == nil {
			byPhase[k] = map[servingv1alpha1.Phase]int{}
			byState[k] = map[servingv1alpha1.ModelState]int{}
		}
	}
	for _, k := range envs {
		touch(k)
	}
	for i := range servers.Items {
		s := &servers.Items[i]
		k := envs[s.Namespace]
		touch(k)
		byPhase[k][phaseOf(s.Status.Phase)]++
		for _, m := range s.Status.Models {
			byState[k][stateOf(m.State)]++
		}
		ready := 0.0
		if meta.IsStatusConditionTrue(s.Status.Conditions, servingv1alpha1.ConditionReady) {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(serverReadyDesc, prometheus.GaugeValue, ready,
			s.Namespace, s.Name, k.project, k.environment)
		if a := s.Spec.Autoscaling; a != nil && a.QueueTimeTargetMicroseconds != nil {
			ch <- prometheus.MustNewConstMetric(queueTimeTargetDesc, prometheus.GaugeValue,
				float64(*a.QueueTimeTargetMicroseconds), s.Namespace, s.Name)
		}
	}
	for k, counts := range byPhase {
		for _, p := range phases {
			ch <- prometheus.MustNewConstMetric(serversDesc, prometheus.GaugeValue, float64(counts[p]),
				k.project, k.environment, string(p))
		}
		for _, st := range modelStates {
			ch <- prometheus.MustNewConstMetric(modelsDesc, prometheus.GaugeValue, float64(byState[k][st]),
				k.project, k.environment, string(st))
		}
	}
	return nil
}

func phaseOf(p servingv1alpha1.Phase) servingv1alpha1.Phase {
	for _, known := range phases {
		if p == known {
			return p
		}
	}
	return servingv1alpha1.PhasePending
}

func stateOf(s servingv1alpha1.ModelState) servingv1alpha1.ModelState {
	for _, known := range modelStates {
		if s == known {
			return s
		}
	}
	return servingv1alpha1.ModelStateUnknown
}

// collectQuotas sends the hard limit and the usage of every environment's
// ResourceQuota for the resources it limits among gpu, cpu and memory.
func (f Fleet) collectQuotas(ctx context.Context, ch chan<- prometheus.Metric) error {
	var quotas corev1.ResourceQuotaList
	if err := f.Reader.List(ctx, &quotas, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue}, readOnly); err != nil {
		return fmt.Errorf("listing ResourceQuotas: %w", err)
	}
	for i := range quotas.Items {
		q := &quotas.Items[i]
		p, e := q.Labels[render.LabelProject], q.Labels[render.LabelEnvironment]
		if q.Name != render.QuotaName || p == "" || e == "" {
			continue
		}
		for _, r := range quotaResources {
			if v, ok := q.Status.Hard[r.key]; ok {
				ch <- prometheus.MustNewConstMetric(quotaHardDesc, prometheus.GaugeValue, v.AsApproximateFloat64(), p, e, r.label)
			}
			if v, ok := q.Status.Used[r.key]; ok {
				ch <- prometheus.MustNewConstMetric(quotaUsedDesc, prometheus.GaugeValue, v.AsApproximateFloat64(), p, e, r.label)
			}
		}
	}
	return nil
}
