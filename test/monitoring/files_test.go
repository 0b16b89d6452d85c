package monitoring

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// Paths of the files under test, relative to this package.
const (
	dashboardsDir = "../../config/grafana/dashboards"
	rulesFile     = "../../config/prometheus/rules.yaml"
	tritonFixture = "testdata/triton-metrics.txt"
)

// promQL parses like a Prometheus with no feature flags: a query that only
// parses with experimental syntax would fail on a default installation.
var promQL = parser.NewParser(parser.Options{})

// prometheusRule is the part of a PrometheusRule object the tests read.
type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

// loadRules reads rules.yaml, checks that it is one PrometheusRule and
// returns its spec, which has the layout of a Prometheus rule file, parsed and
// validated by Prometheus, and as YAML to hand to the rule manager.
func loadRules(t testing.TB) (*rulefmt.RuleGroups, []byte) {
	t.Helper()
	raw, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var obj prometheusRule
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	if obj.APIVersion != "monitoring.coreos.com/v1" || obj.Kind != "PrometheusRule" {
		t.Fatalf("%s: want a monitoring.coreos.com/v1 PrometheusRule, got %s %s", rulesFile, obj.APIVersion, obj.Kind)
	}
	if obj.Metadata.Name != "kalypso-serving" || obj.Metadata.Labels["app.kubernetes.io/name"] != "kalypso-serving" {
		t.Fatalf("%s: want name and app.kubernetes.io/name kalypso-serving, got %q %v", rulesFile, obj.Metadata.Name, obj.Metadata.Labels)
	}
	spec, err := yaml.JSONToYAML(obj.Spec)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(spec, false, model.UTF8Validation, promQL, promslog.NewNopLogger())
	if len(errs) > 0 {
		t.Fatalf("%s: %v", rulesFile, errs)
	}
	return groups, spec
}

// writeRuleFile writes the rules' spec where the rule manager can load it.
func writeRuleFile(t testing.TB) string {
	t.Helper()
	_, spec := loadRules(t)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Query      any            `json:"query"`
	Definition string         `json:"definition"`
	Datasource *datasourceRef `json:"datasource"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []target       `json:"targets"`
	Panels     []panel        `json:"panels"`
	GridPos    *struct {
		H, W, X, Y int
	} `json:"gridPos"`
}

type target struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Datasource *datasourceRef `json:"datasource"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// loadDashboards reads every dashboard, keyed by file name.
func loadDashboards(t testing.TB) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no dashboards in %s", dashboardsDir)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

// allPanels flattens rows, including collapsed rows that nest their panels.
func allPanels(ps []panel) []panel {
	out := make([]panel, 0, len(ps))
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}
