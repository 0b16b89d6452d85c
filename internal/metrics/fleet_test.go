package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv/fixture"
)

func scheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := servingv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// envNamespace is a namespace as the project controller labels it.
func envNamespace(name, project, env string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		render.LabelManagedBy: render.ManagedByValue, render.LabelProject: project, render.LabelEnvironment: env}}}
}

// quota is an environment's ResourceQuota with its status.
func quota(ns, project, env string, hard, used corev1.ResourceList) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: render.QuotaName, Labels: map[string]string{
			render.LabelManagedBy: render.ManagedByValue, render.LabelProject: project, render.LabelEnvironment: env}},
		Status: corev1.ResourceQuotaStatus{Hard: hard, Used: used},
	}
}

func withStatus(phase servingv1alpha1.Phase, ready bool, states ...servingv1alpha1.ModelState) fixture.ServerOption {
	return func(s *servingv1alpha1.KalypsoTritonServer) {
		s.Status.Phase = phase
		status := metav1.ConditionFalse
		if ready {
			status = metav1.ConditionTrue
		}
		s.Status.Conditions = []metav1.Condition{{Type: servingv1alpha1.ConditionReady, Status: status, Reason: "R"}}
		for i, st := range states {
			s.Status.Models = append(s.Status.Models, servingv1alpha1.ModelStatus{Name: string(rune('a' + i)), State: st})
		}
		s.Status.OmittedModels = 7
	}
}

func withQueueTarget(us int64) fixture.ServerOption {
	return func(s *servingv1alpha1.KalypsoTritonServer) {
		s.Spec.Autoscaling = &servingv1alpha1.Autoscaling{MaxReplicas: 3, QueueTimeTargetMicroseconds: ptr.To(us)}
	}
}

func TestFleetGauges(t *testing.T) {
	r := fake.NewClientBuilder().WithScheme(scheme(t)).WithObjects(
		envNamespace("shop-dev", "shop", "dev"),
		envNamespace("shop-prod", "shop", "prod"),
		// A namespace the operator did not label is no environment.
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "loose"}},
		fixture.Server("shop-dev", "a", withStatus(servingv1alpha1.PhaseReady, true,
			servingv1alpha1.ModelStateReady, servingv1alpha1.ModelStateReady, servingv1alpha1.ModelStateLoading)),
		fixture.Server("shop-dev", "b", withStatus(servingv1alpha1.PhaseFailed, false,
			servingv1alpha1.ModelStateUnavailable, "SOMETHING_NEW"), withQueueTarget(2500)),
		fixture.Server("shop-dev", "c"), // never reconciled: phase "" counts as Pending
		fixture.Server("loose", "x", withStatus(servingv1alpha1.PhaseProgressing, false)),
		quota("shop-dev", "shop", "dev",
			corev1.ResourceList{"requests.nvidia.com/gpu": resource.MustParse("4"), corev1.ResourceRequestsCPU: resource.MustParse("16"),
				corev1.ResourceRequestsMemory: resource.MustParse("64Gi"), corev1.ResourcePods: resource.MustParse("20")},
			corev1.ResourceList{"requests.nvidia.com/gpu": resource.MustParse("2"), corev1.ResourceRequestsCPU: resource.MustParse("1500m"),
				corev1.ResourceRequestsMemory: resource.MustParse("1Gi"), corev1.ResourcePods: resource.MustParse("3")}),
		// A quota limiting GPUs only reports GPUs.
		quota("shop-prod", "shop", "prod", corev1.ResourceList{"requests.nvidia.com/gpu": resource.MustParse("8")}, nil),
		// A quota somebody else created in an environment is not the environment's.
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-dev", Name: "extra"},
			Status: corev1.ResourceQuotaStatus{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("1")}}},
	).Build()

	want := `
# HELP kalypso_environment_quota_hard Hard limit of the environment's ResourceQuota (gpu and cpu in units, memory in bytes).
# TYPE kalypso_environment_quota_hard gauge
kalypso_environment_quota_hard{environment="dev",project="shop",resource="cpu"} 16
kalypso_environment_quota_hard{environment="dev",project="shop",resource="gpu"} 4
kalypso_environment_quota_hard{environment="dev",project="shop",resource="memory"} 6.8719476736e+10
kalypso_environment_quota_hard{environment="prod",project="shop",resource="gpu"} 8
# HELP kalypso_environment_quota_used Usage the environment's ResourceQuota reports (gpu and cpu in units, memory in bytes).
# TYPE kalypso_environment_quota_used gauge
kalypso_environment_quota_used{environment="dev",project="shop",resource="cpu"} 1.5
kalypso_environment_quota_used{environment="dev",project="shop",resource="gpu"} 2
kalypso_environment_quota_used{environment="dev",project="shop",resource="memory"} 1.073741824e+09
# HELP kalypso_models Models listed in the servers' status.models, by project, environment and state.
# TYPE kalypso_models gauge
kalypso_models{environment="",project="",state="LOADING"} 0
kalypso_models{environment="",project="",state="READY"} 0
kalypso_models{environment="",project="",state="UNAVAILABLE"} 0
kalypso_models{environment="",project="",state="UNKNOWN"} 0
kalypso_models{environment="",project="",state="UNLOADING"} 0
kalypso_models{environment="dev",project="shop",state="LOADING"} 1
kalypso_models{environment="dev",project="shop",state="READY"} 2
kalypso_models{environment="dev",project="shop",state="UNAVAILABLE"} 1
kalypso_models{environment="dev",project="shop",state="UNKNOWN"} 1
kalypso_models{environment="dev",project="shop",state="UNLOADING"} 0
kalypso_models{environment="prod",project="shop",state="LOADING"} 0
kalypso_models{environment="prod",project="shop",state="READY"} 0
kalypso_models{environment="prod",project="shop",state="UNAVAILABLE"} 0
kalypso_models{environment="prod",project="shop",state="UNKNOWN"} 0
kalypso_models{environment="prod",project="shop",state="UNLOADING"} 0
# HELP kalypso_server_queue_time_target_microseconds The server's autoscaling queue time target, for servers that set one.
# TYPE kalypso_server_queue_time_target_microseconds gauge
kalypso_server_queue_time_target_microseconds{namespace="shop-dev",server="b"} 2500
# HELP kalypso_server_ready 1 when the KalypsoTritonServer's Ready condition is True, 0 otherwise; one series per server.
# TYPE kalypso_server_ready gauge
kalypso_server_ready{environment="",namespace="loose",project="",server="x"} 0
kalypso_server_ready{environment="dev",namespace="shop-dev",project="shop",server="a"} 1
kalypso_server_ready{environment="dev",namespace="shop-dev",project="shop",server="b"} 0
kalypso_server_ready{environment="dev",namespace="shop-dev",project="shop",server="c"} 0
# HELP kalypso_servers KalypsoTritonServers by project, environment and phase.
# TYPE kalypso_servers gauge
kalypso_servers{environment="",phase="Failed",project=""} 0
kalypso_servers{environment="",phase="Pending",project=""} 0
kalypso_servers{environment="",phase="Progressing",project=""} 1
kalypso_servers{environment="",phase="Ready",project=""} 0
kalypso_servers{environment="",phase="Terminating",project=""} 0
kalypso_servers{environment="dev",phase="Failed",project="shop"} 1
kalypso_servers{environment="dev",phase="Pending",project="shop"} 1
kalypso_servers{environment="dev",phase="Progressing",project="shop"} 0
kalypso_servers{environment="dev",phase="Ready",project="shop"} 1
kalypso_servers{environment="dev",phase="Terminating",project="shop"} 0
kalypso_servers{environment="prod",phase="Failed",project="shop"} 0
kalypso_servers{environment="prod",phase="Pending",project="shop"} 0
kalypso_servers{environment="prod",phase="Progressing",project="shop"} 0
kalypso_servers{environment="prod",phase="Ready",project="shop"} 0
kalypso_servers{environment="prod",phase="Terminating",project="shop"} 0
`
	if err := testutil.CollectAndCompare(Fleet{Reader: r}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(Fleet{Reader: r})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		// The queue time target keeps the unit of the spec field it mirrors
		// (and of Triton's queue duration counters), which dashboards and
		// alerts divide by directly.
		if p.Metric == QueueTimeTargetName && strings.Contains(p.Text, "base unit") {
			continue
		}
		t.Errorf("the Prometheus linter objects to %s: %s", p.Metric, p.Text)
	}
}

func TestFleetGaugesOfAnEmptyCluster(t *testing.T) {
	r := fake.NewClientBuilder().WithScheme(scheme(t)).Build()
	if n := testutil.CollectAndCount(Fleet{Reader: r}); n != 0 {
		t.Fatalf("a cluster without environments or servers has no fleet series, got %d", n)
	}
}

func TestAFailedReadFailsOnlyTheGaugesItFeeds(t *testing.T) {
	r := fake.NewClientBuilder().WithScheme(scheme(t)).WithObjects(
		quota("shop-prod", "shop", "prod", corev1.ResourceList{"requests.nvidia.com/gpu": resource.MustParse("8")}, nil),
	).WithInterceptorFuncs(interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if _, ok := list.(*servingv1alpha1.KalypsoTritonServerList); ok {
			return errors.New("cache not synced")
		}
		return c.List(ctx, list, opts...)
	}}).Build()
	err := testutil.CollectAndCompare(Fleet{Reader: r}, strings.NewReader(`
# HELP kalypso_environment_quota_hard Hard limit of the environment's ResourceQuota (gpu and cpu in units, memory in bytes).
# TYPE kalypso_environment_quota_hard gauge
kalypso_environment_quota_hard{environment="prod",project="shop",resource="gpu"} 8
`), QuotaHardName)
	if err == nil || !strings.Contains(err.Error(), "cache not synced") {
		t.Fatalf("a failed server read is reported by the scrape, got %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Fleet{Reader: r})
	families, gerr := reg.Gather()
	if gerr == nil {
		t.Fatal("gathering reports the failed read")
	}
	if len(families) != 1 || families[0].GetName() != QuotaHardName {
		t.Fatalf("the quota gauges are still served, got %v", families)
	}
}
