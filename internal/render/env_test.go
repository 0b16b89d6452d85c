package render

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// The spec's env follows the storage variables, in order, with valueFrom
// references passed through as written.
func TestDeploymentEnvPassThrough(t *testing.T) {
	s := spec()
	s.Env = []servingv1alpha1.EnvVar{
		{Name: "LD_PRELOAD", Value: "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"},
		{Name: "HF_TOKEN", ValueFrom: &servingv1alpha1.EnvVarSource{SecretKeyRef: &servingv1alpha1.KeySelector{Name: "hf", Key: "token"}}},
	}
	srv := &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "ns", UID: "u"}, Spec: s}
	app := &servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns"},
		Spec: servingv1alpha1.KalypsoApplicationSpec{Storage: &servingv1alpha1.Storage{
			SecretRef: &servingv1alpha1.LocalObjectReference{Name: "creds"}, Region: "eu-west-1"}}}
	dep, err := Deployment(Input{Server: srv, Application: app})
	if err != nil {
		t.Fatal(err)
	}
	env := dep.Spec.Template.Spec.Containers[0].Env
	names := make([]string, 0, len(env))
	for _, e := range env {
		names = append(names, *e.Name)
	}
	if len(names) < 3 || names[len(names)-2] != "LD_PRELOAD" || names[len(names)-1] != "HF_TOKEN" || names[0] != "AWS_ACCESS_KEY_ID" {
		t.Fatalf("env order %v: storage variables first, then the spec's", names)
	}
	hf := env[len(env)-1]
	if hf.ValueFrom == nil || hf.ValueFrom.SecretKeyRef == nil || *hf.ValueFrom.SecretKeyRef.Name != "hf" || *hf.ValueFrom.SecretKeyRef.Key != "token" {
		t.Fatalf("valueFrom not passed through: %+v", hf.ValueFrom)
	}
}

// Probe period and timeout come from the spec; the startup budget is kept
// whatever the period, and liveness never runs more often than every 15 s.
func TestDeploymentProbeTiming(t *testing.T) {
	s := spec()
	budget, period, timeout := int32(600), int32(30), int32(20)
	s.Probes = &servingv1alpha1.Probes{StartupTimeoutSeconds: &budget, PeriodSeconds: &period, TimeoutSeconds: &timeout}
	srv := &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", UID: "u"}, Spec: s}
	dep, err := Deployment(Input{Server: srv, Application: &servingv1alpha1.KalypsoApplication{}})
	if err != nil {
		t.Fatal(err)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	for name, p := range map[string]int32{"startup": *c.StartupProbe.PeriodSeconds, "readiness": *c.ReadinessProbe.PeriodSeconds,
		"liveness": *c.LivenessProbe.PeriodSeconds} {
		if p != period {
			t.Errorf("%s period %d, want %d", name, p, period)
		}
	}
	if *c.StartupProbe.TimeoutSeconds != timeout || *c.LivenessProbe.TimeoutSeconds != timeout {
		t.Errorf("timeouts %d/%d, want %d", *c.StartupProbe.TimeoutSeconds, *c.LivenessProbe.TimeoutSeconds, timeout)
	}
	if got := *c.StartupProbe.FailureThreshold * *c.StartupProbe.PeriodSeconds; got < budget || got >= budget+period {
		t.Errorf("startup budget %d s, want %d", got, budget)
	}
	short := int32(2)
	s.Probes = &servingv1alpha1.Probes{PeriodSeconds: &short}
	srv.Spec = s
	dep, err = Deployment(Input{Server: srv, Application: &servingv1alpha1.KalypsoApplication{}})
	if err != nil {
		t.Fatal(err)
	}
	if l := *dep.Spec.Template.Spec.Containers[0].LivenessProbe.PeriodSeconds; l != 15 {
		t.Errorf("liveness period %d with a 2 s period, want 15", l)
	}
}

// A cloud repository is copied into a sized volume that Triton is told
// about, and the container asks for the ephemeral storage it takes; a
// repository read in place gets none, and the spec's own ephemeral-storage
// resources win.
func TestDeploymentModelCache(t *testing.T) {
	render := func(s servingv1alpha1.KalypsoTritonServerSpec) *corev1.PodSpec {
		t.Helper()
		pod, err := podOf(t, s, &servingv1alpha1.KalypsoApplication{})
		if err != nil {
			t.Fatal(err)
		}
		return pod
	}
	cacheOf := func(pod *corev1.PodSpec) (size, request string, env string) {
		for _, v := range pod.Volumes {
			if v.Name == modelCacheVolume && v.EmptyDir != nil && v.EmptyDir.SizeLimit != nil {
				size = v.EmptyDir.SizeLimit.String()
			}
		}
		c := pod.Containers[0]
		if q, ok := c.Resources.Requests[corev1.ResourceEphemeralStorage]; ok {
			request = q.String()
		}
		for _, e := range c.Env {
			if strings.HasSuffix(e.Name, "_MOUNT_DIRECTORY") {
				env = e.Name + "=" + e.Value
			}
		}
		return size, request, env
	}
	for _, tc := range []struct {
		uri, size, wantSize, wantRequest, wantEnv string
	}{
		{"s3://bucket/models", "", "20Gi", "21Gi", "TRITON_AWS_MOUNT_DIRECTORY=/model-cache"},
		{"gs://bucket/models", "100Gi", "100Gi", "101Gi", "TRITON_GCS_MOUNT_DIRECTORY=/model-cache"},
		{"as://account/container/models", "", "20Gi", "21Gi", "TRITON_AZURE_MOUNT_DIRECTORY=/model-cache"},
		{"pvc://claim/models", "100Gi", "", "", ""},
	} {
		s := spec()
		s.StorageURI = tc.uri
		if tc.size != "" {
			q := resource.MustParse(tc.size)
			s.ModelCacheSize = &q
		}
		size, request, env := cacheOf(render(s))
		if size != tc.wantSize || request != tc.wantRequest || env != tc.wantEnv {
			t.Errorf("%s: cache %q request %q env %q, want %q %q %q", tc.uri, size, request, env, tc.wantSize, tc.wantRequest, tc.wantEnv)
		}
	}
	s := spec()
	s.Resources.Limits = corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("300Gi")}
	pod := render(s)
	if l := pod.Containers[0].Resources.Limits[corev1.ResourceEphemeralStorage]; l.String() != "300Gi" {
		t.Errorf("the spec's ephemeral-storage limit must win, got %s", l.String())
	}
	if _, set := pod.Containers[0].Resources.Requests[corev1.ResourceEphemeralStorage]; set {
		t.Errorf("no request added beside the spec's own limit")
	}
}
