package monitoring

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

// evalStep is how often the rules are evaluated in the tests: the interval
// of the recording group, and finer than any alert's for clause.
const evalStep = 30 * time.Second

// ruleRun evaluates rules.yaml over series given in promqltest's load syntax
// ("load 15s" followed by series lines), as promtool's rule unit tests do:
// the rule manager loads the file, every group is evaluated at each step in
// file order, recorded series are written back to the test storage.
type ruleRun struct {
	loader *promqltest.LazyLoader
	groups []*rules.Group
}

func newRuleRun(t *testing.T, load string) *ruleRun {
	t.Helper()
	ll, err := promqltest.NewLazyLoader(load, promqltest.LazyLoaderOpts{
		EnableAtModifier: true, EnableNegativeOffset: true, Parser: promQL,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ll.Close() })
	ll.SubqueryInterval = evalStep
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(ll.QueryEngine(), ll.Storage()),
		AppendableV2: ll.Storage(),
		Context:      context.Background(),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       promslog.NewNopLogger(),
		Parser:       promQL,
	})
	byName, errs := m.LoadGroups(time.Minute, labels.EmptyLabels(), "", nil, false, writeRuleFile(t))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	// Recording rules come first in the file and must run first at each step,
	// so that the alerts read what they recorded.
	order := map[string]int{}
	parsed, _ := loadRules(t)
	for i, g := range parsed.Groups {
		order[g.Name] = i
	}
	groups := make([]*rules.Group, 0, len(byName))
	for _, g := range byName {
		groups = append(groups, g)
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				ar.SetRestored(true)
			}
		}
	}
	sort.Slice(groups, func(i, j int) bool { return order[groups[i].Name()] < order[groups[j].Name()] })
	return &ruleRun{loader: ll, groups: groups}
}

// until evaluates every group at each step from time zero to end.
func (r *ruleRun) until(t *testing.T, end time.Duration) {
	t.Helper()
	start := time.Unix(0, 0).UTC()
	for ts := start; !ts.After(start.Add(end)); ts = ts.Add(evalStep) {
		r.loader.WithSamplesTill(ts, func(err error) {
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range r.groups {
				g.Eval(r.loader.Context(), ts)
				for _, rule := range g.Rules() {
					if err := rule.LastError(); err != nil {
						t.Fatalf("rule %s at %s: %v", rule.Name(), ts.Sub(start), err)
					}
				}
			}
		})
	}
}

// firing returns the labels of the alert's firing instances.
func (r *ruleRun) firing(name string) []labels.Labels {
	var out []labels.Labels
	for _, g := range r.groups {
		for _, rule := range g.Rules() {
			ar, ok := rule.(*rules.AlertingRule)
			if !ok || ar.Name() != name {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					out = append(out, a.Labels)
				}
			}
		}
	}
	return out
}

// alertRule returns the alerting rule of that name, or nil.
func (r *ruleRun) alertRule(name string) *rules.AlertingRule {
	for _, g := range r.groups {
		for _, rule := range g.Rules() {
			if ar, ok := rule.(*rules.AlertingRule); ok && ar.Name() == name {
				return ar
			}
		}
	}
	return nil
}

// instant evaluates a query at the given time over the stored series,
// recorded ones included.
func (r *ruleRun) instant(t *testing.T, q string, at time.Duration) promql.Vector {
	t.Helper()
	qry, err := r.loader.QueryEngine().NewInstantQuery(r.loader.Context(), r.loader.Storage(), nil, q, time.Unix(0, 0).UTC().Add(at))
	if err != nil {
		t.Fatal(err)
	}
	defer qry.Close()
	res := qry.Exec(r.loader.Context())
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	v, err := res.Vector()
	if err != nil {
		t.Fatal(err)
	}
	return v
}
