package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The Triton part of a KalypsoTritonServer: image, backend, model control
// and extra tritonserver options, each checked at admission the way the
// selected Triton release parses it.

// TritonConfig selects the Triton image and its options.
// +kubebuilder:validation:XValidation:rule="!has(self.image) || !has(self.tag) || (!self.image.contains('@') && !self.image.substring(self.image.lastIndexOf('/') + 1).contains(':'))",message="tritonConfig.tag cannot be combined with an image that already has a tag or digest"
// +kubebuilder:validation:XValidation:rule="!has(self.image) || !self.image.contains('@') || self.image.matches('^[^@]+@sha256:[a-f0-9]{64}$')",message="tritonConfig.image: a digest must be @sha256: and 64 lowercase hex digits; credentials do not belong in an image reference"
// +kubebuilder:validation:XValidation:rule="!has(self.image) || !self.image.substring(self.image.lastIndexOf('/') + 1).endsWith(':latest')",message="tritonConfig.image must pin a release, not latest"
// +kubebuilder:validation:XValidation:rule="!has(self.parameters) || self.parameters.all(p, p.name in ['cache-config','cuda-memory-pool-byte-size','cuda-virtual-address-size','host-policy','metrics-config','model-load-gpu-limit','rate-limit-resource'] || self.parameters.exists_one(q, q.name == p.name))",message="tritonConfig.parameters: an option that takes one value is given more than once (give http-restricted-api and grpc-restricted-protocol once, listing every category)"
// +kubebuilder:validation:XValidation:rule="!has(self.backendConfigs) || self.backendConfigs.all(c, !c.startsWith('python,'))",message="tritonConfig.backendConfigs: set python backend settings with pythonBackend (shmDefaultByteSize, extraArgs); the operator renders them and Triton keeps only the first of two"
// +kubebuilder:validation:XValidation:rule="!has(self.backendConfigs) || self.backendConfigs.all(c, self.backendConfigs.exists_one(d, d.split('=')[0] == c.split('=')[0]))",message="tritonConfig.backendConfigs: a backend setting is given twice"
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

	// TritonVersion is the Triton version the image runs (its
	// TRITON_SERVER_VERSION), for an image given by digest or with a tag
	// that is not a Triton release. It selects the option grammar.
	// +optional
	// +kubebuilder:validation:Enum=2.30.0;2.31.0;2.32.0;2.33.0;2.34.0;2.35.0;2.36.0;2.37.0;2.38.0;2.39.0;2.40.0;2.41.0;2.42.0;2.43.0;2.44.0;2.45.0;2.46.0;2.47.0;2.48.0;2.49.0;2.50.0;2.51.0;2.52.0;2.53.0;2.54.0;2.55.0;2.56.0;2.57.0;2.58.0;2.59.0;2.59.1;2.60.0;2.61.0;2.62.0;2.63.0;2.64.0;2.65.0;2.66.0;2.67.0;2.68.0;2.69.0;2.70.0;2.71.0
	TritonVersion string `json:"tritonVersion,omitempty"`

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
	// +kubebuilder:validation:items:MaxLength=256
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

// TritonParameter is one extra tritonserver option. Names and values are
// checked at admission the way Triton parses them (the property test in
// test/integration holds every admitted value to the grammar).
// +kubebuilder:validation:XValidation:rule="!(self.name in ['model-repository','model-store','http-port','grpc-port','metrics-port','allow-http','allow-grpc','allow-metrics','allow-gpu-metrics','metrics-interval-ms','model-control-mode','repository-poll-secs','load-model','log-verbose','log-info','log-warning','log-error','log-format','trace-config','exit-on-error','strict-readiness','backend-config','http-address','grpc-address','metrics-address'])",message="this Triton option is managed by the operator from the spec (ports, repository, model control, logging, tracing, metrics, backend config); set the matching spec field instead"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['grpc-use-ssl','grpc-use-ssl-mutual','grpc-server-cert','grpc-server-key','grpc-root-cert'])",message="gRPC TLS options are refused: the server has no way to mount certificate files; terminate TLS in front of the server (Gateway or mesh)"
// +kubebuilder:validation:XValidation:rule="self.name != 'log-file'",message="log-file is refused: the log would leave the container's output, where kubectl logs and log collectors read it"
// +kubebuilder:validation:XValidation:rule="self.name in ['allow-client-shm','allow-cpu-metrics','allow-sagemaker','allow-vertex-ai','backend-directory','buffer-manager-thread-count','cache-config','cache-directory','cuda-memory-pool-byte-size','cuda-virtual-address-size','disable-auto-complete-config','enable-peer-access','exit-timeout-secs','grpc-header-forward-pattern','grpc-http2-max-ping-strikes','grpc-http2-max-pings-without-data','grpc-http2-min-recv-ping-interval-without-data','grpc-infer-allocation-pool-size','grpc-infer-response-compression-level','grpc-infer-thread-count','grpc-keepalive-permit-without-calls','grpc-keepalive-time','grpc-keepalive-timeout','grpc-max-connection-age','grpc-max-connection-age-grace','grpc-max-response-pool-size','grpc-restricted-protocol','host-policy','http-header-forward-pattern','http-max-input-size','http-restricted-api','http-thread-count','id','metrics-config','min-supported-compute-capability','model-config-name','model-load-gpu-limit','model-load-retry-count','model-load-thread-count','model-namespacing','pinned-memory-pool-byte-size','rate-limit','rate-limit-resource','repoagent-directory','reuse-grpc-port','reuse-http-port','sagemaker-port','sagemaker-safe-port-range','sagemaker-thread-count','vertex-ai-default-model','vertex-ai-port','vertex-ai-thread-count'] || self.name in ['model-repository','model-store','http-port','grpc-port','metrics-port','allow-http','allow-grpc','allow-metrics','allow-gpu-metrics','metrics-interval-ms','model-control-mode','repository-poll-secs','load-model','log-verbose','log-info','log-warning','log-error','log-format','trace-config','exit-on-error','strict-readiness','backend-config','http-address','grpc-address','metrics-address','grpc-use-ssl','grpc-use-ssl-mutual','grpc-server-cert','grpc-server-key','grpc-root-cert','log-file']",message="unknown Triton option: name must be a tritonserver option (without dashes) that the operator does not manage"
// +kubebuilder:validation:XValidation:rule="self.name == 'disable-auto-complete-config' ? size(self.value) == 0 : size(self.value) > 0",message="parameters[].value: disable-auto-complete-config is a switch and takes no value; every other option needs one"
// +kubebuilder:validation:XValidation:rule="!self.value.matches('[[:cntrl:]]')",message="parameters[].value must not contain control characters such as a newline"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['allow-client-shm','allow-cpu-metrics','allow-sagemaker','allow-vertex-ai','enable-peer-access','grpc-keepalive-permit-without-calls','model-namespacing','reuse-grpc-port','reuse-http-port']) || self.value.matches('^(?i)(true|false|on|off|1|0)$')",message="parameters[].value of this option must be a boolean: true/false, on/off or 1/0"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['buffer-manager-thread-count','exit-timeout-secs','grpc-http2-max-ping-strikes','grpc-http2-max-pings-without-data','grpc-http2-min-recv-ping-interval-without-data','grpc-infer-allocation-pool-size','grpc-infer-thread-count','grpc-keepalive-time','grpc-keepalive-timeout','grpc-max-connection-age','grpc-max-connection-age-grace','grpc-max-response-pool-size','http-thread-count','model-load-retry-count','model-load-thread-count','sagemaker-port','sagemaker-thread-count','vertex-ai-port','vertex-ai-thread-count']) || (self.value.matches('^[0-9]{1,10}$') && int(self.value) <= 2147483647)",message="parameters[].value of this option must be a whole number from 0 to 2147483647"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['http-thread-count','sagemaker-thread-count','vertex-ai-thread-count','model-load-thread-count','grpc-max-response-pool-size','sagemaker-port','vertex-ai-port']) || !self.value.matches('^[0-9]{1,10}$') || int(self.value) >= 1",message="parameters[].value: thread counts, pool sizes and ports must be at least 1"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['sagemaker-port','vertex-ai-port']) || !self.value.matches('^[0-9]{1,10}$') || int(self.value) <= 65535",message="parameters[].value: a port must be at most 65535"
// +kubebuilder:validation:XValidation:rule="self.name != 'grpc-infer-thread-count' || !self.value.matches('^[0-9]{1,10}$') || (int(self.value) >= 2 && int(self.value) <= 128)",message="parameters[].value: grpc-infer-thread-count must be from 2 to 128"
// +kubebuilder:validation:XValidation:rule="self.name != 'pinned-memory-pool-byte-size' || self.value.matches('^[0-9]{1,18}$')",message="parameters[].value: pinned-memory-pool-byte-size is a byte count (digits only)"
// +kubebuilder:validation:XValidation:rule="self.name != 'http-max-input-size' || self.value.matches('^[1-9][0-9]{0,17}$')",message="parameters[].value: http-max-input-size is a byte count of at least 1"
// +kubebuilder:validation:XValidation:rule="self.name != 'min-supported-compute-capability' || self.value.matches('^[0-9]{1,3}([.][0-9]{1,6})?$')",message="parameters[].value: min-supported-compute-capability is a number such as 6.0"
// +kubebuilder:validation:XValidation:rule="self.name != 'grpc-infer-response-compression-level' || self.value.matches('^(?i)(none|low|medium|high)$')",message="parameters[].value: grpc-infer-response-compression-level is none, low, medium or high"
// +kubebuilder:validation:XValidation:rule="self.name != 'rate-limit' || self.value.matches('^(?i)(execution_count|off)$')",message="parameters[].value: rate-limit is execution_count or off"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['backend-directory','cache-directory','repoagent-directory']) || self.value.matches('^/[A-Za-z0-9._/-]*$')",message="parameters[].value: a directory must be an absolute path of letters, digits and . _ / -"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['id','model-config-name','vertex-ai-default-model']) || self.value.matches('^[A-Za-z0-9_.-]{1,128}$')",message="parameters[].value: id, model-config-name and vertex-ai-default-model take a name of letters, digits and . _ -"
// +kubebuilder:validation:XValidation:rule="self.name != 'cache-config' || self.value.matches('^local,size=[0-9]{1,19}$')",message="parameters[].value: cache-config is local,size=<bytes> (Triton's local response cache; a Redis cache would need credentials in the spec)"
// +kubebuilder:validation:XValidation:rule="self.name != 'host-policy' || (self.value.matches('^[A-Za-z0-9_-]+,(numa-node=([0-9]|[1-5][0-9]|6[0-3])|cpu-cores=[0-9]{1,4}-[0-9]{1,4}(,[0-9]{1,4}-[0-9]{1,4}){0,31})$') && (!self.value.contains('cpu-cores=') || self.value.split('=')[1].split(',').all(r, int(r.split('-')[0]) <= int(r.split('-')[1]))))",message="parameters[].value: host-policy is <policy>,numa-node=<0..63> or <policy>,cpu-cores=<first>-<last>[,<first>-<last>...], the only settings Triton knows"
// +kubebuilder:validation:XValidation:rule="self.name != 'metrics-config' || self.value.matches('^(counter_latencies|summary_latencies)=(true|false)$')",message="parameters[].value: metrics-config is counter_latencies=<true|false> or summary_latencies=<true|false>, the settings Triton reads (others are ignored)"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['http-restricted-api','grpc-restricted-protocol']) || (self.value.matches('^(health|metadata|inference|shared-memory|model-config|model-repository|statistics|trace|logging)(,(health|metadata|inference|shared-memory|model-config|model-repository|statistics|trace|logging))*:[A-Za-z0-9_-]+=[^ ]+$') && self.value.split(':')[0].split(',').all(c, self.value.split(':')[0].split(',').exists_one(d, d == c)))",message="parameters[].value: a restriction is <category>[,<category>...]:<header>=<value> with known categories (health, metadata, inference, shared-memory, model-config, model-repository, statistics, trace, logging), each once"
// +kubebuilder:validation:XValidation:rule="self.name != 'http-restricted-api' || !('health' in self.value.split(':')[0].split(','))",message="parameters[].value: http-restricted-api must not restrict health: the operator's probes call the health API without a header and the pod would never become ready"
// +kubebuilder:validation:XValidation:rule="self.name != 'rate-limit-resource' || self.value.matches('^[A-Za-z0-9_.-]+:[0-9]{1,9}(:[0-9]{1,9})?$')",message="parameters[].value: rate-limit-resource is <resource>:<count> or <resource>:<count>:<device>"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['cuda-memory-pool-byte-size','cuda-virtual-address-size']) || self.value.matches('^[0-9]{1,9}:[0-9]{1,19}$')",message="parameters[].value: this option is <gpu id>:<bytes>"
// +kubebuilder:validation:XValidation:rule="self.name != 'model-load-gpu-limit' || self.value.matches('^[0-9]{1,9}:(0?[.][0-9]{1,8}|0|1|1[.]0{1,8})$')",message="parameters[].value: model-load-gpu-limit is <gpu id>:<fraction from 0 to 1>"
// +kubebuilder:validation:XValidation:rule="self.name != 'sagemaker-safe-port-range' || (self.value.matches('^[0-9]{1,5}-[0-9]{1,5}$') && int(self.value.split('-')[0]) >= 1 && int(self.value.split('-')[1]) <= 65535 && int(self.value.split('-')[0]) <= int(self.value.split('-')[1]))",message="parameters[].value: sagemaker-safe-port-range is <low>-<high> with 1 <= low <= high <= 65535"
// +kubebuilder:validation:XValidation:rule="!(self.name in ['grpc-header-forward-pattern','http-header-forward-pattern']) || (self.value.matches('^[A-Za-z0-9_.*+?^$|()-]{1,256}$') && ('x'.matches(self.value) || !'x'.matches(self.value)))",message="parameters[].value: a header forward pattern is a regular expression over header names (letters, digits, _ - . and regex operators)"
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
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).compareTo(quantity('1Mi')) >= 0",message="pythonBackend.shmSize must be at least 1Mi"
	ShmSize *resource.Quantity `json:"shmSize,omitempty"`

	// ExtraArgs are further python backend settings as <setting>=<value>,
	// rendered as --backend-config=python,<setting>=<value>.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^[a-z][a-z0-9_-]*=[^\s,]+$`
	// +kubebuilder:validation:XValidation:rule="self.all(a, !a.startsWith('shm-default-byte-size='))",message="set shm-default-byte-size with pythonBackend.shmDefaultByteSize, not in extraArgs"
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.exists_one(b, b.split('=')[0] == a.split('=')[0]))",message="pythonBackend.extraArgs: a setting is given twice"
	ExtraArgs []string `json:"extraArgs,omitempty"`
}

// ModelControl chooses Triton's model control mode.
// +kubebuilder:validation:XValidation:rule="self.mode == 'poll' || !has(self.pollIntervalSeconds)",message="modelControl.pollIntervalSeconds is only valid with mode poll"
// +kubebuilder:validation:XValidation:rule="self.mode == 'explicit' || !has(self.models)",message="modelControl.models is only valid with mode explicit"
// +kubebuilder:validation:XValidation:rule="self.mode == 'explicit' || !has(self.unloadUndeclared)",message="modelControl.unloadUndeclared is only valid with mode explicit"
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

	// Models served in mode explicit; "*" serves every model of the
	// repository. When the operator reads the pods' model status, it loads
	// them on every replica through Triton's API (editing the list restarts
	// no pod); otherwise they are passed as --load-model at start.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:Pattern=`^(\*|[A-Za-z0-9_][A-Za-z0-9_.-]*)$`
	// +kubebuilder:validation:XValidation:rule="!('*' in self) || size(self) == 1",message="modelControl.models: '*' loads every model and must be the only entry"
	Models []string `json:"models,omitempty"`

	// UnloadUndeclared unloads, in mode explicit, a model that a pod serves
	// but models does not list (loaded by hand through Triton's API), when
	// the operator reads the pods' model status (default true).
	// +optional
	UnloadUndeclared *bool `json:"unloadUndeclared,omitempty"`
}
