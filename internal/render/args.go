package render

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/utils/ptr"

	servingv1alpha1 "github.com/kalypsoserving/kalypso-serving/api/v1alpha1"
	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// DefaultShmDefaultByteSize is the python backend's shared-memory region
// per model instance when not set (Triton's own default, 1 MiB, is too small
// for most tensors and makes the stub grow the region request by request).
const DefaultShmDefaultByteSize int64 = 16 << 20

// DefaultPollSeconds is --repository-poll-secs when mode is poll and no interval is given.
const DefaultPollSeconds int32 = 15

// usesPythonBackend is true for backends that run models in the python
// backend's stub processes (and so need /dev/shm and its settings).
func usesPythonBackend(b servingv1alpha1.BackendType) bool {
	switch b {
	case servingv1alpha1.BackendPython, servingv1alpha1.BackendVLLM, servingv1alpha1.BackendTensorRTLLM:
		return true
	default:
		return false
	}
}

// Args returns tritonserver's arguments (after the binary name). Every
// option is rendered as --name=value (a Flag option as a bare --name).
//
// Two checks keep the blame where it belongs. First every value the spec
// contributes is checked against Triton's grammar on its own (checkSpecArgs):
// a failure there is an *InvalidSpecError naming the field. Then the whole
// rendered command line is checked: as the spec's values are known to be
// good, a failure there is the renderer's, a *GrammarViolationError.
func Args(spec servingv1alpha1.KalypsoTritonServerSpec, server, repository string) ([]string, error) {
	spec = withDefaults(spec)
	rel, err := Release(spec.TritonConfig)
	if err != nil {
		return nil, err
	}
	if err := checkSpecArgs(rel, spec, server); err != nil {
		return nil, err
	}
	tc := spec.TritonConfig
	args := []string{
		"--model-repository=" + repository,
		flag("http-port", spec.Networking.HTTPPort),
		flag("grpc-port", spec.Networking.GRPCPort),
	}
	if MetricsEnabled(spec) {
		args = append(args, flag("metrics-port", spec.Networking.MetricsPort))
	}
	args = append(args, modelControlArgs(tc.ModelControl)...)
	args = append(args, loggingArgs(spec.Observability)...)
	trace, err := tracingArgs(spec.Observability, server)
	if err != nil {
		return nil, err
	}
	args = append(args, trace...)
	metrics, err := metricsArgs(spec.Observability, gpuCount(&spec) > 0)
	if err != nil {
		return nil, err
	}
	args = append(args, metrics...)
	args = append(args, backendArgs(tc)...)
	if tc.ExitOnError != nil {
		args = append(args, flag("exit-on-error", *tc.ExitOnError))
	}
	if tc.StrictReadiness != nil {
		args = append(args, flag("strict-readiness", *tc.StrictReadiness))
	}
	for _, p := range tc.Parameters {
		args = append(args, parameterArg(p))
	}
	if err := CheckRenderedArgs(rel, args); err != nil {
		return nil, err
	}
	return args, nil
}

// parameterArg renders one extra parameter. A switch (Flag) takes no value:
// Triton refuses --name=value for it.
func parameterArg(p servingv1alpha1.TritonParameter) string {
	if o, _ := triton.Lookup(p.Name); o.Type == triton.Flag {
		return "--" + p.Name
	}
	return "--" + p.Name + "=" + p.Value
}

// checkSpecArgs checks, field by field, every value the spec puts on
// Triton's command line, and the rules between spec values Triton
// enforces (distinct ports, '*' alone, an option given twice). Apart from
// the --name=value spelling it shares nothing with the renderer: each value
// is checked as the plain option it stands for, so a renderer that mangles
// a good value is still caught by the check of the whole command line.
func checkSpecArgs(rel triton.Release, spec servingv1alpha1.KalypsoTritonServerSpec, server string) error {
	net := spec.Networking
	parts := slices.Concat([]specPart{
		{"networking", []string{flag("http-port", net.HTTPPort), flag("grpc-port", net.GRPCPort), flag("metrics-port", net.MetricsPort)}},
		{"storageUri", []string{"--model-repository=" + spec.StorageURI}},
	},
		modelControlParts(spec.TritonConfig.ModelControl),
		observabilityParts(spec.Observability, server),
		backendParts(spec.TritonConfig))
	for _, p := range parts {
		if err := alone(rel, p.field, p.args...); err != nil {
			return err
		}
	}
	// The parameters are checked beside the endpoints the spec enables, so
	// that port rules between them (SageMaker, Vertex AI) see the real ports.
	params := []string{flag("http-port", net.HTTPPort), flag("grpc-port", net.GRPCPort)}
	if MetricsEnabled(spec) {
		params = append(params, flag("metrics-port", net.MetricsPort))
	} else {
		params = append(params, flag("allow-metrics", false))
	}
	for _, p := range spec.TritonConfig.Parameters {
		if err := triton.CheckParameterFor(rel, p.Name, p.Value); err != nil {
			return invalidSpec("tritonConfig.parameters: %v", err)
		}
		params = append(params, parameterArg(p))
	}
	return alone(rel, "tritonConfig.parameters", params...)
}

// specPart is the arguments one field of the spec stands for.
type specPart struct {
	field string
	args  []string
}

func modelControlParts(mc *servingv1alpha1.ModelControl) []specPart {
	if mc == nil {
		return nil
	}
	mode := "--model-control-mode=" + string(mc.Mode)
	parts := []specPart{{"tritonConfig.modelControl.mode", []string{mode}}}
	if mc.Mode == servingv1alpha1.ModelControlPoll && mc.PollIntervalSeconds != nil {
		parts = append(parts, specPart{"tritonConfig.modelControl.pollIntervalSeconds",
			[]string{mode, flag("repository-poll-secs", *mc.PollIntervalSeconds)}})
	}
	if mc.Mode == servingv1alpha1.ModelControlExplicit && len(mc.Models) > 0 {
		models := []string{mode}
		for _, m := range mc.Models {
			models = append(models, "--load-model="+m)
		}
		parts = append(parts, specPart{"tritonConfig.modelControl.models", models})
	}
	return parts
}

func observabilityParts(o *servingv1alpha1.Observability, server string) []specPart {
	if o == nil {
		return nil
	}
	var parts []specPart
	if o.Logging != nil && o.Logging.Format != "" {
		parts = append(parts, specPart{"observability.logging.format", []string{flag("log-format", o.Logging.Format)}})
	}
	if t := o.Tracing; t != nil {
		service := t.ServiceName
		if service == "" {
			service = server
		}
		parts = append(parts, specPart{"observability.tracing", []string{
			"--trace-config=opentelemetry,url=" + t.CollectorEndpoint,
			"--trace-config=opentelemetry,resource=service.name=" + service,
		}})
	}
	return parts
}

func backendParts(tc servingv1alpha1.TritonConfig) []specPart {
	var parts []specPart
	for i, c := range tc.BackendConfigs {
		parts = append(parts, specPart{fmt.Sprintf("tritonConfig.backendConfigs[%d]", i), []string{"--backend-config=" + c}})
	}
	if pb := tc.PythonBackend; pb != nil {
		for i, e := range pb.ExtraArgs {
			parts = append(parts, specPart{fmt.Sprintf("tritonConfig.pythonBackend.extraArgs[%d]", i),
				[]string{"--backend-config=python," + e}})
		}
	}
	return parts
}

// alone checks arguments taken from one part of the spec as a command line
// of their own (with a model repository, which Triton requires), so a
// failure is that part's: an *InvalidSpecError naming the field.
func alone(rel triton.Release, field string, args ...string) error {
	line := args
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--model-repository=") }) {
		line = append([]string{"--model-repository=/models"}, args...)
	}
	if err := triton.CheckArgsFor(rel, line); err != nil {
		return invalidSpec("%s: %v", field, err)
	}
	return nil
}

func flag[T any](name string, v T) string {
	return fmt.Sprintf("--%s=%v", name, v)
}

func modelControlArgs(mc *servingv1alpha1.ModelControl) []string {
	if mc == nil {
		return []string{flag("model-control-mode", servingv1alpha1.ModelControlNone)}
	}
	out := []string{flag("model-control-mode", mc.Mode)}
	switch mc.Mode {
	case servingv1alpha1.ModelControlPoll:
		out = append(out, flag("repository-poll-secs", ptr.Deref(mc.PollIntervalSeconds, DefaultPollSeconds)))
	case servingv1alpha1.ModelControlExplicit:
		for _, m := range mc.Models {
			out = append(out, "--load-model="+m)
		}
	}
	return out
}

// loggingArgs maps a level onto Triton's switches. Triton enables info,
// warning and error logs by default, so a level must switch the lower ones
// off explicitly or it changes nothing.
func loggingArgs(o *servingv1alpha1.Observability) []string {
	level := servingv1alpha1.LogLevelInfo
	var format servingv1alpha1.LogFormat
	if o != nil && o.Logging != nil {
		level = o.Logging.Level
		format = o.Logging.Format
	}
	verbose, info, warning := 0, true, true
	switch level {
	case servingv1alpha1.LogLevelVerbose:
		verbose = 1
	case servingv1alpha1.LogLevelWarning:
		info = false
	case servingv1alpha1.LogLevelError:
		info, warning = false, false
	}
	out := []string{
		flag("log-verbose", verbose),
		flag("log-info", info),
		flag("log-warning", warning),
		flag("log-error", true),
	}
	if format != "" {
		out = append(out, flag("log-format", format))
	}
	return out
}

// tracingArgs renders OpenTelemetry tracing, one setting per --trace-config
// as Triton requires.
func tracingArgs(o *servingv1alpha1.Observability, server string) ([]string, error) {
	if o == nil || o.Tracing == nil {
		return nil, nil
	}
	t := o.Tracing
	rate, err := TraceRate(t.SamplingRate)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(t.CollectorEndpoint, "/")
	if !strings.HasSuffix(url, "/v1/traces") {
		url += "/v1/traces"
	}
	service := t.ServiceName
	if service == "" {
		service = server
	}
	return []string{
		"--trace-config=mode=opentelemetry",
		"--trace-config=opentelemetry,url=" + url,
		"--trace-config=level=TIMESTAMPS",
		"--trace-config=rate=" + strconv.FormatInt(rate, 10),
		"--trace-config=opentelemetry,resource=service.name=" + service,
	}, nil
}

var samplingPattern = regexp.MustCompile(`^([1-9][0-9]{0,8}|0?\.[0-9]{1,8}|1\.0{1,8})$`)

// TraceRate converts a sampling setting to Triton's rate (one request in N).
// A ratio r in (0, 1] is exact only when 1/r is a whole number; an integer
// N > 1 is already one in N. Anything else cannot be expressed by Triton.
func TraceRate(sampling string) (int64, error) {
	if sampling == "" {
		return 1, nil
	}
	if !samplingPattern.MatchString(sampling) {
		return 0, invalidSpec("tracing.samplingRate %q is neither a ratio in (0, 1] nor a whole number", sampling)
	}
	r, ok := new(big.Rat).SetString(sampling)
	if !ok || r.Sign() <= 0 {
		return 0, invalidSpec("tracing.samplingRate %q must be positive", sampling)
	}
	if r.Cmp(big.NewRat(1, 1)) > 0 {
		if !r.IsInt() {
			return 0, invalidSpec("tracing.samplingRate %q above 1 must be a whole number N (one request in N)", sampling)
		}
		return r.Num().Int64(), nil
	}
	inv := new(big.Rat).Inv(r)
	if !inv.IsInt() {
		return 0, invalidSpec("tracing.samplingRate %q cannot be expressed: Triton samples one request in N, and 1/%s is not a whole number", sampling, sampling)
	}
	return inv.Num().Int64(), nil
}

var intervalPattern = regexp.MustCompile(`^([0-9]{1,6})(ms|s|m)$`)

// metricsArgs renders the metrics switches; GPU metrics only with GPUs, as
// without them Triton logs DCGM errors at every interval.
func metricsArgs(o *servingv1alpha1.Observability, gpus bool) ([]string, error) {
	enabled := true
	interval := ""
	if o != nil && o.Metrics != nil {
		enabled = ptr.Deref(o.Metrics.Enabled, true)
		interval = o.Metrics.Interval
	}
	if !enabled {
		return []string{flag("allow-metrics", false)}, nil
	}
	out := []string{flag("allow-metrics", true), flag("allow-gpu-metrics", gpus)}
	if interval != "" {
		ms, err := intervalMillis(interval)
		if err != nil {
			return nil, err
		}
		out = append(out, flag("metrics-interval-ms", ms))
	}
	return out, nil
}

func intervalMillis(s string) (int64, error) {
	m := intervalPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, invalidSpec("metrics.interval %q must look like 500ms, 2s or 1m", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	switch m[2] {
	case "s":
		n *= 1000
	case "m":
		n *= 60_000
	}
	if n <= 0 {
		return 0, invalidSpec("metrics.interval %q must be positive", s)
	}
	if n > math.MaxInt32 {
		return 0, invalidSpec("metrics.interval %q is longer than Triton accepts (at most %dms, about 24 days)", s, math.MaxInt32)
	}
	return n, nil
}

func backendArgs(tc servingv1alpha1.TritonConfig) []string {
	var out []string
	// Python pre/post-processing models sit beside onnx and TensorRT ones:
	// settings a spec gives apply whatever the main backend.
	if usesPythonBackend(tc.BackendType) || tc.PythonBackend != nil {
		size := DefaultShmDefaultByteSize
		var extra []string
		if pb := tc.PythonBackend; pb != nil {
			size = ptr.Deref(pb.ShmDefaultByteSize, size)
			extra = pb.ExtraArgs
		}
		out = append(out, "--backend-config=python,shm-default-byte-size="+strconv.FormatInt(size, 10))
		for _, e := range extra {
			out = append(out, "--backend-config=python,"+e)
		}
	}
	for _, c := range tc.BackendConfigs {
		out = append(out, "--backend-config="+c)
	}
	return out
}
