package v1alpha1

// Observability of a KalypsoTritonServer: logs, traces, profiles and metrics.

// Observability configures logs, traces, profiling and metrics.
type Observability struct {
	// Logging of tritonserver.
	// +optional
	Logging *Logging `json:"logging,omitempty"`
	// Tracing with OpenTelemetry.
	// +optional
	Tracing *Tracing `json:"tracing,omitempty"`
	// Profiling annotations on the pods.
	// +optional
	Profiling *Profiling `json:"profiling,omitempty"`
	// Metrics endpoint and scraping.
	// +optional
	Metrics *Metrics `json:"metrics,omitempty"`
}

// Logging sets Triton's log level and format.
type Logging struct {
	// Level: ERROR, WARNING, INFO (default) or VERBOSE. Each level enables
	// itself and the levels above it and disables the ones below.
	// +optional
	// +kubebuilder:default=INFO
	Level LogLevel `json:"level,omitempty"`
	// Format of log lines: default or ISO8601.
	// +optional
	Format LogFormat `json:"format,omitempty"`
}

// Tracing sends OpenTelemetry traces over OTLP/HTTP.
type Tracing struct {
	// CollectorEndpoint of an OTLP/HTTP collector, e.g.
	// http://otel-collector.monitoring:4318 (/v1/traces is appended when absent).
	// +required
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.matches('^https?://[A-Za-z0-9.-]+(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[A-Za-z0-9._~%/:@+-]*)?$')",message="tracing.collectorEndpoint must be an http(s) OTLP/HTTP URL with a port up to 65535, no query string and no commas"
	CollectorEndpoint string `json:"collectorEndpoint"`

	// SamplingRate: a ratio in (0, 1] whose inverse is a whole number
	// (1, 0.5, 0.1, 0.01, ...) or an integer N >= 1 meaning one request in N.
	// Triton samples one request in N, so other ratios cannot be expressed.
	// +optional
	// +kubebuilder:default="1"
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:Pattern=`^([1-9][0-9]{0,8}|0?\.[0-9]{1,8}|1\.0{1,8})$`
	// +kubebuilder:validation:XValidation:rule="!self.matches('^0?[.][0-9]{1,8}$') || (int(self.split('.')[1]) > 0 && [10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000][size(self.split('.')[1]) - 1] % int(self.split('.')[1]) == 0)",message="tracing.samplingRate: Triton samples one request in N, so a ratio must be 1/N (0.5, 0.25, 0.1, 0.01, ...), not 0 or 0.3"
	SamplingRate string `json:"samplingRate,omitempty"`

	// ServiceName reported as the service.name resource (default: the server's name).
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_.-]+$`
	ServiceName string `json:"serviceName,omitempty"`
}

// Profiling annotates the pods for a continuous profiler (Grafana Alloy /
// Pyroscope annotation-based discovery).
type Profiling struct {
	// CPU profiling.
	// +optional
	CPU bool `json:"cpu,omitempty"`
	// Memory profiling.
	// +optional
	Memory bool `json:"memory,omitempty"`
}

// Metrics configures Triton's Prometheus endpoint and its scraping.
type Metrics struct {
	// Enabled serves metrics (Triton's default: true). Set false to disable.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// Interval at which Triton refreshes its metrics (--metrics-interval-ms),
	// as a duration such as 2s or 500ms.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]{1,6}(ms|s|m)$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1ms') && duration(self) <= duration('2147483647ms')",message="metrics.interval must be from 1ms to 2147483647ms (about 24 days), the range of Triton's --metrics-interval-ms"
	Interval string `json:"interval,omitempty"`
	// ServiceMonitor for the Prometheus Operator.
	// +optional
	ServiceMonitor *ServiceMonitor `json:"serviceMonitor,omitempty"`
}

// ServiceMonitor configures the monitoring.coreos.com/v1 ServiceMonitor child.
type ServiceMonitor struct {
	// Enabled creates the ServiceMonitor.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// Interval of scraping, e.g. 30s.
	// +optional
	// +kubebuilder:validation:Pattern=`^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`
	Interval string `json:"interval,omitempty"`
	// Labels added to the ServiceMonitor so a Prometheus selects it.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// LogLevel is the most verbose kind of message Triton writes.
// +kubebuilder:validation:Enum=ERROR;WARNING;INFO;VERBOSE
type LogLevel string

const (
	LogLevelError   LogLevel = "ERROR"
	LogLevelWarning LogLevel = "WARNING"
	LogLevelInfo    LogLevel = "INFO"
	LogLevelVerbose LogLevel = "VERBOSE"
)

// LogFormat is Triton's --log-format.
// +kubebuilder:validation:Enum=default;ISO8601
type LogFormat string
