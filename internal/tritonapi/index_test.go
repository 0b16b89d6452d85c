package tritonapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestIndexValidation(t *testing.T) {
	entries := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"name":"m%d"}`, i)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	tests := []struct {
		name    string
		body    string
		want    []Entry // when valid
		wantErr string  // part of a Malformed error
	}{
		{name: "full", body: `[{"name":"a","version":"1","state":"READY"},{"name":"b","version":"2","state":"UNAVAILABLE","reason":"unloaded"}]`,
			want: []Entry{{"a", "1", StateReady, ""}, {"b", "2", StateUnavailable, "unloaded"}}},
		{name: "name only", body: ` [{"name":"never_loaded"}] `, want: []Entry{{Name: "never_loaded"}}},
		{name: "empty", body: `[]`, want: []Entry{}},
		{name: "unknown fields", body: `[{"name":"a","extra":{"x":[1,2]},"state":"LOADING"}]`, want: []Entry{{Name: "a", State: StateLoading}}},
		{name: "all states", body: `[{"name":"a","state":"UNKNOWN"},{"name":"a","state":"UNLOADING"}]`,
			want: []Entry{{Name: "a", State: StateUnknown}, {Name: "a", State: StateUnloading}}},
		{name: "at the entry limit", body: entries(MaxIndexEntries)},
		{name: "over the entry limit", body: entries(MaxIndexEntries + 1), wantErr: "more than 4096 entries"},
		{name: "empty body", body: ``, wantErr: "not a JSON array"},
		{name: "null", body: `null`, wantErr: "not a JSON array"},
		{name: "object", body: `{"name":"a"}`, wantErr: "not a JSON array"},
		{name: "truncated", body: `[{"name":"a"},`, wantErr: "entry 1"},
		{name: "unterminated", body: `[{"name":"a"}`, wantErr: "invalid JSON"},
		{name: "trailing data", body: `[]x`, wantErr: "after the array"},
		{name: "two arrays", body: `[][]`, wantErr: "after the array"},
		{name: "null entry", body: `[null]`, wantErr: "invalid model name"},
		{name: "string entry", body: `["a"]`, wantErr: "not an object"},
		{name: "numeric name", body: `[{"name":5}]`, wantErr: "not an object"},
		{name: "numeric version", body: `[{"name":"a","version":1}]`, wantErr: "not an object"},
		{name: "path name", body: `[{"name":"../etc"}]`, wantErr: `invalid model name "../etc"`},
		{name: "space name", body: `[{"name":"a b"}]`, wantErr: "invalid model name"},
		{name: "long name", body: `[{"name":"` + strings.Repeat("n", 129) + `"}]`, wantErr: "invalid model name"},
		{name: "control name", body: `[{"name":"a\nb"}]`, wantErr: `invalid model name "a b"`},
		{name: "bad version", body: `[{"name":"a","version":"v1"}]`, wantErr: "invalid version"},
		{name: "long version", body: `[{"name":"a","version":"12345678901234567890"}]`, wantErr: "invalid version"},
		{name: "bad state", body: `[{"name":"a","state":"FOO"}]`, wantErr: `invalid state "FOO"`},
		{name: "lowercase state", body: `[{"name":"a","state":"ready"}]`, wantErr: "invalid state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIndex([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseIndex error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Fatalf("parseIndex = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIndexMalformedThroughClient(t *testing.T) {
	c := clientTo(t, fake(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprint(w, `[{"name":"ok"},{"name":"bad\u0007name`+strings.Repeat("x", 500)+`"}]`)
	}), Options{})
	_, err := c.Index(context.Background(), pod)
	if kindOf(err) != KindMalformed {
		t.Fatalf("Index = %v, want Malformed", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "entry 1") || len(msg) > 200 || strings.Contains(msg, "\a") {
		t.Fatalf("Error() = %q", msg)
	}
}

func TestReasonSanitized(t *testing.T) {
	huge := strings.Repeat("é", 1000)
	body := `[{"name":"a","state":"UNAVAILABLE","reason":"load\nfailed:\t\u001b[0m  \u202eevil\u0000 \u2028x"},` +
		`{"name":"b","state":"UNAVAILABLE","reason":"` + huge + `"}]`
	got, err := parseIndex([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if want := "load failed: [0m evil x"; got[0].Reason != want {
		t.Errorf("reason = %q, want %q", got[0].Reason, want)
	}
	r := got[1].Reason
	if len(r) > MaxReasonBytes || !utf8.ValidString(r) || !strings.HasSuffix(r, "…") {
		t.Errorf("huge reason = %d bytes %q", len(r), r)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"  a \n\n b\t\tc  ", 10, "a b c"},
		{"a\x00b\x7fc\u0085d", 10, "a b c d"},
		{"bad\xff\xfeutf8", 20, "badutf8"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"abc def ghijk", 10, "abc def…"},
		{"ééééé", 9, "ééé…"},
		{"abcdef", 2, "ab"},
		{"abc", 0, ""},
		{"\u200bzero\u200bwidth", 20, "zero width"},
	}
	for _, tt := range tests {
		got := Sanitize(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("Sanitize(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if len(got) > tt.max || !utf8.ValidString(got) {
			t.Errorf("Sanitize(%q, %d) = %q: too long or invalid", tt.in, tt.max, got)
		}
	}
}

func TestValidModelName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"simple", true}, {"densenet_onnx", true}, {"_m", true}, {"9m", true}, {"m.v-1", true},
		{strings.Repeat("m", 128), true}, {strings.Repeat("m", 129), false},
		{"", false}, {".m", false}, {"-m", false}, {"a/b", false}, {"..", false}, {"a b", false},
		{"m\n", false}, {"é", false}, {"m%2f", false}, {"*", false},
	}
	for _, tt := range tests {
		if got := ValidModelName(tt.name); got != tt.want {
			t.Errorf("ValidModelName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestResponseErrorMessage(t *testing.T) {
	e := &ResponseError{Op: "load m", Pod: "10.0.0.7:8000", Kind: KindStatus, Status: 400,
		Detail: "HTTP 400: " + strings.Repeat("x", 2000)}
	msg := e.Error()
	if !strings.HasPrefix(msg, "triton load m on 10.0.0.7:8000: HTTP 400: x") || len(msg) > maxErrorBytes {
		t.Fatalf("Error() = %q", msg)
	}
}
