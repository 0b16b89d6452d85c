package render

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/apply"
)

func podOf(t *testing.T, s servingv1alpha1.KalypsoTritonServerSpec, app *servingv1alpha1.KalypsoApplication) (*corev1.PodSpec, error) {
	t.Helper()
	srv := &servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", UID: "u"}, Spec: s}
	dep, err := Deployment(Input{Server: srv, Application: app})
	if err != nil {
		return nil, err
	}
	u, err := apply.ToUnstructured(dep.Spec.Template.Spec)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.PodSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &pod); err != nil {
		t.Fatal(err)
	}
	return &pod, nil
}

// Before 2.38.0 (23.09) Triton ignores TRITON_<STORE>_MOUNT_DIRECTORY and
// copies into /tmp: there the /tmp volume is the sized one.
func TestModelCacheOnReleasesWithoutMountDirectory(t *testing.T) {
	for _, tc := range []struct{ tag, tmpLimit, cacheVolume, env string }{
		{"23.08-py3", "21Gi", "", ""},
		{"23.09-py3", "", "20Gi", "TRITON_AWS_MOUNT_DIRECTORY"},
	} {
		s := spec()
		s.StorageURI = "s3://bucket/models"
		s.TritonConfig.Tag = tc.tag
		pod, err := podOf(t, s, &servingv1alpha1.KalypsoApplication{})
		if err != nil {
			t.Fatal(err)
		}
		var tmpLimit, cacheVolume, env string
		for _, v := range pod.Volumes {
			if v.EmptyDir != nil && v.EmptyDir.SizeLimit != nil && v.Name == "tmp" {
				tmpLimit = v.EmptyDir.SizeLimit.String()
			}
			if v.Name == modelCacheVolume && v.EmptyDir != nil && v.EmptyDir.SizeLimit != nil {
				cacheVolume = v.EmptyDir.SizeLimit.String()
			}
		}
		for _, e := range pod.Containers[0].Env {
			if e.Name == "TRITON_AWS_MOUNT_DIRECTORY" {
				env = e.Name
			}
		}
		if tmpLimit != tc.tmpLimit || cacheVolume != tc.cacheVolume || env != tc.env {
			t.Errorf("%s: /tmp limit %q, cache volume %q, env %q; want %q %q %q", tc.tag, tmpLimit, cacheVolume, env,
				tc.tmpLimit, tc.cacheVolume, tc.env)
		}
	}
}

// Azure without an account key needs Triton's AZURE_STORAGE_AUTH_TYPE,
// from 2.69.0 (26.05); before that the server is refused, naming why.
func TestAzureWorkloadIdentityByRelease(t *testing.T) {
	s := spec()
	s.StorageURI = "as://account/container/models"
	s.TritonConfig.Tag = "26.05-py3"
	pod, err := podOf(t, s, &servingv1alpha1.KalypsoApplication{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range pod.Containers[0].Env {
		found = found || (e.Name == "AZURE_STORAGE_AUTH_TYPE" && e.Value == "default")
	}
	if !found {
		t.Errorf("26.05 without a Secret: want AZURE_STORAGE_AUTH_TYPE=default, env is %v", pod.Containers[0].Env)
	}
	s.TritonConfig.Tag = "26.04-py3"
	_, err = podOf(t, s, &servingv1alpha1.KalypsoApplication{})
	var storageErr *InvalidStorageError
	if !errors.As(err, &storageErr) {
		t.Fatalf("26.04 without a Secret: want an InvalidStorageError, got %v", err)
	}
	app := &servingv1alpha1.KalypsoApplication{Spec: servingv1alpha1.KalypsoApplicationSpec{Storage: &servingv1alpha1.Storage{
		SecretRef: &servingv1alpha1.LocalObjectReference{Name: "azure"}}}}
	pod, err = podOf(t, s, app)
	if err != nil {
		t.Fatalf("26.04 with a Secret: %v", err)
	}
	for _, e := range pod.Containers[0].Env {
		if e.Name == "AZURE_STORAGE_AUTH_TYPE" {
			t.Errorf("with an account key no auth type is set, got %v", e)
		}
	}
}
