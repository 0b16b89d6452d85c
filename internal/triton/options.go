// Source of the option table
//
// The table in this file covers every Triton release from 2.30.0 (NGC
// 23.01) to the newest tag in releases_table.go. Which releases accept an
// option is not written here: hack/tritongrammar reads, at every release
// tag of github.com/triton-inference-server/server, the long options
// declared in src/command_line_parser.cc (src/main.cc before 2.32.0), the
// NGC release from build.py and the tag's commit, and generates
// releases_table.go; it also reports any option a parser declares that
// this table lacks. Regenerate with
//
//	go run ./hack/tritongrammar -repo <mirror of triton-inference-server/server> -o internal/triton/releases_table.go
//
// Types, bounds and enum values below are those of the newest release, read
// from the same parser (how each option's value is parsed); the few value
// rules that older releases parse differently are listed in releases.go,
// found by diffing the parser (and src/tracer.cc for the OpenTelemetry
// settings) between consecutive tags. The restricted API categories come
// from src/restricted_features.h, unchanged since 2.40.0, and are the ones
// the GRPC server looked up before that. Descriptions are our own words.
//
// SageMaker and Vertex AI options exist only in builds with those endpoints
// enabled; they are listed because the stock NGC images carry them.

package triton

import (
	"math"
	"slices"
	"strings"
)

// ValueType is the type of an option's value.
type ValueType int

const (
	// Bool is a boolean: true/false, on/off or 1/0, in any letter case.
	Bool ValueType = iota
	// Int is a signed 32-bit integer (Triton parses these with std::stoi).
	Int
	// Uint is a non-negative integer: byte sizes and counts.
	Uint
	// String is free text, such as a path, an address or a name.
	String
	// Enum is one of the strings listed in Option.Enum.
	Enum
	// TraceSetting is a --trace-config value:
	// [triton,|opentelemetry,]<setting>=<value>.
	TraceSetting
	// BackendSetting is a --backend-config value:
	// <backend>,<setting>=<value> or <setting>=<value>.
	BackendSetting
	// Flag takes no value at all. Triton declares it without an argument,
	// so it must be rendered as a bare --name: --name=value is refused.
	Flag
	// Float is a finite decimal number.
	Float
	// IntOrBool is an integer, or true (1) / false (0).
	IntOrBool
	// Restriction is <category>[,<category>...]:<header>=<value>, used to
	// require a header on some HTTP APIs or GRPC protocols.
	Restriction
	// MetricsSetting is <setting>=<value>.
	MetricsSetting
	// CacheSetting is <cache>,<setting>=<value>.
	CacheSetting
	// HostPolicySetting is <policy>,<setting>=<value>.
	HostPolicySetting
	// RateLimitResource is <resource>:<count> or <resource>:<count>:<device>.
	RateLimitResource
	// DeviceBytes is <gpu device id>:<byte size>.
	DeviceBytes
	// DeviceFraction is <gpu device id>:<fraction between 0 and 1>.
	DeviceFraction
	// PortRange is <low port>-<high port>.
	PortRange
	// TraceLevel is a level of the deprecated --trace-level option.
	TraceLevel
)

var valueTypeNames = map[ValueType]string{
	Bool:              "bool",
	Int:               "int",
	Uint:              "uint",
	String:            "string",
	Enum:              "enum",
	TraceSetting:      "trace setting",
	BackendSetting:    "backend setting",
	Flag:              "flag",
	Float:             "float",
	IntOrBool:         "int or bool",
	Restriction:       "restriction",
	MetricsSetting:    "metrics setting",
	CacheSetting:      "cache setting",
	HostPolicySetting: "host policy setting",
	RateLimitResource: "rate limit resource",
	DeviceBytes:       "device:bytes",
	DeviceFraction:    "device:fraction",
	PortRange:         "port range",
	TraceLevel:        "trace level",
}

// String names the type for error messages.
func (t ValueType) String() string {
	if name, ok := valueTypeNames[t]; ok {
		return name
	}
	return "unknown value type"
}

// Option describes one tritonserver command-line option.
type Option struct {
	Name       string    // without leading dashes, e.g. "http-port"
	Type       ValueType // type of the value
	Enum       []string  // allowed values for Enum
	Repeatable bool      // may appear more than once (load-model, backend-config, trace-config, ...)
	Managed    bool      // rendered by the operator from the CR spec; a user may not set it via parameters
	Deprecated bool      // still accepted by Triton, but superseded
	Summary    string    // one-line description, in our own words
}

// Default ports Triton listens on when the matching option is absent.
const (
	DefaultHTTPPort    = 8000
	DefaultGRPCPort    = 8001
	DefaultMetricsPort = 8002
)

// spec is an Option plus the constraints that only validation needs, kept
// out of Option so the public type stays a plain description.
type spec struct {
	Option
	lo, hi   int64  // inclusive bounds of an integer value, when bounded
	bounded  bool   // lo and hi are set
	foldCase bool   // Triton lower-cases this enum before comparing
	useOpt   string // what to use instead of a deprecated option
}

func opt(name string, t ValueType, summary string) spec {
	return spec{Option: Option{Name: name, Type: t, Summary: summary}}
}

// enumOpt declares an Enum; foldCase mirrors whether Triton lower-cases the
// value first (it does for most enums, but not for --log-format).
func enumOpt(name string, foldCase bool, summary string, values ...string) spec {
	s := opt(name, Enum, summary)
	s.Enum = values
	s.foldCase = foldCase
	return s
}

func (s spec) many() spec {
	s.Repeatable = true
	return s
}

func (s spec) managed() spec {
	s.Managed = true
	return s
}

func (s spec) deprecated(use string) spec {
	s.Deprecated = true
	s.useOpt = use
	return s
}

func (s spec) within(lo, hi int64) spec {
	s.lo, s.hi, s.bounded = lo, hi, true
	return s
}

const (
	maxInt32 = math.MaxInt32
	maxPort  = 65535
)

// specs is the option table, grouped as Triton groups its usage text.
var specs = []spec{
	// Server.
	opt("id", String, "Identifier the server reports about itself."),
	opt("exit-timeout-secs", Int, "Seconds to wait for in-flight requests when shutting down."),

	// Model repository.
	opt("model-repository", String, "Path or cloud URI of a model repository; repeatable.").many().managed(),
	opt("model-store", String, "Older spelling of model-repository.").many().managed(),
	opt("exit-on-error", Bool, "Stop the server when initialization fails.").managed(),
	opt("disable-auto-complete-config", Flag, "Require complete model configurations instead of filling them in."),
	opt("strict-readiness", Bool, "Report ready only when every model is ready.").managed(),
	enumOpt("model-control-mode", true, "How models get loaded and unloaded.", "none", "poll", "explicit").managed(),
	opt("repository-poll-secs", Int, "Seconds between repository scans in poll mode.").managed(),
	opt("load-model", String, "Model to load at startup in explicit mode; '*' means all; repeatable.").many().managed(),
	opt("model-config-name", String, "Name of an alternative model configuration file to use."),
	opt("model-load-thread-count", Uint, "Threads that load models in parallel.").within(0, maxInt32),
	opt("model-load-retry-count", Uint, "How often a failed model load is retried.").within(0, maxInt32),
	opt("model-namespacing", Bool, "Allow models of the same name in different repositories."),
	opt("enable-peer-access", Bool, "Try to enable GPU peer-to-peer access."),

	// HTTP endpoint.
	opt("allow-http", Bool, "Serve the HTTP/REST endpoint.").managed(),
	opt("http-address", String, "Address the HTTP endpoint binds to.").managed(),
	opt("http-port", Int, "Port of the HTTP endpoint.").within(1, maxPort).managed(),
	opt("reuse-http-port", Bool, "Let several servers share the HTTP port."),
	opt("http-header-forward-pattern", String, "Regular expression of HTTP headers passed on as request parameters."),
	opt("http-thread-count", Int, "Threads serving HTTP requests."),
	opt("http-restricted-api", Restriction, "Require a header for some HTTP API categories; repeatable.").many(),
	// Parsed as a 64-bit integer that must be positive.
	opt("http-max-input-size", Uint, "Largest HTTP request input Triton accepts, in bytes.").within(1, math.MaxInt64),

	// GRPC endpoint.
	opt("allow-grpc", Bool, "Serve the GRPC endpoint.").managed(),
	opt("grpc-address", String, "Address the GRPC endpoint binds to.").managed(),
	opt("grpc-port", Int, "Port of the GRPC endpoint.").within(1, maxPort).managed(),
	opt("reuse-grpc-port", Bool, "Let several servers share the GRPC port."),
	opt("grpc-header-forward-pattern", String, "Regular expression of GRPC headers passed on as request parameters."),
	opt("grpc-infer-thread-count", Int, "GRPC inference handler threads (2 to 128).").within(2, 128),
	opt("grpc-infer-allocation-pool-size", Int, "Request/response states kept allocated for reuse."),
	opt("grpc-max-response-pool-size", Int, "Upper bound of queued responses per stream (at least 1).").within(1, maxInt32),
	opt("grpc-use-ssl", Bool, "Use TLS on the GRPC endpoint."),
	opt("grpc-use-ssl-mutual", Bool, "Use mutual TLS on the GRPC endpoint."),
	opt("grpc-server-cert", String, "PEM file with the GRPC server certificate."),
	opt("grpc-server-key", String, "PEM file with the GRPC server key."),
	opt("grpc-root-cert", String, "PEM file with the root certificate for GRPC clients."),
	enumOpt("grpc-infer-response-compression-level", true, "Compression of GRPC inference responses.", "none", "low", "medium", "high"),
	opt("grpc-keepalive-time", Int, "Milliseconds between GRPC keepalive pings."),
	opt("grpc-keepalive-timeout", Int, "Milliseconds to wait for a keepalive acknowledgement."),
	opt("grpc-keepalive-permit-without-calls", Bool, "Send keepalive pings even with no call in flight."),
	opt("grpc-http2-max-pings-without-data", Int, "Pings allowed without data frames; 0 means no limit."),
	opt("grpc-http2-min-recv-ping-interval-without-data", Int, "Shortest accepted interval between client pings, in milliseconds."),
	opt("grpc-http2-max-ping-strikes", Int, "Bad pings tolerated before the connection is closed; 0 means no limit."),
	opt("grpc-max-connection-age", Int, "Milliseconds a GRPC connection may live."),
	opt("grpc-max-connection-age-grace", Int, "Milliseconds of grace after a connection reaches its maximum age."),
	opt("grpc-restricted-protocol", Restriction, "Require a header for some GRPC protocol categories; repeatable.").many(),

	// Logging.
	opt("log-verbose", IntOrBool, "Verbose logging level; 0 turns it off.").within(0, maxInt32).managed(),
	opt("log-info", Bool, "Log info messages.").managed(),
	opt("log-warning", Bool, "Log warnings.").managed(),
	opt("log-error", Bool, "Log errors.").managed(),
	enumOpt("log-format", false, "Timestamp format of log lines.", "default", "ISO8601").managed(),
	opt("log-file", String, "Write the log to this file instead of the console."),

	// SageMaker endpoint (only in builds that include it).
	opt("allow-sagemaker", Bool, "Serve the SageMaker endpoint."),
	opt("sagemaker-port", Int, "Port of the SageMaker endpoint.").within(1, maxPort),
	opt("sagemaker-safe-port-range", PortRange, "Ports the other endpoints may use alongside SageMaker."),
	opt("sagemaker-thread-count", Int, "Threads serving SageMaker requests."),

	// Vertex AI endpoint (only in builds that include it).
	opt("allow-vertex-ai", Bool, "Serve the Vertex AI endpoint."),
	opt("vertex-ai-port", Int, "Port of the Vertex AI endpoint.").within(1, maxPort),
	opt("vertex-ai-thread-count", Int, "Threads serving Vertex AI requests."),
	opt("vertex-ai-default-model", String, "Model used for single-model Vertex AI requests."),

	// Metrics.
	opt("allow-metrics", Bool, "Serve Prometheus metrics.").managed(),
	opt("allow-gpu-metrics", Bool, "Include GPU metrics.").managed(),
	opt("allow-cpu-metrics", Bool, "Include CPU metrics."),
	opt("metrics-address", String, "Address the metrics endpoint binds to.").managed(),
	opt("metrics-port", Int, "Port of the metrics endpoint.").within(1, maxPort).managed(),
	// Declared as a float but parsed as an integer by Triton.
	opt("metrics-interval-ms", Uint, "Milliseconds between metric collections.").within(0, maxInt32).managed(),
	opt("metrics-config", MetricsSetting, "A metrics setting; repeatable.").many(),

	// Tracing.
	opt("trace-config", TraceSetting, "A global, triton or opentelemetry trace setting; repeatable.").many().managed(),

	// Response cache.
	opt("cache-config", CacheSetting, "A setting of a named response cache; repeatable.").many(),
	opt("cache-directory", String, "Directory searched for cache implementations."),

	// Rate limiter.
	enumOpt("rate-limit", true, "Rate limiting mode.", "execution_count", "off"),
	opt("rate-limit-resource", RateLimitResource, "Amount of a rate limiter resource, optionally per device; repeatable.").many(),

	// Memory and devices.
	opt("pinned-memory-pool-byte-size", Uint, "Bytes of pinned host memory to pool."),
	opt("cuda-memory-pool-byte-size", DeviceBytes, "Bytes of CUDA memory to pool on one GPU; repeatable.").many(),
	opt("cuda-virtual-address-size", DeviceBytes, "CUDA virtual address size for growable state on one GPU; repeatable.").many(),
	opt("min-supported-compute-capability", Float, "Ignore GPUs below this CUDA compute capability."),
	opt("buffer-manager-thread-count", Int, "Threads that copy tensor data."),
	opt("host-policy", HostPolicySetting, "A setting of a named host policy; repeatable.").many(),
	opt("model-load-gpu-limit", DeviceFraction, "Refuse model loads above this fraction of one GPU's memory; repeatable.").many(),

	// Shared memory.
	opt("allow-client-shm", Bool, "Let clients register shared memory regions for inference inputs and outputs."),

	// Backends and repository agents.
	opt("backend-directory", String, "Directory searched for backends."),
	opt("backend-config", BackendSetting, "A global or per-backend setting; repeatable.").many().managed(),
	opt("repoagent-directory", String, "Directory searched for repository agents."),

	// Deprecated.
	opt("strict-model-config", Bool, "Older way to require complete model configurations.").deprecated("disable-auto-complete-config"),
	opt("response-cache-byte-size", Uint, "Older way to size the local response cache.").deprecated("cache-config"),
	opt("trace-file", String, "Older way to set the trace file.").deprecated("trace-config").managed(),
	opt("trace-level", TraceLevel, "Older way to set the trace level; repeatable.").many().deprecated("trace-config").managed(),
	opt("trace-rate", Int, "Older way to set the trace sampling rate.").deprecated("trace-config").managed(),
	opt("trace-count", Int, "Older way to limit the number of traces.").deprecated("trace-config").managed(),
	opt("trace-log-frequency", Int, "Older way to set how often traces are written.").deprecated("trace-config").managed(),
}

// notServerOptions are real tritonserver options left out of the table
// because they never configure a running server.
var notServerOptions = map[string]string{
	"help": "it prints the usage text and exits instead of starting the server",
}

var byName = indexSpecs(specs)

func indexSpecs(list []spec) map[string]spec {
	m := make(map[string]spec, len(list))
	for _, s := range list {
		m[s.Name] = s
	}
	return m
}

// clone copies an Option so callers cannot change the table through Enum.
func clone(o Option) Option {
	o.Enum = slices.Clone(o.Enum)
	return o
}

// Lookup returns the option with the given name, without leading dashes.
func Lookup(name string) (Option, bool) {
	s, ok := byName[name]
	if !ok {
		return Option{}, false
	}
	return clone(s.Option), true
}

// Options returns every known option, sorted by name.
func Options() []Option {
	out := make([]Option, 0, len(specs))
	for _, s := range specs {
		out = append(out, clone(s.Option))
	}
	slices.SortFunc(out, func(a, b Option) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// UserSettable returns, sorted, the names a user may pass as extra
// parameters: known options that are neither managed nor deprecated.
func UserSettable() []string {
	var names []string
	for _, s := range specs {
		if !s.Managed && !s.Deprecated {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	return names
}
