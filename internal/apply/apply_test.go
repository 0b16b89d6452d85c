package apply

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

func desiredDeployment(t *testing.T, image string) *appsv1ac.DeploymentApplyConfiguration {
	t.Helper()
	return appsv1ac.Deployment("srv", "ns").
		WithLabels(map[string]string{"a": "b"}).
		WithSpec(appsv1ac.DeploymentSpec().WithReplicas(2).
			WithTemplate(corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().
				WithContainers(corev1ac.Container().WithName("c").WithImage(image).
					WithArgs("--x=1", "--y=2").
					WithResources(corev1ac.ResourceRequirements().
						WithLimits(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000m")}))))))
}

// liveFrom builds the object the API server would return after applying
// desired, with server defaults and another manager's additions.
func liveFrom(t *testing.T, image string, args []string, hash string) *appsv1.Deployment {
	t.Helper()
	return &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "srv", Namespace: "ns", ResourceVersion: "7",
			Labels:      map[string]string{"a": "b", "added-by-someone": "x"},
			Annotations: map[string]string{AnnotationHash: hash, "other": "tool"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptrTo(int32(2)),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				DNSPolicy: corev1.DNSClusterFirst,
				Containers: []corev1.Container{{Name: "c", Image: image, Args: args,
					TerminationMessagePath: "/dev/termination-log",
					Resources: corev1.ResourceRequirements{
						Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}}},
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestUpToDate(t *testing.T) {
	desired, err := ToUnstructured(desiredDeployment(t, "img:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Prepare(desired); err != nil {
		t.Fatal(err)
	}
	hash := desired.GetAnnotations()[AnnotationHash]

	cases := []struct {
		name string
		live *appsv1.Deployment
		want bool
	}{
		{"an object with server defaults and others' fields is up to date", liveFrom(t, "img:1", []string{"--x=1", "--y=2"}, hash), true},
		{"an object whose image was edited is not up to date", liveFrom(t, "img:2", []string{"--x=1", "--y=2"}, hash), false},
		{"an object with an extra argument is not up to date", liveFrom(t, "img:1", []string{"--x=1", "--y=2", "--z=3"}, hash), false},
		{"an object applied from another intent is not up to date", liveFrom(t, "img:1", []string{"--x=1", "--y=2"}, "old"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := UpToDate(tc.live, desired)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("UpToDate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrepareIsStable(t *testing.T) {
	a, _ := ToUnstructured(desiredDeployment(t, "img:1"))
	b, _ := ToUnstructured(desiredDeployment(t, "img:1"))
	c, _ := ToUnstructured(desiredDeployment(t, "img:2"))
	if err := Prepare(a); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(b); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(c); err != nil {
		t.Fatal(err)
	}
	if a.GetAnnotations()[AnnotationHash] != b.GetAnnotations()[AnnotationHash] {
		t.Error("the same intent must hash the same")
	}
	if a.GetAnnotations()[AnnotationHash] == c.GetAnnotations()[AnnotationHash] {
		t.Error("a different intent must hash differently")
	}
}
