package application

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

func app(projectRef string, storageType servingv1alpha1.StorageType) *servingv1alpha1.KalypsoApplication {
	a := &servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"}}
	if projectRef != "" {
		a.Spec.ProjectRef = &servingv1alpha1.LocalObjectReference{Name: projectRef}
	}
	if storageType != "" {
		a.Spec.Storage = &servingv1alpha1.Storage{Type: storageType}
	}
	return a
}

func servers(uris ...string) []servingv1alpha1.KalypsoTritonServer {
	out := make([]servingv1alpha1.KalypsoTritonServer, 0, len(uris))
	for _, u := range uris {
		out = append(out, servingv1alpha1.KalypsoTritonServer{Spec: servingv1alpha1.KalypsoTritonServerSpec{StorageURI: u}})
	}
	return out
}

func TestProjectOutcome(t *testing.T) {
	cases := []struct {
		name        string
		app         *servingv1alpha1.KalypsoApplication
		nsProject   string
		wantProject string
		mismatch    bool
	}{
		{"no projectRef takes the namespace's project", app("", ""), "p", "p", false},
		{"no projectRef outside any project works standalone", app("", ""), "", "", false},
		{"a matching projectRef is accepted", app("p", ""), "p", "p", false},
		{"a projectRef naming another project is refused", app("other", ""), "p", "", true},
		{"a projectRef in a namespace of no project is refused", app("p", ""), "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			project, o := projectOutcome(tc.app, tc.nsProject)
			if project != tc.wantProject || (o != nil) != tc.mismatch {
				t.Fatalf("got project %q, outcome %+v", project, o)
			}
			if o != nil && (o.Reason != servingv1alpha1.ReasonProjectMismatch || !o.Stalled) {
				t.Fatalf("want a stalled ProjectMismatch, got %+v", o)
			}
		})
	}
}

func TestStorageType(t *testing.T) {
	cases := []struct {
		name    string
		app     *servingv1alpha1.KalypsoApplication
		servers []servingv1alpha1.KalypsoTritonServer
		want    servingv1alpha1.StorageType
		wantErr bool
	}{
		{"an explicit type wins", app("", servingv1alpha1.StorageGCS), servers("s3://b/m"), servingv1alpha1.StorageGCS, false},
		{"the servers' scheme is inferred", app("", ""), servers("s3://b/m", "s3://b/n"), servingv1alpha1.StorageS3, false},
		{"pvc servers need no store", app("", ""), servers("pvc://c/m"), "", false},
		{"mixed stores need an explicit choice", app("", ""), servers("s3://b/m", "gs://b/m"), "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := storageType(tc.app, tc.servers)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestMissingKeys(t *testing.T) {
	missing := missingKeys(servingv1alpha1.StorageS3, map[string]bool{"AWS_ACCESS_KEY_ID": true})
	if len(missing) != 1 || missing[0] != "AWS_SECRET_ACCESS_KEY" {
		t.Fatalf("got %v", missing)
	}
	if m := missingKeys(servingv1alpha1.StorageAzure, map[string]bool{"AZURE_STORAGE_ACCOUNT": true, "AZURE_STORAGE_KEY": true}); len(m) != 0 {
		t.Fatalf("got %v", m)
	}
}
