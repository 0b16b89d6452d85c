package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/controller"
)

func TestStatusOutputs(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(controller.Scheme()).WithObjects(
		&servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"}},
		&servingv1alpha1.KalypsoTritonServer{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "srv"},
			Spec: servingv1alpha1.KalypsoTritonServerSpec{ApplicationRef: servingv1alpha1.LocalObjectReference{Name: "app"}}},
	).Build()
	for output, want := range map[string]string{
		"":     "└─ srv",
		"yaml": "name: srv",
		"json": `"name": "srv"`,
	} {
		var out bytes.Buffer
		if err := runStatus(context.Background(), c, "", statusOptions{output: output}, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "not reconciled yet") {
			t.Errorf("-o %q: %s", output, out.String())
		}
	}
	if err := runStatus(context.Background(), c, "", statusOptions{output: "xml"}, &bytes.Buffer{}); err == nil {
		t.Error("an unknown output must be refused")
	}

	// --watch prints once while nothing changes, and stops with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	if err := runStatus(ctx, c, "ns", statusOptions{watch: true, interval: 50 * time.Millisecond}, &out); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "NAME"); n != 1 {
		t.Errorf("printed %d times without a change", n)
	}
}
