package triton

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// managedNames are the options the operator renders from the spec.
var managedNames = []string{
	"model-repository", "model-store", "http-port", "grpc-port", "metrics-port",
	"allow-http", "allow-grpc", "allow-metrics", "allow-gpu-metrics",
	"metrics-interval-ms", "model-control-mode", "repository-poll-secs",
	"load-model", "log-verbose", "log-info", "log-warning", "log-error",
	"log-format", "trace-config", "trace-file", "trace-level", "trace-rate",
	"trace-count", "trace-log-frequency", "exit-on-error", "strict-readiness",
	"backend-config", "http-address", "grpc-address", "metrics-address",
}

func TestEveryManagedNameIsAManagedOption(t *testing.T) {
	for _, name := range managedNames {
		o, ok := Lookup(name)
		if !ok {
			t.Errorf("%s: not in the option table", name)
			continue
		}
		if !o.Managed {
			t.Errorf("%s: not marked Managed", name)
		}
	}
}

func TestNoOtherOptionIsManaged(t *testing.T) {
	for _, o := range Options() {
		if o.Managed && !slices.Contains(managedNames, o.Name) {
			t.Errorf("%s is Managed but not in the operator's list", o.Name)
		}
	}
}

func TestUserSettableHoldsNoManagedOrDeprecatedName(t *testing.T) {
	names := UserSettable()
	if len(names) == 0 {
		t.Fatal("UserSettable is empty")
	}
	if !slices.IsSorted(names) {
		t.Errorf("UserSettable is not sorted: %v", names)
	}
	for _, name := range names {
		o, ok := Lookup(name)
		switch {
		case !ok:
			t.Errorf("%s: not a known option", name)
		case o.Managed:
			t.Errorf("%s: managed, yet user settable", name)
		case o.Deprecated:
			t.Errorf("%s: deprecated, yet user settable", name)
		}
		if err := CheckParameter(name, ""); errors.Is(err, ErrManaged) || errors.Is(err, ErrUnknown) {
			t.Errorf("CheckParameter(%q) refuses the name itself: %v", name, err)
		}
	}
	for _, name := range managedNames {
		if slices.Contains(names, name) {
			t.Errorf("UserSettable contains managed %s", name)
		}
	}
}

func TestOptionsAreSortedUniqueAndDescribed(t *testing.T) {
	opts := Options()
	if len(opts) != len(specs) {
		t.Fatalf("Options returned %d options, table has %d", len(opts), len(specs))
	}
	for i, o := range opts {
		if i > 0 && opts[i-1].Name >= o.Name {
			t.Errorf("%q does not sort strictly after %q", o.Name, opts[i-1].Name)
		}
		if strings.HasPrefix(o.Name, "-") || o.Name == "" {
			t.Errorf("bad option name %q", o.Name)
		}
		if o.Summary == "" {
			t.Errorf("%s has no summary", o.Name)
		}
		if (o.Type == Enum) != (len(o.Enum) > 0) {
			t.Errorf("%s: Enum values must be set exactly for Enum options", o.Name)
		}
	}
}

func TestEveryValueTypeHasANameAndAValidator(t *testing.T) {
	for _, s := range specs {
		if strings.HasPrefix(s.Type.String(), "unknown") {
			t.Errorf("%s: value type %d has no name", s.Name, s.Type)
		}
		if err := checkTyped(s, "x"); err != nil && strings.Contains(err.Error(), "no validator") {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	o, ok := Lookup("model-control-mode")
	if !ok {
		t.Fatal("model-control-mode is missing")
	}
	o.Enum[0] = "changed"
	again, _ := Lookup("model-control-mode")
	if again.Enum[0] != "none" {
		t.Errorf("changing a returned Enum changed the table: %v", again.Enum)
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name   string
		option string
		found  bool
		typ    ValueType
		repeat bool
	}{
		{"A plain integer option is found.", "http-port", true, Int, false},
		{"The trace configuration repeats.", "trace-config", true, TraceSetting, true},
		{"The backend configuration repeats.", "backend-config", true, BackendSetting, true},
		{"The auto-complete switch is a bare flag.", "disable-auto-complete-config", true, Flag, false},
		{"Names are looked up without dashes.", "--http-port", false, 0, false},
		{"Help is not a server option.", "help", false, 0, false},
		{"A made-up option is not found.", "http-portt", false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := Lookup(tt.option)
			if ok != tt.found {
				t.Fatalf("Lookup(%q) found = %v, want %v", tt.option, ok, tt.found)
			}
			if ok && (o.Type != tt.typ || o.Repeatable != tt.repeat) {
				t.Errorf("Lookup(%q) = %v repeatable %v, want %v repeatable %v", tt.option, o.Type, o.Repeatable, tt.typ, tt.repeat)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    bool
		wantErr bool
	}{
		{"True is true.", "true", true, false},
		{"Letter case does not matter.", "TrUe", true, false},
		{"On is true.", "ON", true, false},
		{"One is true.", "1", true, false},
		{"False is false.", "False", false, false},
		{"Off is false.", "off", false, false},
		{"Zero is false.", "0", false, false},
		{"Yes is not a Triton boolean.", "yes", false, true},
		{"Two is not a boolean.", "2", false, true},
		{"The empty string is not a boolean.", "", false, true},
		{"Surrounding spaces are not trimmed.", " true", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBool(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseBool(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseBool(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckParameter(t *testing.T) {
	tests := []struct {
		name    string
		option  string
		value   string
		wantIs  error  // nil means the parameter is accepted
		wantMsg string // a part of the message
	}{
		{"A boolean option accepts on.", "allow-cpu-metrics", "on", nil, ""},
		{"A string option accepts a path.", "log-file", "/var/log/triton.log", nil, ""},
		{"A negative integer is fine where Triton allows one.", "exit-timeout-secs", "-1", nil, ""},
		{"A byte size accepts a large number.", "pinned-memory-pool-byte-size", "268435456", nil, ""},
		{"A case-folded enum accepts upper case.", "rate-limit", "EXECUTION_COUNT", nil, ""},
		{"A float accepts a decimal.", "min-supported-compute-capability", "7.5", nil, ""},
		{"The flag takes an empty value.", "disable-auto-complete-config", "", nil, ""},
		{"A cache setting names its cache.", "cache-config", "local,size=1048576", nil, ""},
		{"A host policy names its policy.", "host-policy", "gpu_0,numa-node=0", nil, ""},
		{"A rate limit resource may name a device.", "rate-limit-resource", "R1:10:0", nil, ""},
		{"A rate limit resource may omit the device.", "rate-limit-resource", "R1:10", nil, ""},
		{"A CUDA pool is device and bytes.", "cuda-memory-pool-byte-size", "0:67108864", nil, ""},
		{"A GPU limit is device and fraction.", "model-load-gpu-limit", "0:0.8", nil, ""},
		{"A metrics setting is key and value.", "metrics-config", "summary_latencies=true", nil, ""},
		{"A restriction lists categories and a header.", "http-restricted-api", "model-repository,trace:admin-key=secret", nil, ""},
		{"A SageMaker port range is low and high.", "sagemaker-safe-port-range", "8080-8090", nil, ""},
		{"The compression level folds case.", "grpc-infer-response-compression-level", "High", nil, ""},
		{"The GRPC thread count accepts its minimum.", "grpc-infer-thread-count", "2", nil, ""},

		{"An unknown option is refused.", "http-portt", "1", ErrUnknown, `"http-portt"`},
		{"Underscores get a did-you-mean hint.", "grpc_use_ssl", "1", ErrUnknown, `did you mean "grpc-use-ssl"`},
		{"Help is refused with the reason.", "help", "", ErrUnknown, "prints the usage"},
		{"Leading dashes are refused.", "--log-file", "/x", ErrMalformed, "without leading dashes"},
		{"A managed option is refused.", "http-port", "9000", ErrManaged, `"http-port"`},
		{"Backend settings are managed.", "backend-config", "python,a=b", ErrManaged, `"backend-config"`},
		{"A deprecated option points to its replacement.", "strict-model-config", "true", ErrDeprecated, `use "disable-auto-complete-config"`},
		{"A legacy trace flag is refused.", "trace-rate", "100", ErrManaged, `"trace-rate"`},
		{"A boolean refuses yes.", "grpc-use-ssl", "yes", ErrInvalidValue, "not a boolean"},
		{"An integer refuses a decimal.", "http-thread-count", "1.5", ErrInvalidValue, "not an integer"},
		{"An integer refuses numbers beyond 32 bits.", "http-thread-count", "4294967296", ErrInvalidValue, "above the maximum"},
		{"A byte size refuses a negative number.", "pinned-memory-pool-byte-size", "-1", ErrInvalidValue, "negative"},
		{"A count refuses a negative number.", "model-load-thread-count", "-4", ErrInvalidValue, "negative"},
		{"The GRPC thread count has a floor of two.", "grpc-infer-thread-count", "1", ErrInvalidValue, "below the minimum 2"},
		{"The GRPC thread count has a ceiling of 128.", "grpc-infer-thread-count", "129", ErrInvalidValue, "above the maximum 128"},
		{"The response pool needs at least one slot.", "grpc-max-response-pool-size", "0", ErrInvalidValue, "below the minimum 1"},
		{"A port above 65535 is refused.", "sagemaker-port", "70000", ErrInvalidValue, "above the maximum 65535"},
		{"An enum refuses other words.", "rate-limit", "on", ErrInvalidValue, "execution_count, off"},
		{"A float refuses NaN.", "min-supported-compute-capability", "NaN", ErrInvalidValue, "finite"},
		{"An empty value is refused.", "log-file", "", ErrInvalidValue, "empty"},
		{"A NUL byte is refused.", "id", "a\x00b", ErrInvalidValue, "NUL"},
		{"The flag refuses a value.", "disable-auto-complete-config", "true", ErrInvalidValue, "takes no value"},
		{"A cache setting needs a cache name.", "cache-config", "size=1", ErrInvalidValue, "no cache name"},
		{"A cache setting needs a value.", "cache-config", "local,size=", ErrInvalidValue, "<cache>,<setting>=<value>"},
		{"A host policy needs a setting.", "host-policy", "gpu_0,numa-node", ErrInvalidValue, "<policy>,<setting>=<value>"},
		{"A metrics setting has no section.", "metrics-config", "x,y=z", ErrInvalidValue, "no section"},
		{"A rate limit resource needs a count.", "rate-limit-resource", "R1", ErrInvalidValue, "<resource>:<count>"},
		{"A rate limit resource has at most three parts.", "rate-limit-resource", "R1:1:2:3", ErrInvalidValue, "<resource>:<count>"},
		{"A rate limit count is an integer.", "rate-limit-resource", "R1:x", ErrInvalidValue, "count"},
		{"A CUDA pool size is not negative.", "cuda-memory-pool-byte-size", "0:-1", ErrInvalidValue, "bytes"},
		{"A CUDA pool needs a device.", "cuda-memory-pool-byte-size", "67108864", ErrInvalidValue, "<device>:<bytes>"},
		{"A GPU limit fraction is at most one.", "model-load-gpu-limit", "0:1.5", ErrInvalidValue, "outside 0..1"},
		{"A restriction names known categories.", "grpc-restricted-protocol", "admin:k=v", ErrInvalidValue, `unknown category "admin"`},
		{"A restriction uses a colon, not a comma.", "http-restricted-api", "health,k=v", ErrInvalidValue, "<category>"},
		{"A restriction lists a category once.", "http-restricted-api", "health,health:k=v", ErrInvalidValue, "listed twice"},
		{"A port range is ordered.", "sagemaker-safe-port-range", "9000-8000", ErrInvalidValue, "above high port"},
		{"A port range has two ends.", "sagemaker-safe-port-range", "8000", ErrInvalidValue, "<low port>-<high port>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckParameter(tt.option, tt.value)
			checkErr(t, err, tt.wantIs, tt.wantMsg)
		})
	}
}

// checkErr asserts that err is nil when wantIs is nil, and otherwise wraps
// wantIs and mentions wantMsg.
func checkErr(t *testing.T, err, wantIs error, wantMsg string) {
	t.Helper()
	if wantIs == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want %v", wantIs)
	}
	if !errors.Is(err, wantIs) {
		t.Errorf("error %q does not wrap %v", err, wantIs)
	}
	if !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("error %q does not mention %q", err, wantMsg)
	}
}
