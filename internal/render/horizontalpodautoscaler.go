package render

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
)

// QueueTimeMetric is the Pods metric the queue-time preset targets. A
// metrics adapter (e.g. prometheus-adapter) derives it per pod as
// rate(nv_inference_queue_duration_us) / rate(nv_inference_request_success).
const QueueTimeMetric = "nv_inference_queue_duration_us_per_request"

// HorizontalPodAutoscaler renders the server's HPA, or nil without autoscaling.
// It scales the Deployment, whose replicas the operator then leaves alone.
func HorizontalPodAutoscaler(in Input) *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration {
	srv := in.Server
	as := withDefaults(srv.Spec).Autoscaling
	if as == nil {
		return nil
	}
	spec := autoscalingv2ac.HorizontalPodAutoscalerSpec().
		WithScaleTargetRef(autoscalingv2ac.CrossVersionObjectReference().
			WithAPIVersion("apps/v1").WithKind("Deployment").WithName(srv.Name)).
		WithMinReplicas(as.MinReplicas).
		WithMaxReplicas(as.MaxReplicas)
	if as.TargetCPUUtilizationPercentage != nil {
		spec.WithMetrics(autoscalingv2ac.MetricSpec().
			WithType(autoscalingv2.ResourceMetricSourceType).
			WithResource(autoscalingv2ac.ResourceMetricSource().
				WithName(corev1.ResourceCPU).
				WithTarget(autoscalingv2ac.MetricTarget().
					WithType(autoscalingv2.UtilizationMetricType).
					WithAverageUtilization(*as.TargetCPUUtilizationPercentage))))
	}
	if as.QueueTimeTargetMicroseconds != nil {
		spec.WithMetrics(autoscalingv2ac.MetricSpec().
			WithType(autoscalingv2.PodsMetricSourceType).
			WithPods(autoscalingv2ac.PodsMetricSource().
				WithMetric(autoscalingv2ac.MetricIdentifier().WithName(QueueTimeMetric)).
				WithTarget(autoscalingv2ac.MetricTarget().
					WithType(autoscalingv2.AverageValueMetricType).
					WithAverageValue(*resource.NewQuantity(*as.QueueTimeTargetMicroseconds, resource.DecimalSI)))))
	}
	return autoscalingv2ac.HorizontalPodAutoscaler(srv.Name, srv.Namespace).
		WithLabels(Labels(in)).
		WithOwnerReferences(ownerReference(srv)).
		WithSpec(spec)
}
