package render_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/preview"
	"github.com/kalypsoserving/kalypso-serving/internal/render"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// The fuzz targets feed arbitrary specs to every renderer. A renderer may
// refuse a spec with a typed error, but never panics, renders the same
// bytes for the same input, and what it renders is coherent: Triton's
// grammar holds, every object is named, placed and owned as the operator
// expects. test/integration replays the FuzzChildren corpus against the API
// server for its verdict. Seeds: testdata/fuzz, plus the render cases.

const fuzzUID = "00000000-0000-0000-0000-0000000000f1"

// FuzzChildren renders a server (spec JSON) of an application (spec JSON).
func FuzzChildren(f *testing.F) {
	for _, c := range fuzzSeeds(f) {
		f.Add(c.server, c.app, "v1")
	}
	f.Fuzz(func(t *testing.T, serverSpec, appSpec []byte, secretVersion string) {
		in, ok := fuzzInput(serverSpec, appSpec, secretVersion)
		if !ok {
			return
		}
		children, err := render.Children(in)
		var specErr *render.InvalidSpecError
		var storageErr *render.InvalidStorageError
		if errors.As(err, &specErr) || errors.As(err, &storageErr) {
			return
		}
		if err != nil {
			t.Fatalf("an untyped render error: %v", err)
		}
		again, err := render.Children(in)
		if err != nil || !bytes.Equal(mustJSON(t, children), mustJSON(t, again)) {
			t.Fatalf("rendering twice differs (err %v)", err)
		}
		if len(children) != 5 || children[0].GVK != render.DeploymentGVK || children[0].Object == nil {
			t.Fatalf("want the five child kinds, Deployment first; got %d", len(children))
		}
		dep, err := render.Deployment(in)
		if err != nil {
			t.Fatalf("Children succeeded but Deployment failed: %v", err)
		}
		if err := triton.CheckArgs(dep.Spec.Template.Spec.Containers[0].Args); err != nil {
			t.Fatalf("rendered arguments break Triton's grammar: %v", err)
		}
		checkOwned(t, in, children)
	})
}

// checkOwned fails unless every rendered child is named, placed, owned and
// labelled as its server's.
func checkOwned(t *testing.T, in render.Input, children []render.Child) {
	t.Helper()
	for _, c := range children {
		if c.Object == nil {
			continue
		}
		o := c.Object
		owners := o.GetOwnerReferences()
		if o.GetName() != in.Server.Name || o.GetNamespace() != in.Server.Namespace || len(owners) != 1 ||
			string(owners[0].UID) != fuzzUID || owners[0].Controller == nil || !*owners[0].Controller {
			t.Fatalf("%s is not named, placed and owned as its server: %s/%s %v", c.GVK.Kind, o.GetNamespace(), o.GetName(), owners)
		}
		if o.GetLabels()[render.LabelManagedBy] != render.ManagedByValue {
			t.Fatalf("%s lacks the managed-by label", c.GVK.Kind)
		}
	}
}

// FuzzEnvChildren renders every environment of a project (spec JSON).
func FuzzEnvChildren(f *testing.F) {
	f.Add([]byte(`{"displayName":"p","environments":[{"name":"dev"},{"name":"prod","quota":{"gpu":"4","cpu":"8","memory":"16Gi"},` +
		`"isolation":{"enabled":true},"access":{"admins":[{"kind":"Group","name":"ml"}]}}]}`))
	f.Add([]byte(`{"environments":[{"name":"x","namespace":"team-x","podSecurity":"baseline","limits":{"defaultCPU":"1"}}]}`))
	f.Fuzz(func(t *testing.T, projectSpec []byte) {
		var spec servingv1alpha1.KalypsoProjectSpec
		if json.Unmarshal(projectSpec, &spec) != nil {
			return
		}
		proj := &servingv1alpha1.KalypsoProject{ObjectMeta: metav1.ObjectMeta{Name: "proj", UID: fuzzUID}, Spec: spec}
		for _, env := range spec.Environments {
			in := render.EnvInput{Project: proj, Env: env}
			ns := render.EnvNamespace(proj.Name, env)
			first := mustJSON(t, []any{render.Namespace(in), render.EnvChildren(in)})
			if !bytes.Equal(first, mustJSON(t, []any{render.Namespace(in), render.EnvChildren(in)})) {
				t.Fatal("rendering an environment twice differs")
			}
			for _, c := range render.EnvChildren(in) {
				if c.Object == nil {
					continue
				}
				meta, _ := c.Object["metadata"].(map[string]any)
				if meta["namespace"] != ns || meta["name"] != c.Name {
					t.Fatalf("%s %s is rendered as %v/%v, want %s/%s", c.Kind, c.Name, meta["namespace"], meta["name"], ns, c.Name)
				}
			}
		}
	})
}

type fuzzSeed struct{ server, app []byte }

// fuzzSeeds are the server and application specs of the render cases.
func fuzzSeeds(f *testing.F) []fuzzSeed {
	var out []fuzzSeed
	for name, data := range goldenCases(f) {
		m, err := preview.Read(bytes.NewReader(data))
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		for _, srv := range m.Servers {
			var appSpec []byte
			if app := m.Applications[srv.Namespace+"/"+srv.Spec.ApplicationRef.Name]; app != nil {
				appSpec = mustJSON(f, app.Spec)
			}
			out = append(out, fuzzSeed{server: mustJSON(f, srv.Spec), app: appSpec})
		}
	}
	return out
}

func fuzzInput(serverSpec, appSpec []byte, secretVersion string) (render.Input, bool) {
	var spec servingv1alpha1.KalypsoTritonServerSpec
	if json.Unmarshal(serverSpec, &spec) != nil {
		return render.Input{}, false
	}
	in := render.Input{
		Server: &servingv1alpha1.KalypsoTritonServer{
			ObjectMeta: metav1.ObjectMeta{Name: "srv", Namespace: "ns", UID: fuzzUID}, Spec: spec},
		SecretVersion: secretVersion,
	}
	if len(appSpec) > 0 {
		var as servingv1alpha1.KalypsoApplicationSpec
		if json.Unmarshal(appSpec, &as) != nil {
			return render.Input{}, false
		}
		in.Application = &servingv1alpha1.KalypsoApplication{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns"}, Spec: as}
	}
	return in, true
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
