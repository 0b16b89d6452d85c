package triton

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CheckParameter validates one extra parameter a user asked for, given as a
// name without leading dashes and a value, against the newest release (see
// CheckParameterFor for another one). It fails for an unknown, managed or
// deprecated option, and for a value of the wrong type. A Flag option takes
// an empty value.
func CheckParameter(name, value string) error {
	return CheckParameterFor(Newest(), name, value)
}

// CheckArgs validates a complete tritonserver command line, without the
// binary name, against the newest release (see CheckArgsFor for another
// one). Every argument must be --name=value, except Flag options, which are
// a bare --name. It returns the errors.Join of every violation, or nil.
func CheckArgs(args []string) error {
	return CheckArgsFor(Newest(), args)
}

// argState collects what the cross-option rules need while CheckArgs walks
// the arguments.
type argState struct {
	rel        Release                    // the release whose grammar applies
	count      map[string]int             // occurrences of each option
	last       map[string]string          // last valid value; Triton keeps the last of a single-valued option
	loadModels []string                   // valid --load-model values, in order
	traces     map[string]bool            // trace settings seen, by section and name
	restricted map[string]map[string]bool // categories seen, by option
}

func newArgState(r Release) *argState {
	return &argState{
		rel:        r,
		count:      map[string]int{},
		last:       map[string]string{},
		traces:     map[string]bool{},
		restricted: map[string]map[string]bool{},
	}
}

// add checks one argument on its own and records it.
func (st *argState) add(arg string) error {
	s, value, err := splitArg(st.rel, arg)
	if err != nil {
		return err
	}
	var errs []error
	st.count[s.Name]++
	if st.count[s.Name] == 2 && !s.Repeatable {
		errs = append(errs, fmt.Errorf("option %q: %w; only the last one would take effect", s.Name, ErrRepeated))
	}
	if err := checkValueFor(st.rel, s, value); err != nil {
		return errors.Join(append(errs, err)...)
	}
	st.last[s.Name] = value
	errs = append(errs, st.record(s.Name, value))
	return errors.Join(errs...)
}

// splitArg splits "--name=value" and finds the option as release r parses it.
func splitArg(r Release, arg string) (spec, string, error) {
	body, ok := strings.CutPrefix(arg, "--")
	if !ok {
		return spec{}, "", fmt.Errorf("argument %q: %w: it does not start with --", arg, ErrMalformed)
	}
	name, value, hasValue := strings.Cut(body, "=")
	if name == "" {
		return spec{}, "", fmt.Errorf("argument %q: %w: no option name", arg, ErrMalformed)
	}
	s, err := lookupFor(r, name)
	switch {
	case err != nil:
		return spec{}, "", err
	case s.Type == Flag && hasValue:
		return spec{}, "", invalidValue(name, value, fmt.Errorf("--%s takes no value; pass it alone", name))
	case s.Type != Flag && !hasValue:
		return spec{}, "", fmt.Errorf("argument %q: %w: want --%s=<value>", arg, ErrMalformed, name)
	}
	return s, value, nil
}

// record keeps what later rules need from a valid value and applies the
// rules that look at several occurrences of one option, and the host
// policy rules, which Triton's core applies after parsing.
func (st *argState) record(name, value string) error {
	switch byName[name].Type {
	case TraceSetting:
		return st.recordTrace(value)
	case Restriction:
		return st.recordRestriction(name, value)
	case HostPolicySetting:
		if err := checkHostPolicy(value); err != nil {
			return invalidValue(name, value, err)
		}
		return nil
	}
	if name == "load-model" {
		st.loadModels = append(st.loadModels, value)
	}
	return nil
}

func (st *argState) recordTrace(value string) error {
	t, err := parseTraceConfig(value)
	if err != nil {
		return invalidValue("trace-config", value, err)
	}
	if st.traces[t.key()] && !traceRepeatable(t) {
		return fmt.Errorf("option %q: %w: setting %q of the %s section; only the last one would take effect",
			"trace-config", ErrRepeated, t.name, sectionName(t.section))
	}
	st.traces[t.key()] = true
	return nil
}

// recordRestriction enforces Triton's rule that a category belongs to one
// restriction only.
func (st *argState) recordRestriction(name, value string) error {
	categories, err := parseRestriction(value)
	if err != nil {
		return invalidValue(name, value, err)
	}
	seen := st.restricted[name]
	if seen == nil {
		seen = map[string]bool{}
		st.restricted[name] = seen
	}
	var errs []error
	for _, c := range categories {
		if seen[c] {
			errs = append(errs, fmt.Errorf("option %q: %w: category %q is restricted twice", name, ErrConflict, c))
		}
		seen[c] = true
	}
	return errors.Join(errs...)
}

// finish applies the rules that span several options.
func (st *argState) finish() []error {
	var errs []error
	for _, err := range []error{
		st.checkRepository(),
		st.checkControlMode(),
		st.checkLoadAll(),
		st.checkPorts(),
		st.checkCache(),
	} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (st *argState) checkRepository() error {
	if st.count["model-repository"]+st.count["model-store"] == 0 {
		return fmt.Errorf("option %q: %w: Triton needs at least one model repository", "model-repository", ErrMissing)
	}
	return nil
}

// checkControlMode: Triton refuses --load-model outside explicit mode and
// silently ignores --repository-poll-secs outside poll mode; both mean the
// spec asked for something that will not happen.
func (st *argState) checkControlMode() error {
	mode, ok := st.controlMode()
	if !ok {
		return nil // the invalid mode was already reported
	}
	var errs []error
	if st.count["load-model"] > 0 && mode != "explicit" {
		errs = append(errs, fmt.Errorf("option %q: %w: it needs --model-control-mode=explicit, mode is %q",
			"load-model", ErrConflict, mode))
	}
	if st.count["repository-poll-secs"] > 0 && mode != "poll" {
		errs = append(errs, fmt.Errorf("option %q: %w: it needs --model-control-mode=poll, mode is %q",
			"repository-poll-secs", ErrConflict, mode))
	}
	return errors.Join(errs...)
}

// controlMode returns the effective model control mode, "none" by default;
// ok is false when the mode was given but invalid.
func (st *argState) controlMode() (string, bool) {
	if st.count["model-control-mode"] == 0 {
		return "none", true
	}
	v, ok := st.last["model-control-mode"]
	if !ok {
		return "", false
	}
	return enumMatch(byName["model-control-mode"], v), true
}

// checkLoadAll: '*' loads every model and must be the only --load-model.
func (st *argState) checkLoadAll() error {
	if len(st.loadModels) < 2 {
		return nil
	}
	for _, m := range st.loadModels {
		if m == "*" {
			return fmt.Errorf("option %q: %w: '*' must be the only --load-model", "load-model", ErrConflict)
		}
	}
	return nil
}

// port returns the effective port of an endpoint; ok is false when the
// option was given with an invalid value.
func (st *argState) port(name string, def int) (int, bool) {
	if st.count[name] == 0 {
		return def, true
	}
	v, ok := st.last[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// checkCache mirrors Triton, which refuses the old and new cache options
// together.
func (st *argState) checkCache() error {
	if st.count["response-cache-byte-size"] > 0 && st.count["cache-config"] > 0 {
		return fmt.Errorf("option %q: %w: it cannot be combined with --cache-config",
			"response-cache-byte-size", ErrConflict)
	}
	return nil
}
