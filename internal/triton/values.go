package triton

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// restrictedCategories are the API groups --http-restricted-api and
// --grpc-restricted-protocol may name; Triton compares them case-sensitively.
var restrictedCategories = []string{
	"health", "metadata", "inference", "shared-memory", "model-config",
	"model-repository", "statistics", "trace", "logging",
}

// traceLevels are the spellings Triton accepts for a trace level, compared
// after lower-casing. OFF, TIMESTAMPS and TENSORS are the documented ones.
var traceLevels = []string{spellOff, spellFalse, spellTrue, spellOn, "min", "max", "timestamps", "tensors"}

// Boolean spellings shared by ParseBool and the trace levels.
const (
	spellTrue  = "true"
	spellFalse = "false"
	spellOn    = "on"
	spellOff   = "off"
)

// ParseBool parses a boolean the way Triton does: true/on/1 and
// false/off/0, in any letter case.
func ParseBool(s string) (bool, error) {
	switch asciiLower(s) {
	case spellTrue, spellOn, "1":
		return true, nil
	case spellFalse, spellOff, "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use true/false, on/off or 1/0", s)
}

// asciiLower lower-cases ASCII letters only, like the std::tolower calls in
// Triton, so that no Unicode folding accepts a spelling Triton would refuse.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// checkValue reports why value is not acceptable for the option, if it is not.
func checkValue(s spec, value string) error {
	if err := checkRaw(s, value); err != nil {
		return invalidValue(s.Name, value, err)
	}
	if err := checkTyped(s, value); err != nil {
		return invalidValue(s.Name, value, err)
	}
	return nil
}

// checkRaw applies the rules every value shares.
func checkRaw(s spec, value string) error {
	if s.Type == Flag {
		if value != "" {
			return fmt.Errorf("--%s takes no value; pass it alone", s.Name)
		}
		return nil
	}
	if value == "" {
		// Triton would accept some empty strings, but an empty value in a
		// rendered command line is always a mistake; leave the option out.
		return errors.New("value is empty; omit the option instead")
	}
	if strings.IndexByte(value, 0) >= 0 {
		// argv strings end at NUL, so Triton would see a truncated value.
		return errors.New("value contains a NUL byte")
	}
	return nil
}

func checkTyped(s spec, v string) error {
	switch s.Type {
	case Bool:
		_, err := ParseBool(v)
		return err
	case Int, Uint:
		return checkInt(s, v)
	case IntOrBool:
		return checkIntOrBool(s, v)
	case Float:
		_, err := parseFinite(v)
		return err
	case Enum:
		return checkEnum(s, v)
	case String, Flag:
		return nil
	}
	return checkStructured(s.Type, v)
}

// checkStructured handles the values that have an inner grammar.
func checkStructured(t ValueType, v string) error {
	switch t {
	case TraceSetting:
		_, err := parseTraceConfig(v)
		return err
	case BackendSetting:
		return checkBackendSetting(v)
	case Restriction:
		_, err := parseRestriction(v)
		return err
	case MetricsSetting:
		return checkMetricsSetting(v)
	case CacheSetting:
		return checkNamedSetting(v, "cache")
	case HostPolicySetting:
		if err := checkNamedSetting(v, "policy"); err != nil {
			return err
		}
		return checkHostPolicy(v)
	case RateLimitResource:
		return checkRateLimitResource(v)
	case DeviceBytes:
		return checkDeviceBytes(v)
	case DeviceFraction:
		return checkDeviceFraction(v)
	case PortRange:
		return checkPortRange(v)
	case TraceLevel:
		return checkTraceLevel(v)
	}
	return fmt.Errorf("no validator for value type %v", t)
}

// bounds returns the inclusive range of an integer option: its own range
// when it has one, otherwise what Triton's parser can represent.
func bounds(s spec) (lo, hi int64) {
	switch {
	case s.bounded:
		return s.lo, s.hi
	case s.Type == Uint:
		return 0, math.MaxInt64
	}
	return math.MinInt32, math.MaxInt32
}

func checkInt(s spec, v string) error {
	lo, hi := bounds(s)
	_, err := parseIntIn(v, lo, hi)
	return err
}

// checkIntOrBool mirrors Triton's log-verbose parsing: true and false (any
// case) stand for 1 and 0, on/off are not accepted.
func checkIntOrBool(s spec, v string) error {
	switch asciiLower(v) {
	case "true", "false":
		return nil
	}
	if err := checkInt(s, v); err != nil {
		return fmt.Errorf("%w (true and false are also accepted)", err)
	}
	return nil
}

// parseIntIn parses a base-10 integer and checks it against [lo, hi].
func parseIntIn(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is out of range", v)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	if n < lo || n > hi {
		return 0, rangeError(n, lo, hi)
	}
	return n, nil
}

func rangeError(n, lo, hi int64) error {
	switch {
	case n < lo && lo == 0:
		return fmt.Errorf("%d is negative", n)
	case n < lo:
		return fmt.Errorf("%d is below the minimum %d", n, lo)
	}
	return fmt.Errorf("%d is above the maximum %d", n, hi)
}

func parseFinite(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a finite number", v)
	}
	return f, nil
}

func checkEnum(s spec, v string) error {
	if enumMatch(s, v) != "" {
		return nil
	}
	if s.foldCase {
		return fmt.Errorf("want one of %s (any letter case)", strings.Join(s.Enum, ", "))
	}
	return fmt.Errorf("want one of %s (exact spelling)", strings.Join(s.Enum, ", "))
}

// enumMatch returns the canonical spelling v stands for, or "".
func enumMatch(s spec, v string) string {
	for _, e := range s.Enum {
		if v == e || (s.foldCase && asciiLower(v) == asciiLower(e)) {
			return e
		}
	}
	return ""
}

// splitSetting splits "<setting>=<value>" at the first '=' and requires both
// parts, as Triton does for every key=value style option.
func splitSetting(v, format string) (setting, value string, err error) {
	setting, value, ok := strings.Cut(v, "=")
	if !ok || setting == "" || value == "" {
		return "", "", fmt.Errorf("want %s", format)
	}
	return setting, value, nil
}

// checkBackendSetting follows Triton: the backend name ends at the first
// comma anywhere in the value, and without a comma the setting is global.
func checkBackendSetting(v string) error {
	const format = "<backend>,<setting>=<value> or <setting>=<value>"
	name, rest, hasName := strings.Cut(v, ",")
	if !hasName {
		_, _, err := splitSetting(v, format)
		return err
	}
	if err := checkSectionName(name, "backend", format); err != nil {
		return err
	}
	_, _, err := splitSetting(rest, format)
	return err
}

// checkNamedSetting checks "<name>,<setting>=<value>" where the name is
// required (cache-config and host-policy).
func checkNamedSetting(v, what string) error {
	format := "<" + what + ">,<setting>=<value>"
	name, rest, ok := strings.Cut(v, ",")
	if !ok {
		return fmt.Errorf("no %s name; want %s", what, format)
	}
	if err := checkSectionName(name, what, format); err != nil {
		return err
	}
	_, _, err := splitSetting(rest, format)
	return err
}

// checkSectionName rejects an empty name, and a name holding '=': Triton
// would accept "a=b,c=d" as setting c of a backend called "a=b", which is
// never what was meant.
func checkSectionName(name, what, format string) error {
	if name == "" {
		return fmt.Errorf("empty %s name; want %s", what, format)
	}
	if strings.Contains(name, "=") {
		return fmt.Errorf("%s name %q contains '='; a comma inside a value is not supported", what, name)
	}
	return nil
}

// checkMetricsSetting: Triton supports no per-name metrics settings, so a
// comma before the '=' is refused.
func checkMetricsSetting(v string) error {
	setting, _, err := splitSetting(v, "<setting>=<value>")
	if err != nil {
		return err
	}
	if strings.Contains(setting, ",") {
		return errors.New("no section is supported; want <setting>=<value>")
	}
	return nil
}

// parseRestriction parses "<category>[,<category>...]:<header>=<value>" and
// returns the categories.
func parseRestriction(v string) ([]string, error) {
	const format = "<category>[,<category>...]:<header>=<value>"
	list, rest, ok := strings.Cut(v, ":")
	if !ok || list == "" {
		return nil, fmt.Errorf("want %s", format)
	}
	if _, _, err := splitSetting(rest, format); err != nil {
		return nil, err
	}
	categories := strings.Split(list, ",")
	for i, c := range categories {
		if !slices.Contains(restrictedCategories, c) {
			return nil, fmt.Errorf("unknown category %q; known: %s", c, strings.Join(restrictedCategories, ", "))
		}
		if slices.Contains(categories[:i], c) {
			return nil, fmt.Errorf("category %q listed twice", c)
		}
	}
	return categories, nil
}

// checkRateLimitResource checks "<resource>:<count>[:<device>]".
func checkRateLimitResource(v string) error {
	const format = "<resource>:<count> or <resource>:<count>:<device>"
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return fmt.Errorf("want %s", format)
	}
	if _, err := parseIntIn(parts[1], 0, math.MaxInt32); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	if len(parts) == 3 {
		if _, err := parseIntIn(parts[2], 0, math.MaxInt32); err != nil {
			return fmt.Errorf("device: %w", err)
		}
	}
	return nil
}

// splitDevice splits "<device>:<rest>" at the first ':' and checks the id.
func splitDevice(v, format string) (string, error) {
	device, rest, ok := strings.Cut(v, ":")
	if !ok {
		return "", fmt.Errorf("want %s", format)
	}
	if _, err := parseIntIn(device, 0, math.MaxInt32); err != nil {
		return "", fmt.Errorf("device: %w", err)
	}
	return rest, nil
}

func checkDeviceBytes(v string) error {
	rest, err := splitDevice(v, "<device>:<bytes>")
	if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(rest, 10, 64); err != nil {
		return fmt.Errorf("bytes: %q is not a non-negative integer", rest)
	}
	return nil
}

func checkDeviceFraction(v string) error {
	rest, err := splitDevice(v, "<device>:<fraction>")
	if err != nil {
		return err
	}
	f, err := parseFinite(rest)
	if err != nil {
		return fmt.Errorf("fraction: %w", err)
	}
	if f < 0 || f > 1 {
		return fmt.Errorf("fraction %v is outside 0..1", f)
	}
	return nil
}

func checkPortRange(v string) error {
	low, high, ok := strings.Cut(v, "-")
	if !ok {
		return errors.New("want <low port>-<high port>")
	}
	lo, err := parseIntIn(low, 1, maxPort)
	if err != nil {
		return fmt.Errorf("low port: %w", err)
	}
	hi, err := parseIntIn(high, 1, maxPort)
	if err != nil {
		return fmt.Errorf("high port: %w", err)
	}
	if lo > hi {
		return fmt.Errorf("low port %d is above high port %d", lo, hi)
	}
	return nil
}

func checkTraceLevel(v string) error {
	if slices.Contains(traceLevels, asciiLower(v)) {
		return nil
	}
	return errors.New("want OFF, TIMESTAMPS or TENSORS")
}
