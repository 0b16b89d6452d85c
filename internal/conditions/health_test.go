package conditions_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// argoDir holds the Argo CD health customizations, relative to this package.
var argoDir = filepath.Join("..", "..", "config", "argocd")

// argoHealthFor is the Argo CD health each kstatus status must map to.
var argoHealthFor = map[kstatus.Status]string{
	kstatus.CurrentStatus:    "Healthy",
	kstatus.FailedStatus:     "Degraded",
	kstatus.InProgressStatus: "Progressing",
}

// argoHealthStatuses are the values Argo CD accepts from a health script.
var argoHealthStatuses = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true}

func healthScript(t *testing.T, kind string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(argoDir, "health", "serving.kalypso.io", kind, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// toLua turns a value of an unstructured object into the Lua value Argo CD
// hands a health script: maps and lists become tables, numbers numbers.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case map[string]any:
		tbl := l.NewTable()
		for k, e := range v {
			tbl.RawSetString(k, toLua(l, e))
		}
		return tbl
	case []any:
		tbl := l.NewTable()
		for _, e := range v {
			tbl.Append(toLua(l, e))
		}
		return tbl
	default:
		panic(fmt.Sprintf("unexpected %T in an unstructured object", v))
	}
}

// runHealth runs a health script on obj in a Lua state with only the base,
// table, string and math libraries, and returns its status and message.
func runHealth(t *testing.T, script string, obj map[string]any) (status, message string) {
	t.Helper()
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable,
		lua.StringLibName: lua.OpenString, lua.MathLibName: lua.OpenMath,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			t.Fatalf("opening %q: %v", name, err)
		}
	}
	l.SetGlobal("obj", toLua(l, obj))
	fn, err := l.LoadString(script)
	if err != nil {
		t.Fatalf("loading health.lua: %v", err)
	}
	if err := l.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
		t.Fatalf("running health.lua: %v", err)
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health.lua returned %s, want a table", l.Get(-1).Type())
	}
	st, ok := ret.RawGetString("status").(lua.LString)
	if !ok || !argoHealthStatuses[string(st)] {
		t.Fatalf("health.lua returned status %v, want one of Healthy, Progressing, Degraded, Suspended", ret.RawGetString("status"))
	}
	msg, ok := ret.RawGetString("message").(lua.LString)
	if !ok || msg == "" {
		t.Fatalf("health.lua returned message %v, want a non-empty string", ret.RawGetString("message"))
	}
	return string(st), string(msg)
}

// TestArgoCDHealthAgreesWithKstatus runs each kind's health.lua on the
// objects of the kstatus test, and on every sequence of up to three outcomes
// with the generation observed or not, and checks that Argo CD would show
// what kstatus computes: Current as Healthy, Failed as Degraded, InProgress
// as Progressing.
func TestArgoCDHealthAgreesWithKstatus(t *testing.T) {
	for _, kind := range kinds {
		script := healthScript(t, kind)
		t.Run(kind, func(t *testing.T) {
			cases := append([]healthCase(nil), healthCases...)
			for _, seq := range outcomeSequences(1) {
				cases = append(cases,
					healthCase{name: "sequence", outcomes: seq, want: expected(seq[len(seq)-1])},
					healthCase{name: "sequence, generation behind", outcomes: seq, behind: true, want: kstatus.InProgressStatus})
			}
			for _, tc := range cases {
				u := objectAfter(t, kind, tc.outcomes, tc.behind)
				res := computeKstatus(t, u)
				if res.Status != tc.want {
					t.Fatalf("%s %+v: kstatus computed %s, want %s", tc.name, tc.outcomes, res.Status, tc.want)
				}
				got, msg := runHealth(t, script, u.Object)
				if want := argoHealthFor[res.Status]; got != want {
					t.Fatalf("%s %+v: health.lua says %s (%q), kstatus %s (%q), want %s",
						tc.name, tc.outcomes, got, msg, res.Status, res.Message, want)
				}
			}
		})
	}
}

// TestArgoCDHealthWithoutStatus checks that health.lua copes with objects the
// operator has not written status on yet, and calls them Progressing.
func TestArgoCDHealthWithoutStatus(t *testing.T) {
	for _, kind := range kinds {
		script := healthScript(t, kind)
		t.Run(kind, func(t *testing.T) {
			u := objectAfter(t, kind, nil, false)
			objects := map[string]map[string]any{
				"no status":     withoutField(u, "status"),
				"empty status":  {"apiVersion": u.GetAPIVersion(), "kind": kind, "metadata": u.Object["metadata"], "status": map[string]any{}},
				"no metadata":   {"apiVersion": u.GetAPIVersion(), "kind": kind},
				"no conditions": u.Object,
			}
			for name, obj := range objects {
				if got, msg := runHealth(t, script, obj); got != "Progressing" {
					t.Errorf("%s: health.lua says %s (%q), want Progressing", name, got, msg)
				}
			}
		})
	}
}

func withoutField(u *unstructured.Unstructured, field string) map[string]any {
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, field)
	return c.Object
}

// TestArgoCDConfigMapMatchesLua checks that argocd-cm-health.yaml carries
// each kind's health.lua byte for byte under Argo CD's key for the kind, and
// nothing else, so that the two cannot drift apart.
func TestArgoCDConfigMapMatchesLua(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(argoDir, "argocd-cm-health.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(b, &cm); err != nil {
		t.Fatalf("argocd-cm-health.yaml: %v", err)
	}
	if cm.Kind != "ConfigMap" || cm.APIVersion != "v1" || cm.Name != "argocd-cm" {
		t.Fatalf("argocd-cm-health.yaml is %s %s %q, want the v1 ConfigMap argocd-cm", cm.APIVersion, cm.Kind, cm.Name)
	}
	if len(cm.Data) != len(kinds) {
		t.Errorf("argocd-cm-health.yaml has %d keys, want one per kind (%d)", len(cm.Data), len(kinds))
	}
	for _, kind := range kinds {
		key := "resource.customizations.health.serving.kalypso.io_" + kind
		got, ok := cm.Data[key]
		if !ok {
			t.Errorf("argocd-cm-health.yaml lacks %s", key)
			continue
		}
		if want := healthScript(t, kind); got != want {
			t.Errorf("%s in argocd-cm-health.yaml differs from health/serving.kalypso.io/%s/health.lua; copy the script into the YAML", key, kind)
		}
	}
}
