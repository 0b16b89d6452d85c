// Package monitoring tests the Grafana dashboards (config/grafana) and the
// Prometheus rules (config/prometheus/rules.yaml) with Prometheus's own code:
// every query is parsed by the PromQL parser, every metric name it selects
// must be one Triton or the operator exports (or a recording rule), and the
// rules are evaluated over synthetic series the way promtool's rule unit
// tests do.
//
// It is a module of its own so that Prometheus's dependencies never enter the
// operator's go.mod, and it does not import the operator: the manager's
// metric families come from testdata/operator-metrics.txt, which
// internal/metrics keeps equal to the real registry. `make test-monitoring`
// runs it.
package monitoring
