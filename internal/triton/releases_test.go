package triton

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"
)

func mustVersion(t *testing.T, v string) Release {
	t.Helper()
	r, ok := ReleaseByVersion(v)
	if !ok {
		t.Fatalf("release %s is not in the table", v)
	}
	return r
}

func TestReleaseTable(t *testing.T) {
	commit := regexp.MustCompile(`^[0-9a-f]{40}$`)
	ngc := regexp.MustCompile(`^[0-9]{2}\.(0[1-9]|1[0-2])$`)
	all := Releases()
	if len(all) == 0 || all[0].Version != "2.30.0" || all[0].NGC != "23.01" {
		t.Fatalf("the table must start at Triton 2.30.0 (NGC 23.01), starts with %v", all[:min(1, len(all))])
	}
	for i, r := range all {
		if !commit.MatchString(r.Commit) {
			t.Errorf("%v: commit %q is not 40 hex digits", r, r.Commit)
		}
		if !ngc.MatchString(r.NGC) {
			t.Errorf("%v: NGC release %q is not YY.MM", r, r.NGC)
		}
		if r.Minor() < 0 {
			t.Errorf("%v: version is not 2.<minor>.<patch>", r)
		}
		if i > 0 && (all[i-1].NGC >= r.NGC || !all[i-1].before(r.Version)) {
			t.Errorf("%v does not come strictly after %v", r, all[i-1])
		}
	}
	if Newest() != all[len(all)-1] {
		t.Errorf("Newest() = %v, the last release is %v", Newest(), all[len(all)-1])
	}
}

func TestFindingReleases(t *testing.T) {
	all := Releases()
	for _, r := range all {
		if got, ok := ReleaseByNGC(r.NGC); !ok || got != r {
			t.Errorf("ReleaseByNGC(%q) = %v, %v", r.NGC, got, ok)
		}
		if got, ok := ReleaseByVersion(r.Version); !ok || got != r {
			t.Errorf("ReleaseByVersion(%q) = %v, %v", r.Version, got, ok)
		}
	}
	all[0].Version = "changed"
	if Releases()[0].Version != "2.30.0" {
		t.Error("Releases returned the table itself, not a copy")
	}
	if r := mustVersion(t, "2.53.0"); r.NGC != "24.12" || r.Minor() != 53 {
		t.Errorf("2.53.0 is NGC 24.12 with minor 53, got %v minor %d", r, r.Minor())
	}
	if r, ok := ReleaseByNGC("25.07"); !ok || r.Version != "2.59.1" {
		t.Errorf("NGC 25.07 is the patch release 2.59.1, got %v %v", r, ok)
	}
	if _, ok := ReleaseByNGC("22.12"); ok {
		t.Error("NGC 22.12 predates the table")
	}
}

func TestEveryOptionHasASpan(t *testing.T) {
	for _, s := range specs {
		since, until, ok := OptionSpan(s.Name)
		if !ok || since.Commit == "" {
			t.Errorf("option %q has no span in the release table", s.Name)
			continue
		}
		if until != (Release{}) && until.Commit == "" {
			t.Errorf("option %q ends at a release not in the table: %v", s.Name, until)
		}
		if !since.Supports(s.Name) || (until == Release{} && !Newest().Supports(s.Name)) {
			t.Errorf("option %q is not supported inside its own span", s.Name)
		}
	}
	for name := range optionSpans {
		if _, ok := byName[name]; !ok && notServerOptions[name] == "" {
			t.Errorf("the parser declares %q, which is neither in specs nor in notServerOptions", name)
		}
	}
	if _, _, ok := OptionSpan("no-such-option"); ok {
		t.Error("an unknown option has a span")
	}
}

func TestGRPCPoolOptionsNeedTheirRelease(t *testing.T) {
	tests := []struct {
		option, value, since, sinceNGC string
	}{
		{"grpc-infer-thread-count", "4", "2.57.0", "25.04"},
		{"grpc-max-response-pool-size", "8", "2.56.0", "25.03"},
	}
	old, ok := ReleaseByNGC("24.12")
	if !ok || old.Version != "2.53.0" {
		t.Fatalf("NGC 24.12 must be Triton 2.53.0, got %v", old)
	}
	for _, tt := range tests {
		t.Run(tt.option, func(t *testing.T) {
			want := fmt.Sprintf("option %q: not accepted by Triton 2.53.0 (NGC 24.12): added in %s (NGC %s)",
				tt.option, tt.since, tt.sinceNGC)
			err := CheckParameterFor(old, tt.option, tt.value)
			if !errors.Is(err, ErrUnsupported) || err.Error() != want {
				t.Errorf("CheckParameterFor(2.53.0) = %v, want %q wrapping ErrUnsupported", err, want)
			}
			checkErr(t, CheckArgsFor(old, fields("--model-repository=/m --"+tt.option+"="+tt.value)), ErrUnsupported, want)
			since, until, _ := OptionSpan(tt.option)
			if since.Version != tt.since || since.NGC != tt.sinceNGC || until != (Release{}) {
				t.Fatalf("OptionSpan = %v .. %v, want %s (NGC %s) .. newest", since, until, tt.since, tt.sinceNGC)
			}
			if err := CheckParameterFor(since, tt.option, tt.value); err != nil {
				t.Errorf("refused by the release that added it: %v", err)
			}
			if err := CheckArgsFor(since, fields("--model-repository=/m --"+tt.option+"="+tt.value)); err != nil {
				t.Errorf("command line refused by the release that added it: %v", err)
			}
			all := Releases()
			if before := all[slices.Index(all, since)-1]; before.Supports(tt.option) {
				t.Errorf("%v, the release before %v, supports it", before, since)
			}
		})
	}
}

// TestOptionsNewerThan2340 lists what the parser at v2.34.0 (NGC 23.05)
// does not declare but the newest release does.
func TestOptionsNewerThan2340(t *testing.T) {
	samples := map[string]string{
		"cuda-virtual-address-size":     "0:1073741824",
		"http-restricted-api":           "health:k=v",
		"grpc-max-connection-age":       "60000",
		"grpc-max-connection-age-grace": "5000",
		"model-load-retry-count":        "2",
		"model-config-name":             "h100",
		"enable-peer-access":            "false",
		"grpc-max-response-pool-size":   "8",
		"grpc-infer-thread-count":       "4",
		"http-max-input-size":           "1048576",
		"allow-client-shm":              "true",
	}
	old := mustVersion(t, "2.34.0")
	var newer []string
	for name := range optionSpans {
		if Newest().Supports(name) && !old.Supports(name) {
			newer = append(newer, name)
		}
	}
	slices.Sort(newer)
	want := make([]string, 0, len(samples))
	for name := range samples {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(newer, want) {
		t.Fatalf("options newer than 2.34.0: %v, want %v", newer, want)
	}
	for _, name := range newer {
		line := fields("--model-repository=/m --" + name + "=" + samples[name])
		if err := CheckArgsFor(Newest(), line); err != nil {
			t.Errorf("%s: refused by the newest release: %v", name, err)
		}
		checkErr(t, CheckArgsFor(old, line), ErrUnsupported, "not accepted by Triton 2.34.0 (NGC 23.05): added in")
		checkErr(t, CheckParameterFor(old, name, samples[name]), ErrUnsupported, fmt.Sprintf("option %q", name))
	}
}

func TestValueRulesDifferBetweenReleases(t *testing.T) {
	const repo = "--model-repository=/m "
	tests := []struct {
		name, version, args string
		wantIs              error
		wantMsg             string
	}{
		{"Before 2.40.0 a reuse-port option is an integer.", "2.39.0", repo + "--reuse-http-port=true", ErrInvalidValue, "parses it as int"},
		{"Both reuse-port options changed in 2.40.0.", "2.39.0", repo + "--reuse-grpc-port=false", ErrInvalidValue, `option "reuse-grpc-port"`},
		{"An integer reuse-port value works before 2.40.0.", "2.39.0", repo + "--reuse-grpc-port=1", nil, ""},
		{"A boolean reuse-port value works from 2.40.0.", "2.40.0", repo + "--reuse-http-port=true --reuse-grpc-port=off", nil, ""},
		{"2.40.0 refuses a number for a boolean reuse-port.", "2.40.0", repo + "--reuse-grpc-port=5", ErrInvalidValue, "not a boolean"},
		{"trace-config came in 2.33.0.", "2.32.0", repo + "--trace-config=rate=10", ErrUnsupported, "added in 2.33.0 (NGC 23.04)"},
		{"The deprecated trace options work before that.", "2.32.0", repo + "--trace-file=/tmp/t --trace-rate=10", nil, ""},
		{"The OpenTelemetry URL works from 2.33.0.", "2.33.0", repo + "--trace-config=mode=opentelemetry --trace-config=opentelemetry,url=h:4318", nil, ""},
		{"Resource attributes came in 2.37.0.", "2.36.0", repo + "--trace-config=opentelemetry,resource=a=b", ErrUnsupported,
			`setting "resource" of the opentelemetry section: not accepted by Triton 2.36.0 (NGC 23.07): added in 2.37.0 (NGC 23.08)`},
		{"Resource attributes work from 2.37.0.", "2.37.0", repo + "--trace-config=opentelemetry,resource=a=b", nil, ""},
		{"Batch span processor settings came in 2.43.0.", "2.42.0", repo + "--trace-config=OpenTelemetry,bsp_max_queue_size=10",
			ErrUnsupported, "added in 2.43.0 (NGC 24.02)"},
		{"Batch span processor settings work from 2.43.0.", "2.43.0", repo + "--trace-config=opentelemetry,bsp_schedule_delay=10", nil, ""},
		{"The cache settings came in 2.32.0.", "2.31.0", repo + "--cache-config=local,size=1", ErrUnsupported, "added in 2.32.0"},
		{"metrics-address came in 2.34.0.", "2.33.0", repo + "--metrics-address=0.0.0.0", ErrUnsupported, `option "metrics-address"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, CheckArgsFor(mustVersion(t, tt.version), fields(tt.args)), tt.wantIs, tt.wantMsg)
		})
	}
}

func TestDeprecatedOnlyOnceReplaced(t *testing.T) {
	if err := CheckParameterFor(mustVersion(t, "2.31.0"), "response-cache-byte-size", "1024"); err != nil {
		t.Errorf("2.31.0 has no cache-config, so its cache size option is not deprecated: %v", err)
	}
	checkErr(t, CheckParameterFor(mustVersion(t, "2.32.0"), "response-cache-byte-size", "1024"), ErrDeprecated, `"cache-config"`)
	checkErr(t, CheckParameterFor(mustVersion(t, "2.31.0"), "reuse-http-port", "true"), ErrInvalidValue, "(bool from 2.40.0 (NGC 23.11))")
}

func TestUnknownReleasesAcceptNothing(t *testing.T) {
	for _, r := range []Release{{}, {Version: "2.29.0", NGC: "22.12"}, {Version: "2.99.0"}, {Version: "2.53.0", NGC: "25.01"}} {
		if r.Supports("model-repository") {
			t.Errorf("%v supports an option", r)
		}
		checkErr(t, CheckArgsFor(r, fields("--model-repository=/m")), ErrUnsupported, "is not in the table")
		checkErr(t, CheckParameterFor(r, "id", "x"), ErrUnsupported, "2.30.0 (NGC 23.01) to "+Newest().Version)
	}
	if err := CheckParameterFor(Release{Version: "2.53.0"}, "id", "x"); err != nil {
		t.Errorf("a release given by version alone is in the table: %v", err)
	}
	checkErr(t, CheckParameterFor(Release{Version: "2.53.0"}, "grpc-infer-thread-count", "4"), ErrUnsupported, "Triton 2.53.0 (NGC 24.12)")
}

// TestNewestAgreesWithCheckArgs runs command lines of args_test.go through
// both entry points.
func TestNewestAgreesWithCheckArgs(t *testing.T) {
	const repo = "--model-repository=/m "
	lines := []string{
		realistic, "", "--model-store=/models", repo + "--disable-auto-complete-config",
		repo + "--model-control-mode=EXPLICIT --load-model=*", repo + "--http-port=9000 --grpc-port=9000",
		repo + "-http-port=8000", repo + "--log-file", repo + "--model-repo=/x", repo + "--help",
		repo + "--trace-config=opentelemetry,bsp_max_queue_size=-1", repo + "--trace-config=rate=1 --trace-config=rate=2",
		repo + "--grpc-infer-thread-count=1", repo + "--grpc-infer-thread-count=128 --grpc-max-response-pool-size=1",
		repo + "--http-restricted-api=health:a=b --http-restricted-api=health,trace:c=d",
		repo + "--response-cache-byte-size=1024 --cache-config=local,size=1024", repo + "--log-format=iso8601",
		repo + "--http-max-input-size=0 --allow-client-shm=maybe", repo + "--load-model=a --repository-poll-secs=5",
	}
	sentinels := []error{ErrMalformed, ErrUnknown, ErrManaged, ErrDeprecated, ErrInvalidValue, ErrRepeated,
		ErrConflict, ErrMissing, ErrUnsupported}
	for _, line := range lines {
		want, got := CheckArgs(fields(line)), CheckArgsFor(Newest(), fields(line))
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%q:\nCheckArgs:    %v\nCheckArgsFor: %v", line, want, got)
		}
		for _, s := range sentinels {
			if errors.Is(want, s) != errors.Is(got, s) {
				t.Errorf("%q: the two disagree on %v", line, s)
			}
		}
	}
	for _, p := range [][2]string{{"grpc-infer-thread-count", "129"}, {"id", "x"}, {"log-file", ""}, {"trace-rate", "1"}} {
		want, got := CheckParameter(p[0], p[1]), CheckParameterFor(Newest(), p[0], p[1])
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%s=%s: CheckParameter %v, CheckParameterFor %v", p[0], p[1], want, got)
		}
	}
}
