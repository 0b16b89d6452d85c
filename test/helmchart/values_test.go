package helmchart

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

// managerArgs returns the manager container's arguments and the Deployment's
// replicas as the chart renders them with args.
func managerArgs(t *testing.T, args ...string) ([]string, int64) {
	t.Helper()
	for _, o := range helmTemplate(t, args...) {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		c := containers[0].(map[string]any)
		raw := c["args"].([]any)
		out := make([]string, 0, len(raw))
		for _, a := range raw {
			out = append(out, a.(string))
		}
		// Decoded from YAML through JSON: a number is a float64.
		replicas, _ := field(o, "spec", "replicas").(float64)
		return out, int64(replicas)
	}
	t.Fatal("the chart renders no Deployment")
	return nil, 0
}

func TestValuesBecomeManagerFlags(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		want     []string
		absent   []string
		replicas int64
	}{{
		name: "the defaults pass only config/manager's flags, leaving the rest to the manager's defaults",
		want: []string{"--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8443", "--triton-access=direct"},
		absent: []string{"--kube-api-qps", "--kube-api-burst", "--zap-log-level", "--leader-elect-lease-duration",
			"--max-concurrent-reconciles", "--metrics-secure"},
		replicas: 1,
	}, {
		name: "every optional part on sets replicas, leader election timings, client limits and logging",
		args: []string{"-f", testenv.Path("charts", "kalypso-serving", "ci", "all-on-values.yaml")},
		want: []string{"--leader-elect", "--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s",
			"--leader-elect-retry-period=4s", "--kube-api-qps=50", "--kube-api-burst=100", "--max-concurrent-reconciles=4",
			"--zap-log-level=debug", "--zap-encoder=console", "--enable-http2"},
		replicas: 2,
	}, {
		name:     "a large burst and a fractional QPS are written as numbers the manager parses",
		args:     []string{"--set", "manager.kubeAPI.qps=7.5", "--set", "manager.kubeAPI.burst=2000000"},
		want:     []string{"--kube-api-qps=7.5", "--kube-api-burst=2000000"},
		replicas: 1,
	}, {
		name:     "plain-HTTP metrics and Triton access off",
		args:     []string{"--set", "metrics.secure=false", "--set", "manager.tritonAccess=off", "--set", "manager.log.level=2"},
		want:     []string{"--metrics-secure=false", "--triton-access=off", "--zap-log-level=2"},
		replicas: 1,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, replicas := managerArgs(t, tc.args...)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("flag %s missing from %v", w, got)
				}
			}
			for _, a := range tc.absent {
				if slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, a) }) {
					t.Errorf("flag %s passed though its value was left empty: %v", a, got)
				}
			}
			if replicas != tc.replicas {
				t.Errorf("replicas %d, want %d", replicas, tc.replicas)
			}
		})
	}
}

func TestReplicasWithoutLeaderElectionAreRefused(t *testing.T) {
	cmd := exec.Command(tool(t, "HELM"), "template", "kalypso-serving", testenv.Path("charts", "kalypso-serving"),
		"--set", "replicaCount=2", "--set", "manager.leaderElection.enabled=false")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("helm template rendered two replicas without leader election")
	}
	if !strings.Contains(string(out), "needs manager.leaderElection.enabled") {
		t.Errorf("unexpected refusal: %s", out)
	}
}
