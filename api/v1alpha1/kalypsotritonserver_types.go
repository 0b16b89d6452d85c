package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BackendType is the Triton backend the server's models use. It selects the
// image variant when the image tag is not pinned.
// +kubebuilder:validation:Enum=python;tensorflow;pytorch;onnxruntime;tensorrt;openvino;vllm;tensorrtllm
type BackendType string

const (
	BackendPython      BackendType = "python"
	BackendTensorFlow  BackendType = "tensorflow"
	BackendPyTorch     BackendType = "pytorch"
	BackendONNXRuntime BackendType = "onnxruntime"
	BackendTensorRT    BackendType = "tensorrt"
	BackendOpenVINO    BackendType = "openvino"
	BackendVLLM        BackendType = "vllm"
	BackendTensorRTLLM BackendType = "tensorrtllm"
)

// ModelControlMode is Triton's --model-control-mode.
// +kubebuilder:validation:Enum=none;poll;explicit
type ModelControlMode string

const (
	ModelControlNone     ModelControlMode = "none"
	ModelControlPoll     ModelControlMode = "poll"
	ModelControlExplicit ModelControlMode = "explicit"
)

// KalypsoTritonServerSpec defines one Triton Inference Server deployment.
// +kubebuilder:validation:XValidation:rule="!has(self.gpus) || self.gpus == 0 || !has(self.resources) || ((!has(self.resources.limits) || !(self.gpuResourceName in self.resources.limits)) && (!has(self.resources.requests) || !(self.gpuResourceName in self.resources.requests)))",message="set GPUs with spec.gpus, not also in spec.resources"
// +kubebuilder:validation:XValidation:rule="!has(self.observability) || !has(self.observability.metrics) || !has(self.observability.metrics.enabled) || self.observability.metrics.enabled || ((!has(self.observability.metrics.serviceMonitor) || !self.observability.metrics.serviceMonitor.enabled) && !has(self.observability.metrics.interval) && (!has(self.autoscaling) || !has(self.autoscaling.queueTimeTargetMicroseconds)))",message="observability.metrics.enabled is false, so metrics.serviceMonitor, metrics.interval and autoscaling.queueTimeTargetMicroseconds (which reads Triton's metrics) cannot be used"
// +kubebuilder:validation:XValidation:rule="!has(self.autoscaling) || !has(self.autoscaling.targetCPUUtilizationPercentage) || (has(self.resources) && ((has(self.resources.requests) && 'cpu' in self.resources.requests) || (has(self.resources.limits) && 'cpu' in self.resources.limits)))",message="autoscaling.targetCPUUtilizationPercentage is a percentage of the CPU request: set resources.requests.cpu"
// +kubebuilder:validation:XValidation:rule="!has(self.tritonConfig.parameters) || self.tritonConfig.parameters.all(p, !(p.name in ['sagemaker-port','vertex-ai-port']) || !p.value.matches('^[0-9]{1,5}$') || !(int(p.value) in [self.networking.httpPort, self.networking.grpcPort, self.networking.metricsPort]))",message="tritonConfig.parameters: sagemaker-port and vertex-ai-port must differ from networking.httpPort, grpcPort and metricsPort (Triton refuses two endpoints on one port)"
// +kubebuilder:validation:XValidation:rule="!has(self.tritonConfig.parameters) || ['sagemaker', 'vertex-ai'].all(e, !self.tritonConfig.parameters.exists(p, p.name == 'allow-' + e && p.value.matches('^(?i)(true|on|1)$')) || self.tritonConfig.parameters.exists(p, p.name == e + '-port') || !(8080 in [self.networking.httpPort, self.networking.grpcPort, self.networking.metricsPort]))",message="tritonConfig.parameters: SageMaker and Vertex AI listen on 8080 by default, which a networking port already uses; set sagemaker-port or vertex-ai-port"
// +kubebuilder:validation:XValidation:rule="!has(self.tritonConfig.parameters) || !(self.tritonConfig.parameters.exists(p, p.name == 'allow-sagemaker' && p.value.matches('^(?i)(true|on|1)$')) && self.tritonConfig.parameters.exists(p, p.name == 'allow-vertex-ai' && p.value.matches('^(?i)(true|on|1)$')))",message="tritonConfig.parameters: enable SageMaker or Vertex AI, not both (they share a port and a request format)"
// +kubebuilder:validation:XValidation:rule="!has(self.tritonConfig.parameters) || self.tritonConfig.parameters.all(p, p.name != 'sagemaker-safe-port-range' || !p.value.matches('^[0-9]{1,5}-[0-9]{1,5}$') || [self.networking.httpPort, self.networking.grpcPort, self.networking.metricsPort].all(x, x >= int(p.value.split('-')[0]) && x <= int(p.value.split('-')[1])))",message="tritonConfig.parameters: sagemaker-safe-port-range must include networking.httpPort, grpcPort and metricsPort, or Triton refuses to start"
// +kubebuilder:validation:XValidation:rule="has(self.tritonConfig.tritonVersion) || ((!has(self.tritonConfig.image) || !self.tritonConfig.image.contains('@')) && (has(self.tritonConfig.tag) ? self.tritonConfig.tag.matches('^[0-9]{2}[.][0-9]{2}(-[A-Za-z0-9_.-]+)?$') : (!has(self.tritonConfig.image) || !self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1).contains(':') || self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1).split(':')[1].matches('^[0-9]{2}[.][0-9]{2}(-[A-Za-z0-9_.-]+)?$'))))",message="tritonConfig: an image given by digest, or whose tag is not a Triton release (YY.MM or YY.MM-<variant>), needs tritonConfig.tritonVersion: the Triton version the image runs, such as 2.53.0"
// +kubebuilder:validation:XValidation:rule="(has(self.tritonConfig.tritonVersion) ? {'2.30.0': '23.01', '2.31.0': '23.02', '2.32.0': '23.03', '2.33.0': '23.04', '2.34.0': '23.05', '2.35.0': '23.06', '2.36.0': '23.07', '2.37.0': '23.08', '2.38.0': '23.09', '2.39.0': '23.10', '2.40.0': '23.11', '2.41.0': '23.12', '2.42.0': '24.01', '2.43.0': '24.02', '2.44.0': '24.03', '2.45.0': '24.04', '2.46.0': '24.05', '2.47.0': '24.06', '2.48.0': '24.07', '2.49.0': '24.08', '2.50.0': '24.09', '2.51.0': '24.10', '2.52.0': '24.11', '2.53.0': '24.12', '2.54.0': '25.01', '2.55.0': '25.02', '2.56.0': '25.03', '2.57.0': '25.04', '2.58.0': '25.05', '2.59.0': '25.06', '2.59.1': '25.07', '2.60.0': '25.08', '2.61.0': '25.09', '2.62.0': '25.10', '2.63.0': '25.11', '2.64.0': '25.12', '2.65.0': '26.01', '2.66.0': '26.02', '2.67.0': '26.03', '2.68.0': '26.04', '2.69.0': '26.05', '2.70.0': '26.06', '2.71.0': '26.07'}[self.tritonConfig.tritonVersion] : (((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).matches('^[0-9]{2}[.][0-9]{2}') ? ((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).substring(0, 5) : '26.07')) in ['23.01', '23.02', '23.03', '23.04', '23.05', '23.06', '23.07', '23.08', '23.09', '23.10', '23.11', '23.12', '24.01', '24.02', '24.03', '24.04', '24.05', '24.06', '24.07', '24.08', '24.09', '24.10', '24.11', '24.12', '25.01', '25.02', '25.03', '25.04', '25.05', '25.06', '25.07', '25.08', '25.09', '25.10', '25.11', '25.12', '26.01', '26.02', '26.03', '26.04', '26.05', '26.06', '26.07']",message="tritonConfig: the image's Triton release is not one this operator knows (NGC 23.01 to 26.07); pick a known release or upgrade the operator"
// +kubebuilder:validation:XValidation:rule="!has(self.tritonConfig.parameters) || self.tritonConfig.parameters.all(p, !(p.name in {'allow-client-shm': '26.04', 'cache-config': '23.03', 'cache-directory': '23.03', 'cuda-virtual-address-size': '23.11', 'enable-peer-access': '24.06', 'grpc-header-forward-pattern': '23.04', 'grpc-infer-thread-count': '25.04', 'grpc-max-connection-age': '24.01', 'grpc-max-connection-age-grace': '24.01', 'grpc-max-response-pool-size': '25.03', 'grpc-restricted-protocol': '23.04', 'http-header-forward-pattern': '23.04', 'http-max-input-size': '25.06', 'http-restricted-api': '23.11', 'metrics-address': '23.05', 'metrics-config': '23.04', 'model-config-name': '24.05', 'model-load-retry-count': '24.01', 'model-namespacing': '23.03', 'trace-config': '23.04'}) || (has(self.tritonConfig.tritonVersion) ? {'2.30.0': '23.01', '2.31.0': '23.02', '2.32.0': '23.03', '2.33.0': '23.04', '2.34.0': '23.05', '2.35.0': '23.06', '2.36.0': '23.07', '2.37.0': '23.08', '2.38.0': '23.09', '2.39.0': '23.10', '2.40.0': '23.11', '2.41.0': '23.12', '2.42.0': '24.01', '2.43.0': '24.02', '2.44.0': '24.03', '2.45.0': '24.04', '2.46.0': '24.05', '2.47.0': '24.06', '2.48.0': '24.07', '2.49.0': '24.08', '2.50.0': '24.09', '2.51.0': '24.10', '2.52.0': '24.11', '2.53.0': '24.12', '2.54.0': '25.01', '2.55.0': '25.02', '2.56.0': '25.03', '2.57.0': '25.04', '2.58.0': '25.05', '2.59.0': '25.06', '2.59.1': '25.07', '2.60.0': '25.08', '2.61.0': '25.09', '2.62.0': '25.10', '2.63.0': '25.11', '2.64.0': '25.12', '2.65.0': '26.01', '2.66.0': '26.02', '2.67.0': '26.03', '2.68.0': '26.04', '2.69.0': '26.05', '2.70.0': '26.06', '2.71.0': '26.07'}[self.tritonConfig.tritonVersion] : (((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).matches('^[0-9]{2}[.][0-9]{2}') ? ((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).substring(0, 5) : '26.07')) >= {'allow-client-shm': '26.04', 'cache-config': '23.03', 'cache-directory': '23.03', 'cuda-virtual-address-size': '23.11', 'enable-peer-access': '24.06', 'grpc-header-forward-pattern': '23.04', 'grpc-infer-thread-count': '25.04', 'grpc-max-connection-age': '24.01', 'grpc-max-connection-age-grace': '24.01', 'grpc-max-response-pool-size': '25.03', 'grpc-restricted-protocol': '23.04', 'http-header-forward-pattern': '23.04', 'http-max-input-size': '25.06', 'http-restricted-api': '23.11', 'metrics-address': '23.05', 'metrics-config': '23.04', 'model-config-name': '24.05', 'model-load-retry-count': '24.01', 'model-namespacing': '23.03', 'trace-config': '23.04'}[p.name])",message="tritonConfig.parameters: an option is newer than the image's Triton release; pin a newer tag or drop it. First releases: cache-config 23.03, cache-directory 23.03, model-namespacing 23.03, grpc-header-forward-pattern 23.04, grpc-restricted-protocol 23.04, http-header-forward-pattern 23.04, metrics-config 23.04, cuda-virtual-address-size 23.11, http-restricted-api 23.11, grpc-max-connection-age 24.01, grpc-max-connection-age-grace 24.01, model-load-retry-count 24.01, model-config-name 24.05, enable-peer-access 24.06, grpc-max-response-pool-size 25.03, grpc-infer-thread-count 25.04, http-max-input-size 25.06, allow-client-shm 26.04"
// +kubebuilder:validation:XValidation:rule="!has(self.tritonConfig.parameters) || (has(self.tritonConfig.tritonVersion) ? {'2.30.0': '23.01', '2.31.0': '23.02', '2.32.0': '23.03', '2.33.0': '23.04', '2.34.0': '23.05', '2.35.0': '23.06', '2.36.0': '23.07', '2.37.0': '23.08', '2.38.0': '23.09', '2.39.0': '23.10', '2.40.0': '23.11', '2.41.0': '23.12', '2.42.0': '24.01', '2.43.0': '24.02', '2.44.0': '24.03', '2.45.0': '24.04', '2.46.0': '24.05', '2.47.0': '24.06', '2.48.0': '24.07', '2.49.0': '24.08', '2.50.0': '24.09', '2.51.0': '24.10', '2.52.0': '24.11', '2.53.0': '24.12', '2.54.0': '25.01', '2.55.0': '25.02', '2.56.0': '25.03', '2.57.0': '25.04', '2.58.0': '25.05', '2.59.0': '25.06', '2.59.1': '25.07', '2.60.0': '25.08', '2.61.0': '25.09', '2.62.0': '25.10', '2.63.0': '25.11', '2.64.0': '25.12', '2.65.0': '26.01', '2.66.0': '26.02', '2.67.0': '26.03', '2.68.0': '26.04', '2.69.0': '26.05', '2.70.0': '26.06', '2.71.0': '26.07'}[self.tritonConfig.tritonVersion] : (((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).matches('^[0-9]{2}[.][0-9]{2}') ? ((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).substring(0, 5) : '26.07')) >= '23.11' || self.tritonConfig.parameters.all(p, !(p.name in ['reuse-http-port', 'reuse-grpc-port']) || p.value in ['0', '1'])",message="tritonConfig.parameters: before Triton release 23.11, reuse-http-port and reuse-grpc-port take 0 or 1"
// +kubebuilder:validation:XValidation:rule="!has(self.observability) || !has(self.observability.tracing) || (has(self.tritonConfig.tritonVersion) ? {'2.30.0': '23.01', '2.31.0': '23.02', '2.32.0': '23.03', '2.33.0': '23.04', '2.34.0': '23.05', '2.35.0': '23.06', '2.36.0': '23.07', '2.37.0': '23.08', '2.38.0': '23.09', '2.39.0': '23.10', '2.40.0': '23.11', '2.41.0': '23.12', '2.42.0': '24.01', '2.43.0': '24.02', '2.44.0': '24.03', '2.45.0': '24.04', '2.46.0': '24.05', '2.47.0': '24.06', '2.48.0': '24.07', '2.49.0': '24.08', '2.50.0': '24.09', '2.51.0': '24.10', '2.52.0': '24.11', '2.53.0': '24.12', '2.54.0': '25.01', '2.55.0': '25.02', '2.56.0': '25.03', '2.57.0': '25.04', '2.58.0': '25.05', '2.59.0': '25.06', '2.59.1': '25.07', '2.60.0': '25.08', '2.61.0': '25.09', '2.62.0': '25.10', '2.63.0': '25.11', '2.64.0': '25.12', '2.65.0': '26.01', '2.66.0': '26.02', '2.67.0': '26.03', '2.68.0': '26.04', '2.69.0': '26.05', '2.70.0': '26.06', '2.71.0': '26.07'}[self.tritonConfig.tritonVersion] : (((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).matches('^[0-9]{2}[.][0-9]{2}') ? ((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).substring(0, 5) : '26.07')) >= '23.08'",message="observability.tracing needs Triton release 23.08 or newer (the OpenTelemetry resource setting the operator renders)"
// +kubebuilder:validation:XValidation:rule="!has(self.tritonConfig.backendType) || self.tritonConfig.backendType != 'tensorflow' || (has(self.tritonConfig.tritonVersion) ? {'2.30.0': '23.01', '2.31.0': '23.02', '2.32.0': '23.03', '2.33.0': '23.04', '2.34.0': '23.05', '2.35.0': '23.06', '2.36.0': '23.07', '2.37.0': '23.08', '2.38.0': '23.09', '2.39.0': '23.10', '2.40.0': '23.11', '2.41.0': '23.12', '2.42.0': '24.01', '2.43.0': '24.02', '2.44.0': '24.03', '2.45.0': '24.04', '2.46.0': '24.05', '2.47.0': '24.06', '2.48.0': '24.07', '2.49.0': '24.08', '2.50.0': '24.09', '2.51.0': '24.10', '2.52.0': '24.11', '2.53.0': '24.12', '2.54.0': '25.01', '2.55.0': '25.02', '2.56.0': '25.03', '2.57.0': '25.04', '2.58.0': '25.05', '2.59.0': '25.06', '2.59.1': '25.07', '2.60.0': '25.08', '2.61.0': '25.09', '2.62.0': '25.10', '2.63.0': '25.11', '2.64.0': '25.12', '2.65.0': '26.01', '2.66.0': '26.02', '2.67.0': '26.03', '2.68.0': '26.04', '2.69.0': '26.05', '2.70.0': '26.06', '2.71.0': '26.07'}[self.tritonConfig.tritonVersion] : (((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).matches('^[0-9]{2}[.][0-9]{2}') ? ((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).substring(0, 5) : '26.07')) <= '25.02'",message="tritonConfig.backendType tensorflow: Triton ships the TensorFlow backend up to release 25.02; pin tag 25.02-py3 or older"
// +kubebuilder:validation:XValidation:rule="!has(self.tritonConfig.backendType) || !(self.tritonConfig.backendType in ['vllm', 'tensorrtllm']) || (has(self.tritonConfig.tritonVersion) ? {'2.30.0': '23.01', '2.31.0': '23.02', '2.32.0': '23.03', '2.33.0': '23.04', '2.34.0': '23.05', '2.35.0': '23.06', '2.36.0': '23.07', '2.37.0': '23.08', '2.38.0': '23.09', '2.39.0': '23.10', '2.40.0': '23.11', '2.41.0': '23.12', '2.42.0': '24.01', '2.43.0': '24.02', '2.44.0': '24.03', '2.45.0': '24.04', '2.46.0': '24.05', '2.47.0': '24.06', '2.48.0': '24.07', '2.49.0': '24.08', '2.50.0': '24.09', '2.51.0': '24.10', '2.52.0': '24.11', '2.53.0': '24.12', '2.54.0': '25.01', '2.55.0': '25.02', '2.56.0': '25.03', '2.57.0': '25.04', '2.58.0': '25.05', '2.59.0': '25.06', '2.59.1': '25.07', '2.60.0': '25.08', '2.61.0': '25.09', '2.62.0': '25.10', '2.63.0': '25.11', '2.64.0': '25.12', '2.65.0': '26.01', '2.66.0': '26.02', '2.67.0': '26.03', '2.68.0': '26.04', '2.69.0': '26.05', '2.70.0': '26.06', '2.71.0': '26.07'}[self.tritonConfig.tritonVersion] : (((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).matches('^[0-9]{2}[.][0-9]{2}') ? ((has(self.tritonConfig.tag) ? self.tritonConfig.tag : ((has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains(':') && !(has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').contains('@') ? (has(self.tritonConfig.image) ? self.tritonConfig.image.substring(self.tritonConfig.image.lastIndexOf('/') + 1) : 'none').split(':')[1] : 'none'))).substring(0, 5) : '26.07')) >= '23.10'",message="tritonConfig.backendType vllm and tensorrtllm have images from Triton release 23.10 on"
type KalypsoTritonServerSpec struct {
	// ApplicationRef names the KalypsoApplication (same namespace) whose
	// storage settings the server uses. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="applicationRef is immutable"
	ApplicationRef LocalObjectReference `json:"applicationRef"`

	// StorageURI is the model repository: s3://bucket/path,
	// gs://bucket/path, as://account/container/path or pvc://claim/path.
	// +required
	// +kubebuilder:validation:MinLength=6
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.matches('^(s3|gs|as|pvc)://')",message="storageUri must start with s3://, gs://, as:// or pvc://"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('s3://') || self.matches('^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?$')",message="storageUri s3:// needs a valid bucket name and a path of letters, digits and . _ - / (Triton's S3 address pattern ignores an endpoint otherwise): s3://<bucket>/<path>"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('gs://') || self.matches('^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[!-~]*)?$')",message="storageUri gs:// needs a valid bucket name: gs://<bucket>/<path>"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('as://') || self.matches('^as://[a-z0-9]{3,24}/[a-z0-9][a-z0-9-]{1,61}[a-z0-9](/[!-~]*)?$')",message="storageUri as:// needs an account and a container: as://<account>/<container>/<path>"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('pvc://') || self.matches('^pvc://[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?(/[!-~]*)?$')",message="storageUri pvc:// needs a claim name: pvc://<claim>/<path>"
	// +kubebuilder:validation:XValidation:rule="!self.contains('/../') && !self.endsWith('/..')",message="storageUri must not contain .. path segments"
	StorageURI string `json:"storageUri"`

	// TritonConfig selects the image, backend and Triton options.
	// +optional
	// +kubebuilder:default={}
	TritonConfig TritonConfig `json:"tritonConfig,omitempty"`

	// Replicas is the desired number of pods. Ignored while autoscaling is
	// set (the HorizontalPodAutoscaler owns the Deployment's replicas).
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Replicas *int32 `json:"replicas,omitempty"`

	// Autoscaling creates a HorizontalPodAutoscaler for the server.
	// +optional
	Autoscaling *Autoscaling `json:"autoscaling,omitempty"`

	// Resources of the tritonserver container (CPU, memory). Use gpus for GPUs.
	// +optional
	Resources ContainerResources `json:"resources,omitempty"`

	// GPUs per pod; rendered as equal requests and limits of gpuResourceName.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16
	GPUs *int32 `json:"gpus,omitempty"`

	// GPUResourceName is the extended resource for GPUs: nvidia.com/gpu or a
	// MIG profile such as nvidia.com/mig-1g.5gb.
	// +optional
	// +kubebuilder:default="nvidia.com/gpu"
	// +kubebuilder:validation:XValidation:rule="self == 'nvidia.com/gpu' || self.matches('^nvidia[.]com/mig-[0-9]+g[.][0-9]+gb$')",message="gpuResourceName must be nvidia.com/gpu or a MIG profile like nvidia.com/mig-1g.5gb"
	GPUResourceName string `json:"gpuResourceName,omitempty"`

	// Scheduling places the pods.
	// +optional
	Scheduling *Scheduling `json:"scheduling,omitempty"`

	// ServiceAccountName runs the pods as this ServiceAccount, e.g. one bound
	// to a cloud identity (IRSA, GKE Workload Identity) instead of a secret.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// Networking sets Triton's ports.
	// +optional
	// +kubebuilder:default={httpPort:8000,grpcPort:8001,metricsPort:8002}
	Networking Networking `json:"networking,omitempty"`

	// Observability configures logs, traces, profiling and metrics.
	// +optional
	Observability *Observability `json:"observability,omitempty"`

	// Probes tunes the health checks.
	// +optional
	Probes *Probes `json:"probes,omitempty"`

	// ModelStatus tunes the reading of which models the pods serve.
	// +optional
	ModelStatus *ModelStatusReading `json:"modelStatus,omitempty"`

	// ModelCacheSize bounds the local copy Triton makes of a cloud model
	// repository (s3://, gs://, as://): a volume of this size holds it, and
	// the container requests and is limited to this much ephemeral storage
	// plus 1Gi for /tmp, so the scheduler places the pod where the copy fits
	// and the environment's quota counts it. Default 20Gi; unused for pvc://.
	// +optional
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).compareTo(quantity('64Mi')) >= 0",message="modelCacheSize must be at least 64Mi"
	ModelCacheSize *resource.Quantity `json:"modelCacheSize,omitempty"`

	// Env adds environment variables to the tritonserver container: values,
	// or valueFrom a Secret or ConfigMap of the server's namespace or a pod field (for
	// example HF_TOKEN for vLLM, LD_PRELOAD of tcmalloc, proxies, CA bundle
	// paths). The storage variables the operator sets are refused.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(e, !(e.name in ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_REGION', 'GOOGLE_APPLICATION_CREDENTIALS', 'AZURE_STORAGE_ACCOUNT', 'AZURE_STORAGE_KEY', 'AZURE_STORAGE_AUTH_TYPE', 'TRITON_AWS_MOUNT_DIRECTORY', 'TRITON_GCS_MOUNT_DIRECTORY', 'TRITON_AZURE_MOUNT_DIRECTORY']))",message="env must not set the variables the operator sets from the KalypsoApplication and the model cache (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY, AZURE_STORAGE_AUTH_TYPE, TRITON_AWS_MOUNT_DIRECTORY, TRITON_GCS_MOUNT_DIRECTORY, TRITON_AZURE_MOUNT_DIRECTORY)"
	Env []EnvVar `json:"env,omitempty"`

	// PodDisruptionBudget applies when more than one replica runs.
	// +optional
	PodDisruptionBudget *PodDisruptionBudget `json:"podDisruptionBudget,omitempty"`

	// Rollout tunes how a changed pod template replaces the pods. By default
	// a surge pod starts first, unless the environment's quota has no room
	// for it: then pods are replaced one at a time (two or more replicas).
	// +optional
	Rollout *Rollout `json:"rollout,omitempty"`
}

// Networking sets Triton's ports; each is passed to tritonserver and used by
// the container ports, the Service and the probes.
// +kubebuilder:validation:XValidation:rule="self.httpPort != self.grpcPort && self.httpPort != self.metricsPort && self.grpcPort != self.metricsPort",message="networking ports httpPort, grpcPort and metricsPort must be distinct"
type Networking struct {
	// HTTPPort (default 8000).
	// +optional
	// +kubebuilder:default=8000
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	HTTPPort int32 `json:"httpPort,omitempty"`
	// GRPCPort (default 8001).
	// +optional
	// +kubebuilder:default=8001
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	GRPCPort int32 `json:"grpcPort,omitempty"`
	// MetricsPort (default 8002).
	// +optional
	// +kubebuilder:default=8002
	// +kubebuilder:validation:Minimum=1024
	// +kubebuilder:validation:Maximum=65535
	MetricsPort int32 `json:"metricsPort,omitempty"`
}

// Endpoints are the server's in-cluster addresses.
type Endpoints struct {
	// HTTP endpoint (KServe v2 REST).
	// +optional
	HTTP string `json:"http,omitempty"`
	// GRPC endpoint.
	// +optional
	GRPC string `json:"grpc,omitempty"`
	// Metrics endpoint.
	// +optional
	Metrics string `json:"metrics,omitempty"`
}

// KalypsoTritonServerStatus is the observed state of a KalypsoTritonServer.
type KalypsoTritonServerStatus struct {
	// ObservedGeneration is the generation last reconciled successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the conditions for printer columns.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, ServiceMonitorReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Replicas is the number of pods of the Deployment.
	// +optional
	Replicas int32 `json:"replicas"`

	// ReadyReplicas is the number of ready pods.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`

	// AvailableReplicas is the number of available pods.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas"`

	// Selector of the pods, for the scale subresource.
	// +optional
	Selector string `json:"selector,omitempty"`

	// Endpoints of the server.
	// +optional
	Endpoints *Endpoints `json:"endpoints,omitempty"`

	// Image the pods run.
	// +optional
	Image string `json:"image,omitempty"`

	// Models the ready replicas report, read from Triton's repository index:
	// models not ready on every replica first, then by name; at most 128.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=128
	Models []ModelStatus `json:"models,omitempty"`

	// OmittedModels is the number of models left out of Models by its bound.
	// +optional
	// +kubebuilder:validation:Minimum=0
	OmittedModels int32 `json:"omittedModels,omitempty"`

	// ModelsReady summarises Models for the printer column: "ready/total".
	// +optional
	// +kubebuilder:validation:MaxLength=16
	ModelsReady string `json:"modelsReady,omitempty"`
}

// KalypsoTritonServer is one NVIDIA Triton Inference Server deployment.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=kts,categories=kalypso
// +kubebuilder:printcolumn:name="Application",type=string,JSONPath=`.spec.applicationRef.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.status.replicas`
// +kubebuilder:printcolumn:name="Available",type=integer,JSONPath=`.status.availableReplicas`
// +kubebuilder:printcolumn:name="Models",type=string,JSONPath=`.status.modelsReady`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 52",message="server name must be at most 52 characters so its children's names fit"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="server name must be a DNS label (lowercase letters, digits and -, starting with a letter, no dots): it names the server's Service"
type KalypsoTritonServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec KalypsoTritonServerSpec `json:"spec"`
	// +optional
	Status KalypsoTritonServerStatus `json:"status,omitempty"`
}

// KalypsoTritonServerList contains a list of KalypsoTritonServer.
// +kubebuilder:object:root=true
type KalypsoTritonServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KalypsoTritonServer `json:"items"`
}
