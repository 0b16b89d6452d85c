package triton

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Release is one Triton Inference Server release: its version ("2.53.0"),
// the NGC container release that ships it ("24.12") and the commit of its
// git tag in github.com/triton-inference-server/server.
type Release struct{ Version, NGC, Commit string }

// span is the releases that accept an option, by version: since is the
// first, until the last ("" while the newest release still accepts it).
type span struct{ since, until string }

// Releases returns every release in the table, oldest first.
func Releases() []Release { return slices.Clone(releaseList) }

// Newest returns the newest release in the table.
func Newest() Release { return releaseList[len(releaseList)-1] }

// ReleaseByNGC finds a release by its NGC container release, e.g. "24.12".
func ReleaseByNGC(ngc string) (Release, bool) {
	return find(func(r Release) bool { return r.NGC == ngc })
}

// ReleaseByVersion finds a release by its Triton version, e.g. "2.53.0".
func ReleaseByVersion(v string) (Release, bool) {
	return find(func(r Release) bool { return r.Version == v })
}

func find(match func(Release) bool) (Release, bool) {
	if i := slices.IndexFunc(releaseList, match); i >= 0 {
		return releaseList[i], true
	}
	return Release{}, false
}

// Minor returns the minor version, 53 for 2.53.0, or -1 when the version is
// not of the form 2.<minor>.<patch>. With the patch number it orders
// releases (2.59.0 and 2.59.1 share a minor version).
func (r Release) Minor() int {
	major, rest, _ := strings.Cut(r.Version, ".")
	minor, patch, ok := strings.Cut(rest, ".")
	n, err := strconv.Atoi(minor)
	if major != "2" || !ok || err != nil || strings.Contains(patch, ".") {
		return -1
	}
	return n
}

func (r Release) patch() int {
	n, err := strconv.Atoi(r.Version[strings.LastIndexByte(r.Version, '.')+1:])
	if err != nil {
		return -1
	}
	return n
}

// before reports whether r is older than the release with version v.
func (r Release) before(v string) bool {
	o := Release{Version: v}
	return r.Minor() < o.Minor() || (r.Minor() == o.Minor() && r.patch() < o.patch())
}

func (r Release) String() string { return fmt.Sprintf("Triton %s (NGC %s)", r.Version, r.NGC) }

// versionLabel names a release of the table by version, with its NGC release.
func versionLabel(v string) string {
	if r, ok := ReleaseByVersion(v); ok {
		return fmt.Sprintf("%s (NGC %s)", r.Version, r.NGC)
	}
	return v
}

// known reports whether r is a release of the table.
func (r Release) known() bool {
	o, ok := ReleaseByVersion(r.Version)
	return ok && (r.NGC == "" || r.NGC == o.NGC)
}

// Supports reports whether release r accepts the option (a name without
// leading dashes). It is false for a release that is not in the table.
func (r Release) Supports(option string) bool {
	sp, ok := optionSpans[option]
	return ok && r.known() && inSpan(r, sp)
}

func inSpan(r Release, sp span) bool {
	return !r.before(sp.since) && (sp.until == "" || !(Release{Version: sp.until}).before(r.Version))
}

// OptionSpan returns the first release that accepts the option and the
// last one; until is the zero Release while the newest still accepts it.
func OptionSpan(option string) (since, until Release, ok bool) {
	sp, ok := optionSpans[option]
	if !ok {
		return Release{}, Release{}, false
	}
	since, _ = ReleaseByVersion(sp.since)
	until, _ = ReleaseByVersion(sp.until)
	return since, until, true
}

// notAccepted explains where, if not in r, a thing spanning sp is accepted.
func notAccepted(what string, r Release, sp span) error {
	if !r.before(sp.since) {
		return unsupported("%s: not accepted by %s: removed after %s", what, r, versionLabel(sp.until))
	}
	return unsupported("%s: not accepted by %s: added in %s", what, r, versionLabel(sp.since))
}

// canonical returns the table's entry for r (which may omit NGC and Commit).
func canonical(r Release) (Release, error) {
	if r.known() {
		o, _ := ReleaseByVersion(r.Version)
		return o, nil
	}
	return r, unsupported("Triton release %q (NGC %q) is not in the table, which covers %s to %s",
		r.Version, r.NGC, versionLabel(releaseList[0].Version), versionLabel(Newest().Version))
}

// typeChange is a value rule that changed between releases: releases
// before since parse the option as older instead of its type in specs.
type typeChange struct {
	option, since string
	older         ValueType
}

// typeChanges were found by diffing each option's parsing code between
// consecutive tags. Up to 2.39.0 both reuse-port options went through the
// integer parser (so "true" failed); 2.40.0 parses them as booleans.
var typeChanges = []typeChange{
	{option: "reuse-http-port", since: boolReusePorts, older: Int},
	{option: "reuse-grpc-port", since: boolReusePorts, older: Int},
}

// Releases where a value rule changed.
const (
	boolReusePorts   = "2.40.0" // the reuse-port options became booleans
	otelResource     = "2.37.0" // OpenTelemetry resource attributes
	otelBatchSpanner = "2.43.0" // OpenTelemetry batch span processor settings
)

// traceSettingSince gives, by section and name (see traceSetting.key), the
// first release that reads a trace-config setting added after trace-config
// itself (2.33.0): the OpenTelemetry exporter read only url at first,
// resource from 2.37.0 (src/tracer.cc) and the batch span processor
// settings from 2.43.0 (src/command_line_parser.cc). Older releases ignore
// them silently, which would hide the mistake.
var traceSettingSince = map[string]string{
	traceOpenTelemetry + ",resource":                  otelResource,
	traceOpenTelemetry + ",bsp_max_queue_size":        otelBatchSpanner,
	traceOpenTelemetry + ",bsp_schedule_delay":        otelBatchSpanner,
	traceOpenTelemetry + ",bsp_max_export_batch_size": otelBatchSpanner,
}

// lookupFor finds an option as release r parses it.
func lookupFor(r Release, name string) (spec, error) {
	s, ok := byName[name]
	switch {
	case !ok:
		return spec{}, unknownOption(name)
	case !r.Supports(name):
		return spec{}, notAccepted(fmt.Sprintf("option %q", name), r, optionSpans[name])
	}
	for _, c := range typeChanges {
		if c.option == name && r.before(c.since) {
			s.Type, s.bounded = c.older, false
		}
	}
	return s, nil
}

// checkValueFor checks a value the way release r would parse it.
func checkValueFor(r Release, s spec, value string) error {
	if err := checkValue(s, value); err != nil {
		if s.Type != byName[s.Name].Type {
			return fmt.Errorf("%w; %s parses it as %v (%v from %s)", err, r, s.Type, byName[s.Name].Type,
				versionLabel(typeChangeSince(s.Name)))
		}
		return err
	}
	if s.Type != TraceSetting {
		return nil
	}
	t, err := splitTraceConfig(value)
	if since, ok := traceSettingSince[t.key()]; err == nil && ok && r.before(since) {
		what := fmt.Sprintf("option %q: setting %q of the %s section", s.Name, t.name, sectionName(t.section))
		return notAccepted(what, r, span{since: since})
	}
	return nil
}

func typeChangeSince(name string) string {
	for _, c := range typeChanges {
		if c.option == name {
			return c.since
		}
	}
	return ""
}

// CheckParameterFor is CheckParameter for release r: the option must also
// be one r accepts, with a value r accepts. An option is deprecated only in
// the releases that accept its replacement.
func CheckParameterFor(r Release, name, value string) error {
	r, err := canonical(r)
	if err != nil {
		return err
	}
	if strings.HasPrefix(name, "-") {
		return fmt.Errorf("option %q: %w: give the name without leading dashes", name, ErrMalformed)
	}
	s, err := lookupFor(r, name)
	switch {
	case err != nil:
		return err
	case s.Managed:
		return fmt.Errorf("option %q: %w; set it through the resource spec instead", name, ErrManaged)
	case s.Deprecated && r.Supports(s.useOpt):
		return fmt.Errorf("option %q: %w; use %q instead", name, ErrDeprecated, s.useOpt)
	}
	return checkValueFor(r, s, value)
}

// CheckArgsFor is CheckArgs for release r: every option must be one r
// accepts, with a value r accepts, besides the rules CheckArgs applies.
func CheckArgsFor(r Release, args []string) error {
	r, err := canonical(r)
	if err != nil {
		return err
	}
	st := newArgState(r)
	var errs []error
	for _, arg := range args {
		if err := st.add(arg); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, st.finish()...)
	return errors.Join(errs...)
}
