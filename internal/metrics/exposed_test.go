package metrics_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/kalypsoserving/kalypso-serving/internal/metrics"
)

// exposedFile lists every metric family the manager's endpoint serves. The
// dashboards and rules are checked against it in the test/monitoring module
// (which does not import the operator, so Prometheus's dependencies never
// meet the operator's); this test keeps it equal to the real registry, so a
// renamed metric fails here, and then there.
const exposedFile = "../../test/monitoring/testdata/operator-metrics.txt"

var update = flag.Bool("update", false, "rewrite "+exposedFile+" from the registry")

// descName reads a descriptor's metric name; prometheus.Desc has no
// accessor, but its String form is stable.
var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// TestExposedMetricNames compares the registry's families (name and type)
// with the committed list: the fleet gauges (from their descriptors, as they
// are computed from the cluster at scrape time), the reconcile counter and
// what controller-runtime registers (reconcile, work queue, client, Go and
// process metrics). Vector metrics only appear once they have a series, so
// one outcome is counted and a real controller is fed one failing request.
func TestExposedMetricNames(t *testing.T) {
	typeOf := map[string]string{}
	descs := make(chan *prometheus.Desc, 64)
	metrics.Fleet{}.Describe(descs)
	close(descs)
	for d := range descs {
		m := descName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read the name of %s", d)
		}
		typeOf[m[1]] = "gauge"
	}
	metrics.ObserveReconcile(metrics.KindServer, metrics.OutcomeError, "")
	exerciseController(t)
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if runtimeSpecific(mf.GetName()) {
			continue
		}
		typeOf[mf.GetName()] = strings.ToLower(dto.MetricType_name[int32(mf.GetType())])
	}
	lines := make([]string, 0, len(typeOf))
	for n, typ := range typeOf {
		lines = append(lines, n+" "+typ)
	}
	sort.Strings(lines)
	got := "# Metric families on the manager's metrics endpoint (name type), written by\n" +
		"# go test ./internal/metrics -run TestExposedMetricNames -update; do not edit.\n" +
		strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(exposedFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(exposedFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Fatalf("%s differs from the registry (run `make golden` and check the dashboards and rules):\n%s",
			exposedFile, lineDiff(string(want), got))
	}
	for _, n := range []string{"kalypso_servers", "kalypso_reconcile_outcomes_total", "controller_runtime_reconcile_errors_total"} {
		if typeOf[n] == "" {
			t.Errorf("%s is not exposed", n)
		}
	}
}

// runtimeSpecific says a Go runtime family comes from runtime/metrics, whose
// set changes with the Go release the manager is built with; the classic
// ones (memstats, goroutines, threads, GC pauses, build info) are listed.
func runtimeSpecific(name string) bool {
	switch {
	case !strings.HasPrefix(name, "go_"), strings.HasPrefix(name, "go_memstats_"):
		return false
	}
	switch name {
	case "go_goroutines", "go_threads", "go_info", "go_gc_duration_seconds":
		return false
	}
	return true
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for l := range w {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range g {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// exerciseController runs a controller-runtime controller until it has
// reconciled one request, so its vector metrics have series.
func exerciseController(t *testing.T) {
	done := make(chan struct{}, 1)
	c, err := controller.NewUnmanaged("metrics-probe", controller.Options{
		SkipNameValidation: ptr.To(true),
		Reconciler: reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
			select {
			case done <- struct{}{}:
			default:
			}
			return reconcile.Result{}, errors.New("probe")
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Watch(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "probe"}})
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = c.Start(ctx)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the probe controller never reconciled")
	}
	// The metrics of a reconcile are recorded after it returns.
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-stopped
}
