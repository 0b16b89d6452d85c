package monitoring

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// grafanaVar matches $name, ${name} and ${name:format}; $1 (a label_replace
// back-reference) is not a variable.
var grafanaVar = regexp.MustCompile(`\$(?:\{([A-Za-z_]\w*)(?::\w+)?\}|([A-Za-z_]\w*))`)

// grafanaBuiltins are the variables Grafana itself defines, with the kind of
// value it substitutes.
var grafanaBuiltins = map[string]string{
	"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600",
}

// substitute replaces the dashboard's and Grafana's variables with sample
// values, as Grafana does before sending a query, and fails on a variable the
// dashboard does not define.
func substitute(expr string, defined map[string]bool) (string, error) {
	var unknown []string
	out := grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVar.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := grafanaBuiltins[name]; ok {
			return v
		}
		if defined[name] {
			return "sample"
		}
		unknown = append(unknown, name)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("undefined variables %v", unknown)
	}
	return out, nil
}

// metricNames parses a query and returns every metric name it selects. A
// selector without a literal name is an error: its names cannot be checked.
func metricNames(expr string) ([]string, error) {
	node, err := promQL.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			err = fmt.Errorf("selector %s names no metric", vs)
		}
		names = append(names, name)
		return nil
	})
	return names, err
}

// tritonMetricNames reads the Triton fixture: every family must have HELP,
// TYPE and a sample; the names a query may select are the family names and,
// for summaries and histograms, their _sum, _count and _bucket series.
func tritonMetricNames(t testing.TB) map[string]bool {
	t.Helper()
	f, err := os.Open(tritonFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	p := expfmt.NewTextParser(model.LegacyValidation)
	families, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s: %v", tritonFixture, err)
	}
	names := map[string]bool{}
	for name, mf := range families {
		if !strings.HasPrefix(name, "nv_") || mf.GetHelp() == "" || len(mf.GetMetric()) == 0 {
			t.Errorf("%s: family %s needs the nv_ prefix, HELP and a sample", tritonFixture, name)
		}
		addFamily(names, name, mf.GetType())
	}
	return names
}

// addFamily adds a family's name and the series names of its type.
func addFamily(names map[string]bool, name string, typ dto.MetricType) {
	names[name] = true
	switch typ {
	case dto.MetricType_SUMMARY:
		names[name+"_sum"], names[name+"_count"] = true, true
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		names[name+"_sum"], names[name+"_count"], names[name+"_bucket"] = true, true, true
	}
}

// query is one PromQL expression and where it comes from.
type query struct {
	where, expr string
}

// allQueries collects every dashboard target, every query variable and
// every rule expression, with the variables substituted.
func allQueries(t *testing.T) []query {
	var out []query
	for file, d := range loadDashboards(t) {
		defined := map[string]bool{}
		for _, v := range d.Templating.List {
			defined[v.Name] = true
		}
		add := func(where, expr string) {
			s, err := substitute(expr, defined)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				return
			}
			out = append(out, query{where, s})
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			// label_values(selector, label) lists a label's values; the
			// selector is PromQL.
			m := labelValues.FindStringSubmatch(v.Definition)
			if m == nil {
				t.Errorf("%s: variable %s: want label_values(selector, label), got %q", file, v.Name, v.Definition)
				continue
			}
			add(fmt.Sprintf("%s variable %s", file, v.Name), m[1])
		}
		for _, p := range allPanels(d.Panels) {
			for _, tg := range p.Targets {
				add(fmt.Sprintf("%s panel %q target %s", file, p.Title, tg.RefID), tg.Expr)
			}
		}
	}
	groups, _ := loadRules(t)
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			out = append(out, query{fmt.Sprintf("rules.yaml %s %s%s", g.Name, r.Record, r.Alert), r.Expr})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)

// recordedNames are the series the recording rules write.
func recordedNames(t testing.TB) map[string]bool {
	groups, _ := loadRules(t)
	names := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				names[r.Record] = true
			}
		}
	}
	return names
}

// TestQueriesUseKnownMetrics parses every query with Prometheus's parser and
// checks every metric name against Triton's families, the operator's
// registry, Prometheus's own up series and the recording rules, so that a
// renamed metric fails here rather than as an empty panel or a silent alert.
func TestQueriesUseKnownMetrics(t *testing.T) {
	known := map[string]string{"up": "Prometheus"}
	for n := range tritonMetricNames(t) {
		known[n] = "Triton"
	}
	for n := range operatorMetricNames(t) {
		known[n] = "operator"
	}
	for n := range recordedNames(t) {
		known[n] = "recording rule"
	}
	queries := allQueries(t)
	used := map[string]int{}
	for _, q := range queries {
		names, err := metricNames(q.expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", q.where, err, q.expr)
			continue
		}
		for _, n := range names {
			if _, ok := known[n]; !ok {
				t.Errorf("%s: metric %s is neither Triton's, the operator's nor recorded", q.where, n)
			}
			used[known[n]]++
		}
	}
	t.Logf("%d queries parsed; metric selectors by source: %v", len(queries), used)
}

// TestUnknownMetricIsReported shows the check can fail: a misspelt Triton
// name and a selector without a name are both reported.
func TestUnknownMetricIsReported(t *testing.T) {
	triton := tritonMetricNames(t)
	names, err := metricNames(`sum(rate(nv_inference_request_succes{pod="p"}[5m]))`)
	if err != nil || len(names) != 1 || triton[names[0]] {
		t.Fatalf("a misspelt name must parse and be unknown: %v %v", names, err)
	}
	if _, err := metricNames(`{__name__=~"nv_.+"}`); err == nil {
		t.Fatal("a selector without a metric name must be reported")
	}
	if _, err := substitute(`rate(x{pod="$pdo"}[$__rate_interval])`, map[string]bool{"pod": true}); err == nil {
		t.Fatal("an undefined dashboard variable must be reported")
	}
}
