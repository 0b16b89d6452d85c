package render

import (
	"encoding/json"
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

// ServiceMonitorEnabled reports whether the server asks for a ServiceMonitor.
func ServiceMonitorEnabled(in Input) bool {
	o := in.Server.Spec.Observability
	return o != nil && o.Metrics != nil && o.Metrics.ServiceMonitor != nil &&
		o.Metrics.ServiceMonitor.Enabled && ptr.Deref(o.Metrics.Enabled, true)
}

// ServiceMonitor renders the Prometheus Operator ServiceMonitor scraping the
// server's metrics port, or nil when not requested. It is returned as an
// unstructured object because the CRD is optional: no Go client for it is
// needed to apply it.
func ServiceMonitor(in Input) *unstructured.Unstructured {
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
	sm := &monitoringv1.ServiceMonitor{
		TypeMeta: metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: "ServiceMonitor"},
		Spec: monitoringv1.ServiceMonitorSpec{
			Selector:  metav1.LabelSelector{MatchLabels: SelectorLabels(srv.Name)},
			Endpoints: []monitoringv1.Endpoint{endpoint},
		},
	}
	obj := toUnstructured(sm)
	obj.SetName(srv.Name)
	obj.SetNamespace(srv.Namespace)
	obj.SetLabels(labels)
	or := ownerReference(srv)
	obj.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion: *or.APIVersion, Kind: *or.Kind, Name: *or.Name, UID: *or.UID,
		Controller: or.Controller, BlockOwnerDeletion: or.BlockOwnerDeletion,
	}})
	return obj
}

// toUnstructured converts v through JSON and drops the empty values that Go
// structs without omitempty produce, so an apply never claims fields it does
// not set.
func toUnstructured(v any) *unstructured.Unstructured {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("render: marshalling %T: %v", v, err))
	}
	m := map[string]any{}
	if err := json.Unmarshal(data, &m); err != nil {
		panic(fmt.Sprintf("render: unmarshalling %T: %v", v, err))
	}
	prune(m)
	return &unstructured.Unstructured{Object: m}
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
