package triton

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fields splits a command line written on one line, for readable tables.
func fields(s string) []string { return strings.Fields(s) }

const realistic = "--model-repository=s3://bucket/m --http-port=8000 --grpc-port=8001 --metrics-port=8002 " +
	"--model-control-mode=explicit --load-model=a --load-model=b --log-verbose=1 --log-info=false " +
	"--trace-config=mode=opentelemetry --trace-config=opentelemetry,url=http://c:4318/v1/traces " +
	"--trace-config=level=TIMESTAMPS --trace-config=rate=100 " +
	"--trace-config=opentelemetry,resource=service.name=x " +
	"--backend-config=python,shm-default-byte-size=67108864 --allow-gpu-metrics=false " +
	"--metrics-interval-ms=2000 --exit-on-error=true --strict-readiness=true"

func TestCheckArgsAcceptsValidCommandLines(t *testing.T) {
	tests := []struct {
		name string
		args string
	}{
		{"A realistic explicit-mode command line with OpenTelemetry tracing is valid.", realistic},
		{"A model repository alone is enough.", "--model-repository=/models"},
		{"The older model-store spelling counts as a repository.", "--model-store=/models"},
		{"Several repositories may be given.", "--model-repository=/a --model-repository=/b --model-store=/c"},
		{"Poll mode may set the poll interval.", "--model-repository=/m --model-control-mode=poll --repository-poll-secs=30"},
		{"The mode is compared without regard to case.", "--model-repository=/m --model-control-mode=EXPLICIT --load-model=*"},
		{"The bare auto-complete flag is valid.", "--model-repository=/m --disable-auto-complete-config"},
		{"Custom ports that differ are valid.", "--model-repository=/m --http-port=9000 --grpc-port=9001 --metrics-port=9002"},
		{"A custom HTTP port may take the unused metrics default.", "--model-repository=/m --http-port=8002 --metrics-port=9002"},
		{"Triton-mode trace settings are valid.",
			"--model-repository=/m --trace-config=triton,file=/tmp/t.json --trace-config=triton,log-frequency=50 " +
				"--trace-config=count=-1 --trace-config=level=TIMESTAMPS --trace-config=level=TENSORS"},
		{"OpenTelemetry batch span processor settings are valid.",
			"--model-repository=/m --trace-config=mode=opentelemetry --trace-config=opentelemetry,bsp_max_queue_size=2048 " +
				"--trace-config=opentelemetry,bsp_schedule_delay=5000 --trace-config=opentelemetry,bsp_max_export_batch_size=512"},
		{"A global backend setting is valid.", "--model-repository=/m --backend-config=backend-directory=/b"},
		{"Restrictions on different categories may be split.",
			"--model-repository=/m --http-restricted-api=model-repository:k=v --http-restricted-api=trace,logging:k=v " +
				"--grpc-restricted-protocol=model-repository:k=v"},
		{"Deprecated options are still understood.", "--model-repository=/m --strict-model-config=false --trace-level=TIMESTAMPS --trace-level=TENSORS"},
		{"Log verbosity accepts true.", "--model-repository=/m --log-verbose=true --log-format=ISO8601"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckArgs(fields(tt.args)); err != nil {
				t.Errorf("CheckArgs refused a valid command line:\n%v", err)
			}
		})
	}
}

func TestCheckArgsRejects(t *testing.T) {
	const repo = "--model-repository=/m "
	tests := []struct {
		name    string
		args    string
		wantIs  error
		wantMsg string
	}{
		{"An argument without leading dashes is malformed.", repo + "-http-port=8000", ErrMalformed, "does not start with --"},
		{"A bare word is malformed.", repo + "explicit", ErrMalformed, `"explicit"`},
		{"An option without '=' is malformed.", repo + "--log-file", ErrMalformed, "want --log-file=<value>"},
		{"Dashes with no name are malformed.", repo + "--=x", ErrMalformed, "no option name"},
		{"An unknown option is refused.", repo + "--model-repo=/x", ErrUnknown, `"model-repo"`},
		{"Help is refused.", repo + "--help", ErrUnknown, "prints the usage"},
		{"A flag given a value is refused.", repo + "--disable-auto-complete-config=true", ErrInvalidValue, "takes no value"},
		{"A boolean must be a Triton boolean.", repo + "--allow-http=yes", ErrInvalidValue, `"allow-http"`},
		{"An integer must be an integer.", repo + "--http-thread-count=eight", ErrInvalidValue, "not an integer"},
		{"A non-negative integer must not be negative.", repo + "--metrics-interval-ms=-5", ErrInvalidValue, "negative"},
		{"An enum must be one of its values.", repo + "--log-format=iso8601", ErrInvalidValue, "default, ISO8601"},
		{"A control mode must be known.", repo + "--model-control-mode=manual", ErrInvalidValue, "none, poll, explicit"},
		{"A single-valued option may not repeat.", repo + "--http-port=8000 --http-port=8000", ErrRepeated, `"http-port"`},
		{"A repeated option with a bad value reports both.", repo + "--log-info=true --log-info=maybe", ErrInvalidValue, "not a boolean"},
		{"A trace setting needs a '='.", repo + "--trace-config=rate", ErrInvalidValue, traceFormat},
		{"A trace mode prefix must be known.", repo + "--trace-config=jaeger,url=x", ErrInvalidValue, `unknown trace mode "jaeger"`},
		{"An empty trace mode prefix is refused.", repo + "--trace-config=,rate=1", ErrInvalidValue, "unknown trace mode"},
		{"A global trace setting must be known.", repo + "--trace-config=log-frequency=10", ErrInvalidValue, `unknown setting "log-frequency" in the global section`},
		{"A Triton trace setting must be known.", repo + "--trace-config=triton,url=x", ErrInvalidValue, "in the triton section"},
		{"An OpenTelemetry trace setting must be known.", repo + "--trace-config=opentelemetry,file=x", ErrInvalidValue, "in the opentelemetry section"},
		{"The trace mode must be triton or opentelemetry.", repo + "--trace-config=mode=zipkin", ErrInvalidValue, "want triton or opentelemetry"},
		{"The trace level must be known.", repo + "--trace-config=level=ALL", ErrInvalidValue, "OFF, TIMESTAMPS or TENSORS"},
		{"The trace rate is a non-negative integer.", repo + "--trace-config=rate=-1", ErrInvalidValue, "negative"},
		{"The trace count may not go below -1.", repo + "--trace-config=count=-2", ErrInvalidValue, "below the minimum -1"},
		{"A resource attribute is key=value.", repo + "--trace-config=opentelemetry,resource=x", ErrInvalidValue, "<attribute>=<value>"},
		{"A batch size does not fit in negative numbers.", repo + "--trace-config=opentelemetry,bsp_max_queue_size=-1", ErrInvalidValue, "negative"},
		{"A single-valued trace setting may not repeat.", repo + "--trace-config=rate=1 --trace-config=rate=2", ErrRepeated, `setting "rate"`},
		{"Load-model without a control mode is refused.", repo + "--load-model=a", ErrConflict, "needs --model-control-mode=explicit"},
		{"Load-model in poll mode is refused.", repo + "--model-control-mode=poll --load-model=a", ErrConflict, `mode is "poll"`},
		{"A poll interval outside poll mode is refused.", repo + "--model-control-mode=explicit --repository-poll-secs=5", ErrConflict, "needs --model-control-mode=poll"},
		{"A poll interval with no mode is refused.", repo + "--repository-poll-secs=5", ErrConflict, `mode is "none"`},
		{"Loading everything excludes naming models.", repo + "--model-control-mode=explicit --load-model=* --load-model=a", ErrConflict, "'*' must be the only"},
		{"Two endpoints on one port are refused.", repo + "--http-port=9000 --grpc-port=9000", ErrConflict, "port 9000 is also used by --http-port"},
		{"A port that hits another endpoint's default is refused.", repo + "--metrics-port=8000", ErrConflict, "port 8000"},
		{"Port zero is refused.", repo + "--http-port=0", ErrInvalidValue, "below the minimum 1"},
		{"A port above 65535 is refused.", repo + "--grpc-port=65536", ErrInvalidValue, "above the maximum 65535"},
		{"A backend setting needs a '='.", repo + "--backend-config=python,shm", ErrInvalidValue, "<backend>,<setting>=<value>"},
		{"A backend setting needs a backend name before the comma.", repo + "--backend-config=,a=b", ErrInvalidValue, "empty backend name"},
		{"A global backend setting needs a value.", repo + "--backend-config=a=", ErrInvalidValue, "<setting>=<value>"},
		{"A comma inside a global backend value is refused.", repo + "--backend-config=a=b,c=d", ErrInvalidValue, "contains '='"},
		{"A missing model repository is refused.", "--http-port=8000", ErrMissing, `"model-repository"`},
		{"An empty command line lacks a repository.", "", ErrMissing, "at least one model repository"},
		{"A restricted category may appear in one group only.",
			repo + "--http-restricted-api=health:a=b --http-restricted-api=health,trace:c=d", ErrConflict, `category "health"`},
		{"The old cache size and the cache config exclude each other.",
			repo + "--response-cache-byte-size=1024 --cache-config=local,size=1024", ErrConflict, "--cache-config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, CheckArgs(fields(tt.args)), tt.wantIs, tt.wantMsg)
		})
	}
}

func TestCheckArgsReportsEveryViolation(t *testing.T) {
	args := fields("--http-port=x --grpc-port=8002 --bogus=1 --load-model=a nodash")
	err := CheckArgs(args)
	if err == nil {
		t.Fatal("got no error")
	}
	for _, want := range []error{ErrInvalidValue, ErrConflict, ErrUnknown, ErrMalformed, ErrMissing} {
		if !errors.Is(err, want) {
			t.Errorf("the joined error lacks %v:\n%v", want, err)
		}
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 6 {
		t.Errorf("want 6 separate violations, got:\n%v", err)
	}
}

func TestCheckArgsSkipsRulesThatDependOnAnInvalidValue(t *testing.T) {
	// An invalid mode or port is reported once, not again as a conflict.
	err := CheckArgs(fields("--model-repository=/m --model-control-mode=bad --load-model=a --http-port=x --grpc-port=8000"))
	if err == nil {
		t.Fatal("got no error")
	}
	if errors.Is(err, ErrConflict) {
		t.Errorf("a conflict was derived from an invalid value:\n%v", err)
	}
}

func FuzzCheckArgs(f *testing.F) {
	f.Add(strings.ReplaceAll(realistic, " ", "\n"))
	f.Add("--model-repository=/m\n--trace-config=opentelemetry,resource=a=b")
	f.Add("--http-restricted-api=health,,:=\n--backend-config=,=")
	f.Add("--\n--=\n-\n=\n--rate-limit-resource=::\n--sagemaker-safe-port-range=-")
	f.Add("--cuda-memory-pool-byte-size=:\n--model-load-gpu-limit=0:nan\n--log-verbose=TRUE")
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\n")
		_ = CheckArgs(args)
		for _, a := range args {
			name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			_ = CheckParameter(name, value)
		}
	})
}

// FuzzCheckParameter: the validator of user parameters never panics, gives
// the same verdict twice, and a parameter it accepts is accepted by the
// command-line check once rendered (bare for a Flag, name=value otherwise).
func FuzzCheckParameter(f *testing.F) {
	f.Add("log-verbose", "1")
	f.Add("model-repository", "/m")
	f.Add("strict-model-config", "true")
	f.Add("rate-limit", "execution_count")
	f.Add("cuda-memory-pool-byte-size", "0:1024")
	f.Add("--id", "x")
	f.Fuzz(func(t *testing.T, name, value string) {
		first := CheckParameter(name, value)
		if fmt.Sprint(first) != fmt.Sprint(CheckParameter(name, value)) {
			t.Fatalf("two verdicts for %q=%q", name, value)
		}
		if first != nil {
			return
		}
		opt, ok := Lookup(name)
		if !ok {
			t.Fatalf("accepted %q, which the grammar does not know", name)
		}
		arg := "--" + name + "=" + value
		if opt.Type == Flag {
			arg = "--" + name
		}
		if err := CheckArgs([]string{"--model-repository=/models", arg}); err != nil {
			t.Fatalf("accepted %q=%q but its argument %q is refused: %v", name, value, arg, err)
		}
	})
}
