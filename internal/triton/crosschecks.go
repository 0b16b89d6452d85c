package triton

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Triton's cross-checks between options that the server makes after
// parsing the command line, besides the ones in args.go.
//
// Endpoint ports. Every release from 2.30.0 to 2.71.0 runs the same port
// check before starting (in src/main.cc up to 2.31.0, then as
// TritonServerParameters::CheckPortCollision in src/command_line_parser.cc):
// it lists the enabled endpoints in the order HTTP, GRPC, metrics,
// SageMaker, Vertex AI, each with its address, its port and, for SageMaker
// only, the --sagemaker-safe-port-range. Two endpoints at one address and
// port stop the server, and so does, when SageMaker has a range, another
// endpoint at its address whose port lies outside that range (SageMaker's
// own port need not). A disabled endpoint is not listed, whatever its port.
//
// Triton compares addresses as strings and skips pairs whose addresses
// differ. SageMaker and Vertex AI always bind 0.0.0.0, the default of the
// HTTP and GRPC addresses, and the metrics address follows the HTTP one.
// The address options are managed and the operator keeps every endpoint on
// one address, so this check treats all endpoints as sharing an address; a
// command line that binds endpoints to different addresses is judged more
// strictly than Triton would.
//
// The Vertex AI endpoint reads two environment variables the grammar cannot
// see: AIP_MODE=PREDICTION enables it and disables HTTP and GRPC by default,
// and AIP_HTTP_PORT replaces its default port. The check assumes neither is
// set: the operator sets neither, and a container environment that does is
// beyond a command-line grammar.
//
// Host policies. The parser only splits --host-policy into policy, setting
// and value; the core library (TritonServerOptions::SetHostPolicy in
// triton-inference-server/core, the same on its release branches r23.01 to
// r26.06 and on main) refuses any setting but numa-node and cpu-cores, and
// tritonserver exits. The values are parsed later (the core's
// src/numa_utils.cc, unchanged over the same branches)
// when a model instance starts on that policy, so a bad value fails every
// model load using it instead of the server start: numa-node is one
// integer, the bit of a NUMA node in a one-word node mask, and cpu-cores a
// comma-separated list of <first>-<last> core ranges (a single core is
// written n-n).

// Default ports of the SageMaker and Vertex AI endpoints when their port
// option is absent (Vertex AI: unless AIP_HTTP_PORT is set).
const (
	DefaultSageMakerPort = 8080
	DefaultVertexAIPort  = 8080
)

// endpoint is one listener of Triton's port check.
type endpoint struct {
	allow   string // option that enables it
	port    string // option that sets its port
	def     int    // port when the option is absent
	enabled bool   // whether it listens when allow is absent
}

// allowSageMaker enables the endpoint whose safe port range binds the others.
const allowSageMaker = "allow-sagemaker"

// endpoints are in the order of Triton's check, which reports the later of
// two endpoints on one port.
var endpoints = []endpoint{
	{allow: "allow-http", port: "http-port", def: DefaultHTTPPort, enabled: true},
	{allow: "allow-grpc", port: "grpc-port", def: DefaultGRPCPort, enabled: true},
	{allow: "allow-metrics", port: "metrics-port", def: DefaultMetricsPort, enabled: true},
	{allow: allowSageMaker, port: "sagemaker-port", def: DefaultSageMakerPort},
	{allow: "allow-vertex-ai", port: "vertex-ai-port", def: DefaultVertexAIPort},
}

// listener is an enabled endpoint and the port it listens on.
type listener struct {
	endpoint
	at    int
	given bool // the port option was given, rather than defaulted
}

// describe names the listener's port for a message.
func (l listener) describe() string {
	if l.given {
		return "--" + l.port
	}
	return fmt.Sprintf("--%s (absent, so Triton's default)", l.port)
}

// listeners returns the enabled endpoints with their ports. An endpoint
// whose switch or port has an invalid value is left out: that value was
// already reported, and what Triton would make of it is unknown.
func (st *argState) listeners() []listener {
	var out []listener
	for _, e := range endpoints {
		on := e.enabled
		if st.count[e.allow] > 0 {
			v, ok := st.last[e.allow]
			if !ok {
				continue
			}
			on, _ = ParseBool(v) // a recorded value is a valid boolean
		}
		port, ok := st.port(e.port, e.def)
		if on && ok {
			out = append(out, listener{endpoint: e, at: port, given: st.count[e.port] > 0})
		}
	}
	return out
}

// checkPorts requires the enabled endpoints to listen on distinct ports
// and, when SageMaker is enabled with a safe port range, the other
// endpoints to listen inside it.
func (st *argState) checkPorts() error {
	ls := st.listeners()
	var errs []error
	for i, l := range ls {
		for _, earlier := range ls[:i] {
			if l.at == earlier.at {
				errs = append(errs, fmt.Errorf("option %q: %w: port %d is also used by %s; Triton refuses two enabled endpoints on one port",
					l.port, ErrConflict, l.at, earlier.describe()))
				break
			}
		}
	}
	return errors.Join(append(errs, st.checkSafeRange(ls))...)
}

// checkSafeRange applies --sagemaker-safe-port-range, which only counts
// while SageMaker is enabled.
func (st *argState) checkSafeRange(ls []listener) error {
	const name = "sagemaker-safe-port-range"
	v, ok := st.last[name]
	if !ok {
		return nil // absent, or invalid and already reported
	}
	sagemaker := false
	for _, l := range ls {
		sagemaker = sagemaker || l.allow == allowSageMaker
	}
	if !sagemaker {
		return nil
	}
	low, high, _ := strings.Cut(v, "-")
	lo, _ := strconv.Atoi(low)
	hi, _ := strconv.Atoi(high)
	var errs []error
	for _, l := range ls {
		if l.allow != allowSageMaker && (l.at < lo || l.at > hi) {
			errs = append(errs, fmt.Errorf("option %q: %w: port %d of %s is outside %d-%d, the range SageMaker leaves the other endpoints",
				name, ErrConflict, l.at, l.describe(), lo, hi))
		}
	}
	return errors.Join(errs...)
}

// hostPolicySettings are the settings Triton's core accepts in --host-policy.
var hostPolicySettings = []string{"numa-node", "cpu-cores"}

// maxNUMANode is the highest node a numa-node setting can name: Triton sets
// bit node of a single unsigned long as the node mask.
const maxNUMANode = 63

// checkHostPolicy checks the setting and value of a --host-policy value
// that already has the <policy>,<setting>=<value> shape.
func checkHostPolicy(v string) error {
	_, rest, _ := strings.Cut(v, ",")
	setting, value, _ := strings.Cut(rest, "=")
	switch setting {
	case "numa-node":
		if _, err := parseIntIn(value, 0, maxNUMANode); err != nil {
			return fmt.Errorf("numa-node: %w", err)
		}
		return nil
	case "cpu-cores":
		return checkCPUCores(value)
	}
	return fmt.Errorf("unknown setting %q; Triton knows %s", setting, strings.Join(hostPolicySettings, " and "))
}

// checkCPUCores checks a list of <first>-<last> core ranges, such as
// 0-3,8-11. An empty range would leave the thread no core to run on.
func checkCPUCores(v string) error {
	const format = "cpu-cores is <first>-<last>[,<first>-<last>...]"
	for r := range strings.SplitSeq(v, ",") {
		first, last, ok := strings.Cut(r, "-")
		if !ok {
			return fmt.Errorf("%q is not a range; %s (one core n is n-n)", r, format)
		}
		lo, err := parseIntIn(first, 0, math.MaxInt32)
		if err != nil {
			return fmt.Errorf("cpu-cores: first core: %w", err)
		}
		hi, err := parseIntIn(last, 0, math.MaxInt32)
		if err != nil {
			return fmt.Errorf("cpu-cores: last core: %w", err)
		}
		if lo > hi {
			return fmt.Errorf("cpu-cores: range %q is empty; %s", r, format)
		}
	}
	return nil
}
