package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
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
// +kubebuilder:validation:XValidation:rule="!has(self.autoscaling) || !has(self.replicas) || (self.replicas >= self.autoscaling.minReplicas && self.replicas <= self.autoscaling.maxReplicas)",message="spec.replicas must lie within autoscaling.minReplicas..maxReplicas"
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
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('s3://') || self.matches('^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[!-~]*)?$')",message="storageUri s3:// needs a valid bucket name: s3://<bucket>/<path>"
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
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// GPUs per pod; rendered as equal requests and limits of gpuResourceName.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16
	GPUs *int32 `json:"gpus,omitempty"`

	// GPUResourceName is the extended resource for GPUs: nvidia.com/gpu or a
	// MIG profile such as nvidia.com/mig-1g.5gb.
	// +optional
	// +kubebuilder:default="nvidia.com/gpu"
	// +kubebuilder:validation:XValidation:rule="self == 'nvidia.com/gpu' || self.matches('^nvidia.com/mig-[0-9]+g[.][0-9]+gb$')",message="gpuResourceName must be nvidia.com/gpu or a MIG profile like nvidia.com/mig-1g.5gb"
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

	// ModelCacheSize bounds the local copy Triton makes of a cloud model
	// repository (s3://, gs://, as://): a volume of this size holds it, and
	// the container requests and is limited to this much ephemeral storage
	// plus 1Gi for /tmp, so the scheduler places the pod where the copy fits
	// and the environment's quota counts it. Default 20Gi; unused for pvc://.
	// +optional
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).compareTo(quantity('64Mi')) >= 0",message="modelCacheSize must be at least 64Mi"
	ModelCacheSize *resource.Quantity `json:"modelCacheSize,omitempty"`

	// Env adds environment variables to the tritonserver container: values,
	// or valueFrom a Secret or ConfigMap of the server's namespace (for
	// example HF_TOKEN for vLLM, LD_PRELOAD of tcmalloc, proxies, CA bundle
	// paths). The storage variables the operator sets are refused.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(e, !(e.name in ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_REGION', 'GOOGLE_APPLICATION_CREDENTIALS', 'AZURE_STORAGE_ACCOUNT', 'AZURE_STORAGE_KEY']))",message="env must not set the storage variables the operator sets from the KalypsoApplication (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY)"
	Env []corev1.EnvVar `json:"env,omitempty"`

	// PodDisruptionBudget applies when more than one replica runs.
	// +optional
	PodDisruptionBudget *PodDisruptionBudget `json:"podDisruptionBudget,omitempty"`
}

// TritonConfig selects the Triton image and its options.
// +kubebuilder:validation:XValidation:rule="!has(self.image) || !self.image.contains('@') || !has(self.tag)",message="tritonConfig.tag cannot be combined with an image digest"
type TritonConfig struct {
	// Image repository, or a full image reference with tag or digest.
	// Defaults to the NGC Triton image.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$`
	Image string `json:"image,omitempty"`

	// Tag of the image. Defaults to the pinned release with the variant
	// that contains backendType. Never "latest".
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`
	// +kubebuilder:validation:XValidation:rule="self != 'latest'",message="tritonConfig.tag must pin a release, not latest"
	Tag string `json:"tag,omitempty"`

	// ImagePullPolicy of the container.
	// +optional
	// +kubebuilder:default=IfNotPresent
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// ImagePullSecrets in the server's namespace.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	ImagePullSecrets []LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// BackendType is the backend the models use.
	// +optional
	// +kubebuilder:default=python
	BackendType BackendType `json:"backendType,omitempty"`

	// PythonBackend tunes the python backend (and vllm, which runs on it).
	// +optional
	PythonBackend *PythonBackend `json:"pythonBackend,omitempty"`

	// BackendConfigs are extra --backend-config settings as
	// <backend>,<setting>=<value>.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:Pattern=`^[a-z][a-z0-9_]*,[A-Za-z0-9_.-]+=[^\s]+$`
	BackendConfigs []string `json:"backendConfigs,omitempty"`

	// ModelControl chooses how models are loaded.
	// +optional
	ModelControl *ModelControl `json:"modelControl,omitempty"`

	// ExitOnError: exit when a model fails to load (Triton's default: true).
	// +optional
	ExitOnError *bool `json:"exitOnError,omitempty"`

	// StrictReadiness: ready only when every model is ready (Triton's default: true).
	// +optional
	StrictReadiness *bool `json:"strictReadiness,omitempty"`

	// Parameters are extra tritonserver options as name/value pairs, checked
	// against Triton's option grammar. Options the operator renders from the
	// spec (repository, ports, model control, logging, tracing, metrics) are refused.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Parameters []TritonParameter `json:"parameters,omitempty"`
}

// TritonParameter is one extra tritonserver option.
// +kubebuilder:validation:XValidation:rule="self.name in ['allow-cpu-metrics','allow-sagemaker','allow-vertex-ai','backend-directory','buffer-manager-thread-count','cache-config','cache-directory','cuda-memory-pool-byte-size','cuda-virtual-address-size','disable-auto-complete-config','enable-peer-access','exit-timeout-secs','grpc-header-forward-pattern','grpc-http2-max-ping-strikes','grpc-http2-max-pings-without-data','grpc-http2-min-recv-ping-interval-without-data','grpc-infer-allocation-pool-size','grpc-infer-response-compression-level','grpc-infer-thread-count','grpc-keepalive-permit-without-calls','grpc-keepalive-time','grpc-keepalive-timeout','grpc-max-connection-age','grpc-max-connection-age-grace','grpc-max-response-pool-size','grpc-restricted-protocol','grpc-root-cert','grpc-server-cert','grpc-server-key','grpc-use-ssl','grpc-use-ssl-mutual','host-policy','http-header-forward-pattern','http-restricted-api','http-thread-count','id','log-file','metrics-config','min-supported-compute-capability','model-config-name','model-load-gpu-limit','model-load-retry-count','model-load-thread-count','model-namespacing','pinned-memory-pool-byte-size','rate-limit','rate-limit-resource','repoagent-directory','reuse-grpc-port','reuse-http-port','sagemaker-port','sagemaker-safe-port-range','sagemaker-thread-count','vertex-ai-default-model','vertex-ai-port','vertex-ai-thread-count']",message="unknown Triton option: name must be a tritonserver option (without dashes) that the operator does not manage"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['model-repository','model-store','http-port','grpc-port','metrics-port','allow-http','allow-grpc','allow-metrics','allow-gpu-metrics','metrics-interval-ms','model-control-mode','repository-poll-secs','load-model','log-verbose','log-info','log-warning','log-error','log-format','trace-config','exit-on-error','strict-readiness','backend-config','http-address','grpc-address','metrics-address'])",message="this Triton option is managed by the operator from the spec (ports, repository, model control, logging, tracing, metrics, backend config); set the matching spec field instead"
type TritonParameter struct {
	// Name of the option without dashes, e.g. model-load-thread-count.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9-]*$`
	Name string `json:"name"`
	// Value of the option.
	// +required
	// +kubebuilder:validation:MaxLength=1024
	Value string `json:"value"`
}

// PythonBackend tunes the python backend.
type PythonBackend struct {
	// ShmDefaultByteSize is the python backend's initial shared-memory
	// region per model instance (--backend-config=python,shm-default-byte-size).
	// +optional
	// +kubebuilder:validation:Minimum=1048576
	// +kubebuilder:validation:Maximum=17179869184
	ShmDefaultByteSize *int64 `json:"shmDefaultByteSize,omitempty"`

	// ShmSize is the size of the memory-backed /dev/shm volume. Defaults to
	// 1Gi (the container runtime's 64Mi is too small for the python backend).
	// +optional
	ShmSize *resource.Quantity `json:"shmSize,omitempty"`

	// ExtraArgs are further python backend settings as <setting>=<value>,
	// rendered as --backend-config=python,<setting>=<value>.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^[a-z][a-z0-9_-]*=[^\s,]+$`
	// +kubebuilder:validation:XValidation:rule="self.all(a, !a.startsWith('shm-default-byte-size='))",message="set shm-default-byte-size with pythonBackend.shmDefaultByteSize, not in extraArgs"
	ExtraArgs []string `json:"extraArgs,omitempty"`
}

// ModelControl chooses Triton's model control mode.
// +kubebuilder:validation:XValidation:rule="self.mode == 'poll' || !has(self.pollIntervalSeconds)",message="modelControl.pollIntervalSeconds is only valid with mode poll"
// +kubebuilder:validation:XValidation:rule="self.mode == 'explicit' || !has(self.models)",message="modelControl.models is only valid with mode explicit"
type ModelControl struct {
	// Mode: none (load everything at start), poll (follow repository
	// changes) or explicit (load the listed models).
	// +optional
	// +kubebuilder:default=none
	Mode ModelControlMode `json:"mode,omitempty"`

	// PollIntervalSeconds for mode poll (default 15).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	PollIntervalSeconds *int32 `json:"pollIntervalSeconds,omitempty"`

	// Models loaded at start in mode explicit; "*" loads all.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:Pattern=`^(\*|[A-Za-z0-9_][A-Za-z0-9_.-]*)$`
	Models []string `json:"models,omitempty"`
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
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 52",message="server name must be at most 52 characters so its children's names fit"
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
