package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/faketriton"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

func tritonPod(name, uid, ip string, args ...string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(uid),
			Labels: map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelInstance: "srv"}},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: render.ContainerName, Args: args}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}},
	}
}

func newResolver(t *testing.T, objs ...runtime.Object) (*resolver, client.Client) {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := servingv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).WithRuntimeObjects(objs...).WithIndex(&corev1.Pod{}, podIPField, podIPs).Build()
	r := &resolver{cache: c, defaults: []string{"densenet_onnx", "simple"}, seen: map[string]string{}, scripted: map[string]bool{}}
	r.fake = faketriton.New(r.profile)
	return r, c
}

func TestProfile(t *testing.T) {
	kts := &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "srv"}}
	kts.Spec.TritonConfig.ModelControl = &servingv1alpha1.ModelControl{Mode: servingv1alpha1.ModelControlExplicit,
		Models: []string{"declared", "simple"}}
	r, _ := newResolver(t, kts,
		tritonPod("explicit", "u1", "10.0.0.1", "--model-repository=/models", "--model-control-mode=explicit", "--load-model=simple",
			"--load-model=x-broken"),
		tritonPod("none", "u2", "10.0.0.2", "--model-control-mode=none"),
		tritonPod("all", "u3", "fd00::3", "--model-control-mode=explicit", "--load-model=*"))
	tests := []struct {
		host string
		want string
	}{
		{"10.0.0.1:8000", "explicit=true repo=[declared densenet_onnx simple x-broken] startup=[simple x-broken]"},
		{"10.0.0.2:8000", "explicit=false repo=[declared densenet_onnx simple] startup=[]"},
		{"[fd00::3]:8000", "explicit=true repo=[declared densenet_onnx simple] startup=[*]"},
		{"10.0.0.9:8000", "unknown"},
		{"no-port", "unknown"},
	}
	for _, tt := range tests {
		p := r.profile(tt.host)
		got := fmt.Sprintf("explicit=%v repo=%v startup=%v", p.Explicit, p.Repository, p.Startup)
		if p.Unknown {
			got = "unknown"
		}
		if got != tt.want {
			t.Errorf("profile(%s) = %s, want %s", tt.host, got, tt.want)
		}
	}
}

func TestDemoScriptingAndRestart(t *testing.T) {
	pod := tritonPod("p", "u1", "10.0.0.1", "--model-control-mode=explicit", "--load-model=x-broken")
	r, c := newResolver(t, pod)
	srv := httptest.NewServer(logged(r.fake))
	defer srv.Close()
	post := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, nil)
		req.Host = "10.0.0.1:8000"
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if _, body := post("/v2/repository/index"); !strings.Contains(body, `"name":"x-broken","version":"1","state":"UNAVAILABLE","reason":"failed to load 'x-broken' version 1`) {
		t.Fatalf("index = %s", body)
	}
	if code, _ := post("/v2/repository/models/simple/load"); code != http.StatusOK {
		t.Fatalf("load answered %d", code)
	}
	// Another pod at the same IP starts afresh.
	ctx := context.Background()
	if err := c.Delete(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, tritonPod("p2", "u2", "10.0.0.1", "--model-control-mode=explicit")); err != nil {
		t.Fatal(err)
	}
	if _, body := post("/v2/repository/index"); strings.Contains(body, `"simple","version"`) {
		t.Fatalf("index of a new pod at a reused IP = %s", body)
	}
	if hosts := r.fake.Hosts(); !slices.Equal(hosts, []string{"10.0.0.1:8000"}) {
		t.Fatalf("hosts = %v", hosts)
	}
}
