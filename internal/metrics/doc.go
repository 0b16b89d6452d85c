// Package metrics is the operator's fleet view on the manager's metrics
// endpoint: gauges computed at scrape time from the manager's informer
// cache (servers by phase, server readiness, models by state, environment
// quotas, autoscaling targets) and one counter of reconcile outcomes
// incremented by the finish step every reconciler ends with.
//
// Every label value comes from a bounded set: project and environment
// names, server names, a handful of enumerated phases, states, resources
// and outcomes, and the condition reasons of the API package. No series is
// ever made per pod or per model.
package metrics
