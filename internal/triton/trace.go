package triton

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Trace sections of --trace-config. Settings without a section prefix are
// global; the others apply to one trace mode.
const (
	traceGlobal        = ""
	traceTriton        = "triton"
	traceOpenTelemetry = "opentelemetry"
)

const traceFormat = "[triton,|opentelemetry,]<setting>=<value>"

// traceSetting is one parsed --trace-config value.
type traceSetting struct {
	section string
	name    string
	value   string
}

// key identifies the setting for duplicate detection.
func (t traceSetting) key() string { return t.section + "," + t.name }

// traceRule says how one setting is validated and whether it accumulates.
type traceRule struct {
	repeatable bool
	check      func(string) error
}

// traceRules lists the settings Triton reads in each section. Triton
// silently ignores any other setting, which hides typos, so they are
// rejected here.
var traceRules = map[string]map[string]traceRule{
	traceGlobal: {
		"mode":  {check: checkTraceMode},
		"level": {repeatable: true, check: checkTraceLevel}, // levels are OR-ed together
		"rate":  {check: intRule(0, math.MaxInt32)},
		"count": {check: intRule(-1, math.MaxInt32)}, // -1 means no limit
	},
	traceTriton: {
		"file":          {check: anyValue},
		"log-frequency": {check: intRule(0, math.MaxInt32)},
	},
	traceOpenTelemetry: {
		"url":                       {check: anyValue},
		"resource":                  {repeatable: true, check: checkTraceResource},
		"bsp_max_queue_size":        {check: intRule(0, math.MaxUint32)},
		"bsp_schedule_delay":        {check: intRule(0, math.MaxUint32)},
		"bsp_max_export_batch_size": {check: intRule(0, math.MaxUint32)},
	},
}

func anyValue(string) error { return nil }

func intRule(lo, hi int64) func(string) error {
	return func(v string) error {
		_, err := parseIntIn(v, lo, hi)
		return err
	}
}

func checkTraceMode(v string) error {
	switch asciiLower(v) {
	case traceTriton, traceOpenTelemetry:
		return nil
	}
	return errors.New("want triton or opentelemetry")
}

// checkTraceResource: an OpenTelemetry resource attribute is key=value.
func checkTraceResource(v string) error {
	_, _, err := splitSetting(v, "<attribute>=<value>")
	return err
}

// parseTraceConfig splits a --trace-config value the way Triton does (the
// section ends at the first comma, the setting at the next '=') and checks
// the setting against the section's rules.
func parseTraceConfig(v string) (traceSetting, error) {
	t, err := splitTraceConfig(v)
	if err != nil {
		return traceSetting{}, err
	}
	rule, ok := traceRules[t.section][t.name]
	if !ok {
		return traceSetting{}, fmt.Errorf("unknown setting %q in the %s section; known: %s",
			t.name, sectionName(t.section), strings.Join(traceSettingNames(t.section), ", "))
	}
	if err := rule.check(t.value); err != nil {
		return traceSetting{}, fmt.Errorf("setting %q in the %s section: %w", t.name, sectionName(t.section), err)
	}
	return t, nil
}

func splitTraceConfig(v string) (traceSetting, error) {
	var t traceSetting
	rest := v
	if mode, after, ok := strings.Cut(v, ","); ok {
		section := asciiLower(mode)
		if section != traceTriton && section != traceOpenTelemetry {
			return t, fmt.Errorf("unknown trace mode %q before ','; want %s", mode, traceFormat)
		}
		t.section, rest = section, after
	}
	name, value, err := splitSetting(rest, traceFormat)
	if err != nil {
		return t, err
	}
	t.name, t.value = name, value
	return t, nil
}

func sectionName(section string) string {
	if section == traceGlobal {
		return "global"
	}
	return section
}

func traceSettingNames(section string) []string {
	names := make([]string, 0, len(traceRules[section]))
	for name := range traceRules[section] {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// traceRepeatable reports whether a setting may be given more than once.
func traceRepeatable(t traceSetting) bool {
	return traceRules[t.section][t.name].repeatable
}
