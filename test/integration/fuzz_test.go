package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

const fuzzNamespace = "fuzz"

// FuzzAdmittedServerRendersAdmittedObjects: whatever server spec the API
// server admits (CRD schema and CEL, with its defaults applied), the
// operator renders into children the API server admits too (server-side
// apply, dry run), and into a pod that Pod Security restricted admits
// without a warning; or it refuses the spec with a typed error, which the
// operator reports as a condition. It starts its own kube-apiserver.
func FuzzAdmittedServerRendersAdmittedObjects(f *testing.F) {
	c, warnings := fuzzControlPlane(f)
	addRenderCaseSeeds(f)
	app := &servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace, Name: "app"},
		Spec: servingv1alpha1.KalypsoApplicationSpec{Storage: &servingv1alpha1.Storage{
			SecretRef: &servingv1alpha1.LocalObjectReference{Name: "creds"}, Endpoint: "http://minio:9000"}}}

	f.Fuzz(func(t *testing.T, serverSpec []byte) {
		var spec servingv1alpha1.KalypsoTritonServerSpec
		if json.Unmarshal(serverSpec, &spec) != nil {
			return
		}
		ctx := context.Background()
		srv := &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace, Name: "srv"}, Spec: spec}
		if c.Create(ctx, srv, client.DryRunAll) != nil {
			return // refused at admission: the operator never sees it
		}
		srv.UID = "00000000-0000-0000-0000-0000000000f2"
		children, err := render.Children(render.Input{Server: srv, Application: app, SecretVersion: "v1"})
		var specErr *render.InvalidSpecError
		var storageErr *render.InvalidStorageError
		if errors.As(err, &specErr) || errors.As(err, &storageErr) {
			return
		}
		if err != nil {
			t.Fatalf("an untyped render error for an admitted spec: %v", err)
		}
		warnings.reset()
		for _, child := range children {
			if child.Object != nil && child.GVK != render.ServiceMonitorGVK { // no Prometheus Operator CRD here
				admitChild(ctx, t, c, child, serverSpec)
			}
		}
		if w := warnings.all(); len(w) > 0 {
			t.Fatalf("admitted spec %s rendered objects with warnings: %v", serverSpec, w)
		}
	})
}

// admitChild dry-runs one rendered child, and a Deployment's pod.
func admitChild(ctx context.Context, t *testing.T, c client.Client, child render.Child, serverSpec []byte) {
	t.Helper()
	obj := child.Object.DeepCopy()
	if err := apply.Prepare(obj); err != nil {
		t.Fatal(err)
	}
	if err := apply.Apply(ctx, c, obj, apply.Options{FieldOwner: render.FieldOwner, DryRun: true}); err != nil {
		t.Fatalf("admitted spec %s rendered a %s the API server refuses: %v", serverSpec, child.GVK.Kind, err)
	}
	if child.GVK != render.DeploymentGVK {
		return
	}
	var dep appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(child.Object.Object, &dep); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace, Name: "srv",
		Labels: dep.Spec.Template.Labels}, Spec: dep.Spec.Template.Spec}
	// References to cluster objects (priority and runtime classes, the
	// service account) are the cluster's to provide.
	pod.Spec.PriorityClassName, pod.Spec.RuntimeClassName, pod.Spec.ServiceAccountName = "", nil, ""
	if err := c.Create(ctx, pod, client.DryRunAll); err != nil {
		t.Fatalf("admitted spec %s rendered a pod the API server refuses: %v", serverSpec, err)
	}
}

// addRenderCaseSeeds seeds the corpus with the servers of the render cases.
func addRenderCaseSeeds(f *testing.F) {
	seeds, err := filepath.Glob(testenv.Path("internal", "render", "testdata", "cases", "*.yaml"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no render cases to seed from: %v", err)
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		m, err := preview.Read(bytes.NewReader(data))
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		for _, srv := range m.Servers {
			spec, _ := json.Marshal(srv.Spec)
			f.Add(spec)
		}
	}
}

// fuzzControlPlane starts a kube-apiserver and etcd for this process (each
// fuzzing worker is a process) with a restricted namespace, and returns a
// client whose warnings are recorded.
func fuzzControlPlane(f *testing.F) (client.Client, *warningRecorder) {
	env, err := testenv.New()
	if err != nil {
		f.Skip(err.Error())
	}
	cfg, err := env.Start()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = env.Stop() })
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		f.Fatal(err)
	}
	if err := servingv1alpha1.AddToScheme(s); err != nil {
		f.Fatal(err)
	}
	warnings := &warningRecorder{}
	wcfg := rest.CopyConfig(cfg)
	wcfg.WarningHandlerWithContext = warnings
	c, err := client.New(wcfg, client.Options{Scheme: s})
	if err != nil {
		f.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fuzzNamespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}}}
	if err := c.Create(context.Background(), ns); err != nil {
		f.Fatal(err)
	}
	return c, warnings
}
