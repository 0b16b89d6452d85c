package monitoring

import (
	"testing"
)

// TestDashboardsAreWellFormed checks what Grafana and its sidecar rely on:
// unique uids, a recent schema, a Prometheus data source chosen through the
// datasource variable on every panel and target, known panel types and a
// grid position for each panel.
func TestDashboardsAreWellFormed(t *testing.T) {
	uids := map[string]string{}
	for file, d := range loadDashboards(t) {
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: needs a uid and a title", file)
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s: uid %q already used by %s", file, d.UID, other)
		}
		uids[d.UID] = file
		if d.SchemaVersion < 36 {
			t.Errorf("%s: schemaVersion %d predates data source references by uid", file, d.SchemaVersion)
		}
		hasDS := false
		for _, v := range d.Templating.List {
			if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
				hasDS = true
			}
			if v.Type == "query" && !isTemplated(v.Datasource) {
				t.Errorf("%s: variable %s must query ${datasource}", file, v.Name)
			}
		}
		if !hasDS {
			t.Errorf("%s: needs a datasource variable of type prometheus", file)
		}
		panels := checkPanels(t, file, d)
		t.Logf("%s: %q, %d panels", file, d.Title, panels)
	}
}

// checkPanels checks each panel's grid position, type and data source, and
// returns how many panels are not rows.
func checkPanels(t *testing.T, file string, d dashboard) int {
	panels := 0
	for _, p := range allPanels(d.Panels) {
		if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("%s: panel %q has no grid position", file, p.Title)
		}
		if p.Type == "row" {
			continue
		}
		panels++
		switch p.Type {
		case "timeseries", "stat", "table":
		default:
			t.Errorf("%s: panel %q has type %q; want timeseries, stat or table", file, p.Title, p.Type)
		}
		if !isTemplated(p.Datasource) || len(p.Targets) == 0 {
			t.Errorf("%s: panel %q needs targets and the ${datasource} data source", file, p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" || !isTemplated(tg.Datasource) {
				t.Errorf("%s: panel %q target %s needs an expr and the ${datasource} data source", file, p.Title, tg.RefID)
			}
		}
	}
	return panels
}

func isTemplated(ds *datasourceRef) bool {
	return ds != nil && ds.Type == "prometheus" && ds.UID == "${datasource}"
}
