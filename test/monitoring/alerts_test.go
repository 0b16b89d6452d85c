package monitoring

import (
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Series labels the way Prometheus stores them: Triton pods through the
// per-server ServiceMonitor (namespace, service = the server's name, pod),
// the operator through its own ServiceMonitor, which honours the metrics'
// labels, so a server's namespace stays namespace (the manager's own
// namespace is attached only where a metric has none).
const (
	tritonPod  = `namespace="team-a", service="resnet", pod="resnet-7d9f-abcde", job="resnet", endpoint="metrics"`
	operator   = `pod="kalypso-serving-manager-1", job="kalypso-serving-controller-manager-metrics"`
	serverProd = `namespace="team-a", server="resnet", project="vision", environment="prod"`
	envProd    = `project="vision", environment="prod"`
)

// alertCase is one scenario: series in promqltest's load syntax, the time
// at which the alert is judged and the labels of each instance that must be
// firing then (none: the alert must be silent).
type alertCase struct {
	alert, name string
	load        string
	at          time.Duration
	want        []map[string]string
}

var alertCases = []alertCase{
	{"KalypsoServerNotReady", "not Ready for 19 minutes", `load 1m
  kalypso_server_ready{` + serverProd + `, ` + operator + `} 1x5 0x30`,
		25 * time.Minute, []map[string]string{{"namespace": "team-a", "server": "resnet", "severity": "warning"}}},
	{"KalypsoServerNotReady", "not Ready for 10 minutes, then Ready", `load 1m
  kalypso_server_ready{` + serverProd + `, ` + operator + `} 1x5 0x10 1x20`,
		25 * time.Minute, nil},
	{"KalypsoServerNotReady", "not Ready for 14 minutes so far", `load 1m
  kalypso_server_ready{` + serverProd + `, ` + operator + `} 1x5 0x30`,
		19 * time.Minute, nil},

	{"KalypsoModelLoadFailing", "a model UNAVAILABLE for 15 minutes", `load 1m
  kalypso_models{` + envProd + `, state="READY", ` + operator + `} 3x30
  kalypso_models{` + envProd + `, state="UNAVAILABLE", ` + operator + `} 0x5 1x25`,
		20 * time.Minute, []map[string]string{{"project": "vision", "environment": "prod", "severity": "warning"}}},
	{"KalypsoModelLoadFailing", "UNAVAILABLE for 5 minutes, then loaded", `load 1m
  kalypso_models{` + envProd + `, state="UNAVAILABLE", ` + operator + `} 0x5 1x5 0x20`,
		20 * time.Minute, nil},
	{"KalypsoModelLoadFailing", "models LOADING for long", `load 1m
  kalypso_models{` + envProd + `, state="LOADING", ` + operator + `} 2x30
  kalypso_models{` + envProd + `, state="UNAVAILABLE", ` + operator + `} 0x30`,
		20 * time.Minute, nil},

	// 1 request/s over two models, 5000µs queued per request.
	{"KalypsoQueueTimeAboveTarget", "5000µs queued against a 2000µs target", `load 15s
  nv_inference_request_success{` + tritonPod + `, model="a", version="1"} 0+10x100
  nv_inference_queue_duration_us{` + tritonPod + `, model="a", version="1"} 0+50000x100
  nv_inference_request_success{` + tritonPod + `, model="b", version="1"} 0+5x100
  nv_inference_queue_duration_us{` + tritonPod + `, model="b", version="1"} 0+25000x100
  kalypso_server_queue_time_target_microseconds{namespace="team-a", server="resnet", ` + operator + `} 2000x100`,
		20 * time.Minute, []map[string]string{{"namespace": "team-a", "server": "resnet", "severity": "warning"}}},
	{"KalypsoQueueTimeAboveTarget", "5000µs queued against a 10000µs target", `load 15s
  nv_inference_request_success{` + tritonPod + `, model="a", version="1"} 0+15x100
  nv_inference_queue_duration_us{` + tritonPod + `, model="a", version="1"} 0+75000x100
  kalypso_server_queue_time_target_microseconds{namespace="team-a", server="resnet", ` + operator + `} 10000x100`,
		20 * time.Minute, nil},
	{"KalypsoQueueTimeAboveTarget", "no target set (0)", `load 15s
  nv_inference_request_success{` + tritonPod + `, model="a", version="1"} 0+15x100
  nv_inference_queue_duration_us{` + tritonPod + `, model="a", version="1"} 0+75000x100
  kalypso_server_queue_time_target_microseconds{namespace="team-a", server="resnet", ` + operator + `} 0x100`,
		20 * time.Minute, nil},
	{"KalypsoQueueTimeAboveTarget", "above target for 5 minutes only", `load 15s
  nv_inference_request_success{` + tritonPod + `, model="a", version="1"} 0+15x100
  nv_inference_queue_duration_us{` + tritonPod + `, model="a", version="1"} 0+15000x60 900000+75000x40
  kalypso_server_queue_time_target_microseconds{namespace="team-a", server="resnet", ` + operator + `} 2000x100`,
		20 * time.Minute, nil},

	{"KalypsoGPUQuotaNearlyUsed", "9 of 10 GPUs", `load 1m
  kalypso_environment_quota_used{` + envProd + `, resource="gpu", ` + operator + `} 9x30
  kalypso_environment_quota_hard{` + envProd + `, resource="gpu", ` + operator + `} 10x30`,
		20 * time.Minute, []map[string]string{{"project": "vision", "environment": "prod", "severity": "warning"}}},
	{"KalypsoGPUQuotaNearlyUsed", "8 of 10 GPUs, all of the CPU", `load 1m
  kalypso_environment_quota_used{` + envProd + `, resource="gpu", ` + operator + `} 8x30
  kalypso_environment_quota_hard{` + envProd + `, resource="gpu", ` + operator + `} 10x30
  kalypso_environment_quota_used{` + envProd + `, resource="cpu", ` + operator + `} 16x30
  kalypso_environment_quota_hard{` + envProd + `, resource="cpu", ` + operator + `} 16x30`,
		20 * time.Minute, nil},
	{"KalypsoGPUQuotaNearlyUsed", "no GPU quota (hard 0)", `load 1m
  kalypso_environment_quota_used{` + envProd + `, resource="gpu", ` + operator + `} 0x30
  kalypso_environment_quota_hard{` + envProd + `, resource="gpu", ` + operator + `} 0x30`,
		20 * time.Minute, nil},

	{"KalypsoReconcileErrors", "an error every minute", `load 1m
  kalypso_reconcile_outcomes_total{kind="KalypsoTritonServer", outcome="error", reason="ApplyFailed", ` + operator + `} 0+1x40`,
		25 * time.Minute, []map[string]string{{"kind": "KalypsoTritonServer", "reason": "ApplyFailed", "severity": "warning"}}},
	{"KalypsoReconcileErrors", "errors stopped 15 minutes ago", `load 1m
  kalypso_reconcile_outcomes_total{kind="KalypsoTritonServer", outcome="error", reason="ApplyFailed", ` + operator + `} 0+1x10 10x30`,
		25 * time.Minute, nil},
	{"KalypsoReconcileErrors", "stalled, not failing", `load 1m
  kalypso_reconcile_outcomes_total{kind="KalypsoTritonServer", outcome="stalled", reason="InvalidSpec", ` + operator + `} 0+1x40
  kalypso_reconcile_outcomes_total{kind="KalypsoTritonServer", outcome="error", reason="ApplyFailed", ` + operator + `} 0x40`,
		25 * time.Minute, nil},

	{"KalypsoOperatorDown", "target down for 10 minutes", `load 1m
  up{` + operator + `} 1x5 0x20`,
		15 * time.Minute, []map[string]string{{"severity": "critical"}}},
	{"KalypsoOperatorDown", "not scraped at all", `load 1m
  up{job="something-else"} 1x20`,
		15 * time.Minute, []map[string]string{{"severity": "critical"}}},
	{"KalypsoOperatorDown", "up", `load 1m
  up{` + operator + `} 1x20`,
		15 * time.Minute, nil},
	{"KalypsoOperatorDown", "up under a release-prefixed Service name", `load 1m
  up{job="prod-kalypso-serving-controller-manager-metrics"} 1x20`,
		15 * time.Minute, nil},
}

// TestAlerts evaluates the alerting rules over each scenario and prints the
// outcome as a table.
func TestAlerts(t *testing.T) {
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ALERT\tCASE\tEXPECTED\tGOT")
	covered := map[string]map[bool]bool{}
	for _, c := range alertCases {
		run := newRuleRun(t, c.load)
		if run.alertRule(c.alert) == nil {
			t.Fatalf("rules.yaml has no alert %s", c.alert)
		}
		run.until(t, c.at)
		got := run.firing(c.alert)
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.alert, c.name, describe(len(c.want)), describe(len(got)))
		if covered[c.alert] == nil {
			covered[c.alert] = map[bool]bool{}
		}
		covered[c.alert][len(c.want) > 0] = true
		if len(got) != len(c.want) {
			t.Errorf("%s, %s: want %d firing, got %v", c.alert, c.name, len(c.want), got)
			continue
		}
		for _, w := range c.want {
			if !anyHas(got, w) {
				t.Errorf("%s, %s: no firing alert has labels %v; got %v", c.alert, c.name, w, got)
			}
		}
	}
	_ = tw.Flush()
	t.Log("\n" + table.String())
	groups, _ := loadRules(t)
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if !covered[r.Alert][true] || !covered[r.Alert][false] {
				t.Errorf("alert %s needs a firing and a silent case", r.Alert)
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s needs a severity label and summary and description annotations", r.Alert)
			}
		}
	}
}

func describe(firing int) string {
	if firing == 0 {
		return "silent"
	}
	return fmt.Sprintf("firing x%d", firing)
}

// anyHas reports whether one of the label sets contains all of want.
func anyHas(sets []labels.Labels, want map[string]string) bool {
	for _, ls := range sets {
		ok := true
		for k, v := range want {
			if ls.Get(k) != v {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}
