package helmchart

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kalypsoserving/kalypso-serving/internal/testenv"
)

// comparedFields names, per kind, what both installations must agree on:
// what the object does, not its labels (the chart adds Helm's own).
var comparedFields = map[string][][]string{
	"CustomResourceDefinition":         {{"spec"}},
	"ClusterRole":                      {{"rules"}, {"aggregationRule"}, {"metadata", "labels", "rbac.authorization.k8s.io/aggregate-to-admin"}, {"metadata", "labels", "rbac.authorization.k8s.io/aggregate-to-edit"}, {"metadata", "labels", "rbac.authorization.k8s.io/aggregate-to-view"}},
	"Role":                             {{"rules"}},
	"ClusterRoleBinding":               {{"roleRef"}, {"subjects"}},
	"RoleBinding":                      {{"roleRef"}, {"subjects"}},
	"ServiceAccount":                   {},
	"Service":                          {{"spec"}},
	"NetworkPolicy":                    {{"spec"}},
	"ConfigMap":                        {{"data"}},
	"ValidatingAdmissionPolicy":        {{"spec"}},
	"ValidatingAdmissionPolicyBinding": {{"spec"}},
	"Deployment":                       {{"spec", "replicas"}, {"spec", "selector"}, {"spec", "template", "spec"}, {"spec", "template", "metadata", "annotations"}},
	"ServiceMonitor":                   {{"spec"}},
}

// managerImage is what both manager images are replaced with before their
// pod specs are compared: config/ names kalypso-serving:dev through its
// kustomization, the chart through image.* and its appVersion.
const managerImage = "IMAGE"

func normaliseImage(t *testing.T, dep *unstructured.Unstructured) string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("%s: want the manager container alone, got %d containers", key(dep), len(containers))
	}
	c := containers[0].(map[string]any)
	image, _ := c["image"].(string)
	c["image"] = managerImage
	if err := unstructured.SetNestedSlice(dep.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	return image
}

// compare fails for every object of want the chart lacks or installs
// differently, and for every object the chart adds.
func compare(t *testing.T, want, got []*unstructured.Unstructured) {
	t.Helper()
	chart := index(got)
	seen := map[string]bool{}
	for _, w := range want {
		if w.GetKind() == "Namespace" {
			continue // helm install --create-namespace, or the namespace exists
		}
		k := key(w)
		seen[k] = true
		t.Run(k, func(t *testing.T) {
			g, ok := chart[k]
			if !ok {
				t.Fatalf("the chart does not install %s", k)
			}
			fields, ok := comparedFields[w.GetKind()]
			if !ok {
				t.Fatalf("no comparison for kind %s: add it to comparedFields", w.GetKind())
			}
			if w.GetKind() == "Deployment" {
				wImage, gImage := normaliseImage(t, w), normaliseImage(t, g)
				if wImage != gImage {
					t.Errorf("manager image: config/ %q, chart %q (the chart's appVersion follows config/manager's tag)", wImage, gImage)
				}
			}
			for _, path := range fields {
				sameJSON(t, k+" "+strings.Join(path, "."), field(w, path...), field(g, path...))
			}
		})
	}
	for _, g := range got {
		if !seen[key(g)] {
			t.Errorf("the chart installs %s, which config/ does not", key(g))
		}
	}
}

func TestDefaultValuesInstallWhatConfigDefaultInstalls(t *testing.T) {
	want := kustomizeBuild(t, "default")
	got := helmTemplate(t)
	kinds := map[string]int{}
	for _, w := range want {
		kinds[w.GetKind()]++
	}
	// Guard against comparing two empty renderings.
	if kinds["CustomResourceDefinition"] < 3 || kinds["Deployment"] != 1 || kinds["ClusterRole"] < 5 {
		t.Fatalf("config/default renders too little to compare: %v", kinds)
	}
	compare(t, want, got)
}

func TestServiceMonitorIsConfigPrometheus(t *testing.T) {
	var want []*unstructured.Unstructured
	for _, o := range kustomizeBuild(t, "prometheus") {
		if o.GetKind() == "ServiceMonitor" {
			o.SetNamespace(namespace) // config/default would set it
			want = append(want, o)
		}
	}
	if len(want) != 1 {
		t.Fatalf("config/prometheus: want one ServiceMonitor, got %d", len(want))
	}
	var got []*unstructured.Unstructured
	for _, o := range helmTemplate(t, "--set", "serviceMonitor.enabled=true") {
		if o.GetKind() == "ServiceMonitor" {
			got = append(got, o)
		}
	}
	compare(t, want, got)
}

// TestMonitoringFilesAreConfigs checks that, with every optional part on,
// the chart installs config/prometheus/rules.yaml's rules and one ConfigMap
// per dashboard of config/grafana/dashboards, labelled for the sidecar.
func TestMonitoringFilesAreConfigs(t *testing.T) {
	got := helmTemplate(t, "-f", testenv.Path("charts", "kalypso-serving", "ci", "all-on-values.yaml"))

	rulesYAML, err := os.ReadFile(testenv.Path("config", "prometheus", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The chart's KalypsoOperatorDown watches the release's own metrics
	// Service, where config/ matches any prefix of its name.
	rulesYAML = bytes.ReplaceAll(rulesYAML, []byte("(.+-)?kalypso-serving-controller-manager-metrics"),
		[]byte("kalypso-serving-controller-manager-metrics"))
	var rules unstructured.Unstructured
	if err := yaml.Unmarshal(rulesYAML, &rules.Object); err != nil {
		t.Fatal(err)
	}
	var dashboards = map[string]string{}
	files, err := filepath.Glob(testenv.Path("config", "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in config/grafana/dashboards (%v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dashboards[filepath.Base(f)] = string(data)
	}

	var ruleObjs int
	for _, o := range got {
		switch {
		case o.GetKind() == "PrometheusRule":
			ruleObjs++
			sameJSON(t, "PrometheusRule spec", field(&rules, "spec"), field(o, "spec"))
		case o.GetKind() == "ConfigMap" && o.GetLabels()["grafana_dashboard"] == "1":
			data, _, _ := unstructured.NestedStringMap(o.Object, "data")
			if len(data) != 1 {
				t.Errorf("%s: want one dashboard, got keys %v", key(o), slices.Sorted(maps.Keys(data)))
			}
			for name, content := range data {
				want, ok := dashboards[name]
				if !ok {
					t.Errorf("%s holds %s, which config/grafana/dashboards does not", key(o), name)
					continue
				}
				if content != want {
					t.Errorf("%s: %s differs from config/grafana/dashboards/%s", key(o), name, name)
				}
				delete(dashboards, name)
			}
		}
	}
	if ruleObjs != 1 {
		t.Errorf("want one PrometheusRule, got %d", ruleObjs)
	}
	for name := range dashboards {
		t.Errorf("no ConfigMap holds the dashboard %s", name)
	}
}

// TestOperatorDownWatchesTheReleaseService renders a renamed release: the
// alert must select the job of the metrics Service that release creates.
func TestOperatorDownWatchesTheReleaseService(t *testing.T) {
	got := helmTemplate(t, "--set", "fullnameOverride=kalypso-helm", "--set", "prometheusRule.enabled=true")
	var service, expr string
	for _, o := range got {
		switch o.GetKind() {
		case "Service":
			service = o.GetName()
		case "PrometheusRule":
			groups, _, _ := unstructured.NestedSlice(o.Object, "spec", "groups")
			for _, g := range groups {
				rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
				for _, r := range rules {
					if r.(map[string]any)["alert"] == "KalypsoOperatorDown" {
						expr, _ = r.(map[string]any)["expr"].(string)
					}
				}
			}
		}
	}
	if service != "kalypso-helm-controller-manager-metrics" || expr != `absent(up{job=~"`+service+`"} == 1)` {
		t.Fatalf("metrics Service %q, KalypsoOperatorDown expr %q", service, expr)
	}
}
