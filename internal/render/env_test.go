package render

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// The spec's env follows the storage variables, in order, with valueFrom
// references passed through as written.
func TestDeploymentEnvPassThrough(t *testing.T) {
	s := spec()
	s.Env = []corev1.EnvVar{
		{Name: "LD_PRELOAD", Value: "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"},
		{Name: "HF_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "hf"}, Key: "token"}}},
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
