package render

import (
	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
)

// Defaults mirrored from the CRD schema, so that rendering an object read
// from a file (no API server defaulting) gives the same result as rendering
// the stored object.
const (
	DefaultHTTPPort        int32 = 8000
	DefaultGRPCPort        int32 = 8001
	DefaultMetricsPort     int32 = 8002
	DefaultGPUResourceName       = "nvidia.com/gpu"
)

// withDefaults returns a copy of spec with every schema default filled in.
func withDefaults(in servingv1alpha1.KalypsoTritonServerSpec) servingv1alpha1.KalypsoTritonServerSpec {
	spec := *in.DeepCopy()
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.GPUResourceName == "" {
		spec.GPUResourceName = DefaultGPUResourceName
	}
	if spec.Networking.HTTPPort == 0 {
		spec.Networking.HTTPPort = DefaultHTTPPort
	}
	if spec.Networking.GRPCPort == 0 {
		spec.Networking.GRPCPort = DefaultGRPCPort
	}
	if spec.Networking.MetricsPort == 0 {
		spec.Networking.MetricsPort = DefaultMetricsPort
	}
	tc := &spec.TritonConfig
	if tc.BackendType == "" {
		tc.BackendType = servingv1alpha1.BackendPython
	}
	if tc.ImagePullPolicy == "" {
		tc.ImagePullPolicy = "IfNotPresent"
	}
	if tc.ModelControl != nil && tc.ModelControl.Mode == "" {
		tc.ModelControl.Mode = servingv1alpha1.ModelControlNone
	}
	if spec.Autoscaling != nil && spec.Autoscaling.MinReplicas == 0 {
		spec.Autoscaling.MinReplicas = 1
	}
	if o := spec.Observability; o != nil {
		if o.Logging != nil && o.Logging.Level == "" {
			o.Logging.Level = servingv1alpha1.LogLevelInfo
		}
		if o.Tracing != nil && o.Tracing.SamplingRate == "" {
			o.Tracing.SamplingRate = "1"
		}
	}
	return spec
}

// gpuCount is the number of GPUs per pod.
func gpuCount(spec *servingv1alpha1.KalypsoTritonServerSpec) int32 {
	return ptr.Deref(spec.GPUs, 0)
}

// MetricsEnabled reports whether Triton serves metrics (its default: yes).
// Without them no metrics port is declared on the container or Service.
func MetricsEnabled(spec servingv1alpha1.KalypsoTritonServerSpec) bool {
	o := spec.Observability
	return o == nil || o.Metrics == nil || ptr.Deref(o.Metrics.Enabled, true)
}
