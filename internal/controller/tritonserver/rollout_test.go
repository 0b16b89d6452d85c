package tritonserver

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func gpuPod(gpus string) corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{"nvidia.com/gpu": resource.MustParse(gpus), corev1.ResourceMemory: resource.MustParse("1Gi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
	}}}}
}

func TestPodUsageCountsEveryQuotaKey(t *testing.T) {
	got := podUsage(gpuPod("2"))
	want := map[corev1.ResourceName]string{
		"pods": "1", "limits.nvidia.com/gpu": "2", "requests.nvidia.com/gpu": "2",
		"limits.memory": "1Gi", "requests.memory": "1Gi", "memory": "1Gi", "requests.cpu": "500m", "cpu": "500m",
	}
	if len(got) != len(want) {
		t.Fatalf("podUsage = %v, want the keys of %v", got, want)
	}
	for k, v := range want {
		q := got[k]
		if q.Cmp(resource.MustParse(v)) != 0 {
			t.Errorf("podUsage[%s] = %s, want %s", k, q.String(), v)
		}
	}
}

// quota is a GPU quota of hard GPUs with two in use.
func quota(hard string) corev1.ResourceQuota {
	const used = "2"
	return corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "gpu"}, Status: corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"requests.nvidia.com/gpu": resource.MustParse(hard)},
		Used: corev1.ResourceList{"requests.nvidia.com/gpu": resource.MustParse(used)},
	}}
}

func TestShortfall(t *testing.T) {
	one, two := podUsage(gpuPod("1")), podUsage(gpuPod("2"))
	cases := []struct {
		name        string
		q           corev1.ResourceQuota
		pod, freed  corev1.ResourceList
		wantMissing string // "" means it fits
	}{
		{"a surge pod fits a quota with room", quota("4"), one, nil, ""},
		{"a surge pod does not fit a full quota", quota("2"), one, nil, "missing 1"},
		{"a pod in place of an old one fits a full quota", quota("2"), one, one, ""},
		{"a bigger pod in place of an old one does not", quota("2"), two, one, "missing 1"},
		{"a quota without the key never blocks", corev1.ResourceQuota{}, two, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := shortfall([]corev1.ResourceQuota{tc.q}, tc.pod, tc.freed)
			if (tc.wantMissing == "") != (got == "") || !strings.Contains(got, tc.wantMissing) {
				t.Fatalf("shortfall = %q, want %q", got, tc.wantMissing)
			}
		})
	}
}
