package render

import (
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// ServiceMonitorEnabled reports whether the server asks for a ServiceMonitor.
func ServiceMonitorEnabled(in Input) bool {
	o := in.Server.Spec.Observability
	return o != nil && o.Metrics != nil && o.Metrics.ServiceMonitor != nil &&
		o.Metrics.ServiceMonitor.Enabled && ptr.Deref(o.Metrics.Enabled, true)
}

// ServiceMonitor renders the Prometheus Operator ServiceMonitor scraping the
// server's metrics port, or nil when not requested. The CRD is optional: the
// object is applied as unstructured, so no client for it is needed.
func ServiceMonitor(in Input) *monitoringv1.ServiceMonitor {
	if !ServiceMonitorEnabled(in) {
		return nil
	}
	srv := in.Server
	cfg := srv.Spec.Observability.Metrics.ServiceMonitor
	labels := Labels(in)
	for k, v := range cfg.Labels {
		if _, reserved := labels[k]; !reserved {
			labels[k] = v
		}
	}
	endpoint := monitoringv1.Endpoint{Port: "metrics", Path: "/metrics"}
	if cfg.Interval != "" {
		endpoint.Interval = monitoringv1.Duration(cfg.Interval)
	}
	or := ownerReference(srv)
	return &monitoringv1.ServiceMonitor{
		TypeMeta: metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: "ServiceMonitor"},
		ObjectMeta: metav1.ObjectMeta{Name: srv.Name, Namespace: srv.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: *or.APIVersion, Kind: *or.Kind, Name: *or.Name, UID: *or.UID,
				Controller: or.Controller, BlockOwnerDeletion: or.BlockOwnerDeletion,
			}}},
		Spec: monitoringv1.ServiceMonitorSpec{
			Selector:  metav1.LabelSelector{MatchLabels: SelectorLabels(srv.Name)},
			Endpoints: []monitoringv1.Endpoint{endpoint},
		},
	}
}

// prune removes nulls and empty maps and lists, recursively.
func prune(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			prune(t)
			if len(t) == 0 {
				delete(m, k)
			}
		case []any:
			for _, e := range t {
				if em, ok := e.(map[string]any); ok {
					prune(em)
				}
			}
			if len(t) == 0 {
				delete(m, k)
			}
		}
	}
}
