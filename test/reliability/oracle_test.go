package reliability

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
)

// childMismatches compares the live children of srv with what
// render.Children renders for its spec: a child the spec does not want must
// be absent; every other one must hold every rendered field with the
// rendered value, and exactly the rendered labels (and, for the
// Deployment, pod template annotations). It returns one line per mismatch.
//
// The storage Secret's version is taken from the live Deployment: how the
// operator derives it is not what this oracle checks.
func childMismatches(srv *servingv1alpha1.KalypsoTritonServer) []string {
	var app servingv1alpha1.KalypsoApplication
	Expect(k8sClient.Get(ctx, key(srv.Namespace, srv.Spec.ApplicationRef.Name), &app)).To(Succeed())
	liveDep, _ := liveChild(srv, render.DeploymentGVK.Kind)
	secretVersion := ""
	if liveDep != nil {
		secretVersion, _, _ = unstructured.NestedString(liveDep.Object, "spec", "template", "metadata", "annotations", render.AnnotationStorageSecret)
	}
	children, err := render.Children(render.Input{Server: srv, Application: &app, SecretVersion: secretVersion})
	Expect(err).NotTo(HaveOccurred())

	var out []string
	for _, c := range children {
		kind := c.GVK.Kind
		live, err := liveChild(srv, kind)
		switch {
		case c.Object == nil && live != nil:
			out = append(out, fmt.Sprintf("%s exists, but the spec wants none", kind))
		case c.Object == nil:
		case live == nil:
			out = append(out, fmt.Sprintf("%s is missing: %v", kind, err))
		default:
			if d := subsetDiff(normalize(live.Object), normalize(c.Object.Object), kind); d != "" {
				out = append(out, d)
			}
			if !maps.Equal(live.GetLabels(), c.Object.GetLabels()) {
				out = append(out, fmt.Sprintf("%s labels: have %v, want %v", kind, live.GetLabels(), c.Object.GetLabels()))
			}
			if kind == render.DeploymentGVK.Kind {
				have, _, _ := unstructured.NestedStringMap(live.Object, "spec", "template", "metadata", "annotations")
				want, _, _ := unstructured.NestedStringMap(c.Object.Object, "spec", "template", "metadata", "annotations")
				if !maps.Equal(have, want) {
					out = append(out, fmt.Sprintf("Deployment pod annotations: have %v, want %v", have, want))
				}
			}
		}
	}
	return out
}

// liveChild reads the server's child of a kind; nil (and the error) when
// it does not exist or its kind is not installed.
func liveChild(srv *servingv1alpha1.KalypsoTritonServer, kind string) (*unstructured.Unstructured, error) {
	var gvk schema.GroupVersionKind
	for _, g := range []schema.GroupVersionKind{render.DeploymentGVK, render.ServiceGVK, render.PDBGVK, render.HPAGVK, render.ServiceMonitorGVK} {
		if g.Kind == kind {
			gvk = g
		}
	}
	Expect(gvk.Kind).NotTo(BeEmpty(), "unknown kind %s", kind)
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := k8sClient.Get(ctx, key(srv.Namespace, srv.Name), u); err != nil {
		Expect(apierrors.IsNotFound(err) || meta.IsNoMatchError(err)).To(BeTrue(), "reading %s: %v", kind, err)
		return nil, err
	}
	return u, nil
}

// normalize returns v as JSON-decoded values, so numbers compare alike.
func normalize(v any) any {
	data, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	var out any
	Expect(json.Unmarshal(data, &out)).To(Succeed())
	return out
}

// subsetDiff describes the first place where want is not contained in
// have: maps key by key, lists element by element with equal lengths,
// scalars exactly; "" when contained.
func subsetDiff(have, want any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: have %v, want an object", path, have)
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if d := subsetDiff(h[k], w[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return fmt.Sprintf("%s: have %v, want %v", path, have, want)
		}
		for i := range w {
			if d := subsetDiff(h[i], w[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(have, want) {
			return fmt.Sprintf("%s: have %v, want %v", path, have, want)
		}
		return ""
	}
}
