package render

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

func TestQuotaHard(t *testing.T) {
	q := func(s string) resource.Quantity { return resource.MustParse(s) }
	cases := []struct {
		name string
		in   *servingv1alpha1.ResourceQuota
		want corev1.ResourceList
	}{
		{"a GPU limit binds as requests.nvidia.com/gpu, the only key Kubernetes enforces",
			&servingv1alpha1.ResourceQuota{Limits: corev1.ResourceList{"nvidia.com/gpu": q("4")}},
			corev1.ResourceList{"requests.nvidia.com/gpu": q("4")}},
		{"cpu and memory limits become limits.cpu and limits.memory, not requests",
			&servingv1alpha1.ResourceQuota{Limits: corev1.ResourceList{"cpu": q("8"), "memory": q("32Gi")}},
			corev1.ResourceList{"limits.cpu": q("8"), "limits.memory": q("32Gi")}},
		{"requests become requests.*",
			&servingv1alpha1.ResourceQuota{Requests: corev1.ResourceList{"cpu": q("2"), "nvidia.com/gpu": q("1")}},
			corev1.ResourceList{"requests.cpu": q("2"), "requests.nvidia.com/gpu": q("1")}},
		{"an explicit GPU request wins over the GPU limit",
			&servingv1alpha1.ResourceQuota{Limits: corev1.ResourceList{"nvidia.com/gpu": q("4")},
				Requests: corev1.ResourceList{"nvidia.com/gpu": q("2")}},
			corev1.ResourceList{"requests.nvidia.com/gpu": q("2")}},
		{"object counts pass through hard",
			&servingv1alpha1.ResourceQuota{Hard: corev1.ResourceList{"pods": q("20"), "count/deployments.apps": q("5")}},
			corev1.ResourceList{"pods": q("20"), "count/deployments.apps": q("5")}},
		{"no quota renders nothing", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := QuotaHard(tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if g, ok := got[k]; !ok || g.Cmp(v) != 0 {
					t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestNetworkPolicyDefaults(t *testing.T) {
	p := &servingv1alpha1.KalypsoProject{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "u"}}
	children, err := EnvChildren(EnvInput{Project: p, Env: servingv1alpha1.Environment{Name: "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	var np map[string]any
	for _, c := range children {
		if c.GVK == NetworkPolicyGVK {
			np = c.Object.Object
		}
	}
	if np == nil {
		t.Fatal("an isolated environment (the default) must render its NetworkPolicy")
	}
	spec, _ := np["spec"].(map[string]any)
	ingress, _ := spec["ingress"].([]any)
	if len(ingress) != 1 {
		t.Fatalf("want one ingress rule, got %v", spec)
	}
	rule, _ := ingress[0].(map[string]any)
	from, _ := rule["from"].([]any)
	if len(from) != 3 {
		t.Fatalf("want same-namespace, monitoring and ingress peers, got %v", from)
	}
	if sel, ok := spec["podSelector"].(map[string]any); !ok || len(sel) != 0 {
		t.Fatalf("an empty podSelector (all pods) must be rendered, got %v", spec["podSelector"])
	}
	if peer, _ := from[0].(map[string]any); peer["podSelector"] == nil {
		t.Fatalf("the same-namespace peer must be an empty podSelector, got %v", from[0])
	}
	none := NetworkPolicy(EnvInput{Project: p, Env: servingv1alpha1.Environment{Name: "dev",
		NetworkIsolation: &servingv1alpha1.NetworkIsolation{Mode: servingv1alpha1.NetworkIsolationNone}}})
	if none != nil {
		t.Fatal("mode None must render no policy")
	}
}
