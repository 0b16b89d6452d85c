package tritonapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Model states of Triton's repository index.
const (
	StateUnknown     = "UNKNOWN"
	StateReady       = "READY"
	StateUnavailable = "UNAVAILABLE"
	StateLoading     = "LOADING"
	StateUnloading   = "UNLOADING"
)

// Limits applied to what a Triton pod answers.
const (
	// MaxReasonBytes bounds a model's reason and an error text.
	MaxReasonBytes = 256
	// MaxIndexEntries bounds the entries of a repository index.
	MaxIndexEntries = 4096
	// MaxModelNameBytes bounds a model name.
	MaxModelNameBytes = 128
	maxVersionDigits  = 19
)

// Entry is one model (version) of a pod's repository index. A model in the
// repository that was never loaded has a Name only.
type Entry struct {
	Name    string
	Version string
	State   string
	Reason  string
}

// ValidModelName reports whether name matches ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$.
func ValidModelName(name string) bool {
	if name == "" || len(name) > MaxModelNameBytes {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidState reports whether s is one of Triton's five model states.
func ValidState(s string) bool {
	switch s {
	case StateUnknown, StateReady, StateUnavailable, StateLoading, StateUnloading:
		return true
	}
	return false
}

func validVersion(v string) bool {
	if v == "" {
		return true
	}
	if len(v) > maxVersionDigits {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// Sanitize makes untrusted text fit for a one-line message of at most max
// bytes: invalid UTF-8 is dropped, control and format characters become
// spaces, runs of white space collapse into one space, the ends are trimmed,
// and a longer text is cut on a rune boundary and ends with "…".
func Sanitize(s string, maxBytes int) string {
	if maxBytes <= 0 {
		return ""
	}
	var b strings.Builder
	space := false
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		if b.Len() > maxBytes+utf8.UTFMax { // enough to know it is cut
			break
		}
	}
	return truncate(b.String(), maxBytes)
}

const ellipsis = "…"

func truncate(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	keep := maxBytes - len(ellipsis)
	suffix := ellipsis
	if keep < 0 {
		keep, suffix = maxBytes, ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return strings.TrimRight(s[:keep], " ") + suffix
}

// rawEntry is an index entry as Triton sends it; unknown fields are ignored.
type rawEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
}

// parseIndex validates an untrusted repository index body. The returned
// error is the detail of a KindMalformed ResponseError.
func parseIndex(body []byte) ([]Entry, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, fmt.Errorf("not a JSON array")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if _, err := dec.Token(); err != nil { // '['
		return nil, fmt.Errorf("invalid JSON")
	}
	var out []Entry
	for dec.More() {
		if len(out) == MaxIndexEntries {
			return nil, fmt.Errorf("more than %d entries", MaxIndexEntries)
		}
		var r rawEntry
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("entry %d: not an object of strings", len(out))
		}
		e, err := checkEntry(r)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", len(out), err)
		}
		out = append(out, e)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, fmt.Errorf("invalid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the array")
	}
	if out == nil {
		out = []Entry{}
	}
	return out, nil
}

func checkEntry(r rawEntry) (Entry, error) {
	if !ValidModelName(r.Name) {
		return Entry{}, fmt.Errorf("invalid model name %q", Sanitize(r.Name, 64))
	}
	if !validVersion(r.Version) {
		return Entry{}, fmt.Errorf("model %s: invalid version %q", r.Name, Sanitize(r.Version, 32))
	}
	if r.State != "" && !ValidState(r.State) {
		return Entry{}, fmt.Errorf("model %s: invalid state %q", r.Name, Sanitize(r.State, 32))
	}
	return Entry{Name: r.Name, Version: r.Version, State: r.State, Reason: Sanitize(r.Reason, MaxReasonBytes)}, nil
}

// errorText extracts Triton's {"error": "..."} from an error answer,
// sanitized; "" when the body is not such an object.
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return Sanitize(e.Error, MaxReasonBytes)
}
