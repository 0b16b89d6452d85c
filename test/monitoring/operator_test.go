package monitoring

import (
	"bufio"
	"os"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// operatorFixture lists the metric families the manager's endpoint serves
// (name and type): the operator's fleet gauges and reconcile counter, and
// controller-runtime's reconcile, work queue, Go and process metrics. A test
// of the operator (internal/metrics TestExposedMetricNames) keeps it equal
// to the real registry, so this module needs no import of the operator and
// Prometheus's dependencies never meet the operator's.
const operatorFixture = "testdata/operator-metrics.txt"

// operatorMetricNames returns the names a query may select on the manager's
// endpoint: each family and, for summaries and histograms, its series.
func operatorMetricNames(t testing.TB) map[string]bool {
	t.Helper()
	f, err := os.Open(operatorFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, typ, ok := strings.Cut(line, " ")
		v, known := dto.MetricType_value[strings.ToUpper(typ)]
		if !ok || !known {
			t.Fatalf("%s: %q is not `name type`", operatorFixture, line)
		}
		addFamily(names, name, dto.MetricType(v))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !names["kalypso_servers"] || !names["controller_runtime_reconcile_errors_total"] {
		t.Fatalf("%s lacks the operator's or controller-runtime's metrics", operatorFixture)
	}
	return names
}
