package triton

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error this package returns wraps one of them, so
// callers can classify a failure with errors.Is while the message still
// names the option and the reason.
var (
	ErrMalformed    = errors.New("malformed argument")
	ErrUnknown      = errors.New("unknown option")
	ErrManaged      = errors.New("option is managed by the operator")
	ErrDeprecated   = errors.New("option is deprecated")
	ErrInvalidValue = errors.New("invalid value")
	ErrRepeated     = errors.New("option given more than once")
	ErrConflict     = errors.New("conflicting options")
	ErrMissing      = errors.New("required option missing")
	// ErrUnsupported: the option or setting exists in some Triton release,
	// but not in the one asked about, or that release is not in the table.
	ErrUnsupported = errors.New("not accepted by this Triton release")
)

// unsupportedError carries its own message and wraps ErrUnsupported, so the
// text reads "option ...: not accepted by Triton 2.53.0 (NGC 24.12): ...".
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string { return e.msg }
func (e *unsupportedError) Unwrap() error { return ErrUnsupported }

func unsupported(format string, args ...any) error {
	return &unsupportedError{msg: fmt.Sprintf(format, args...)}
}

func invalidValue(name, value string, why error) error {
	return fmt.Errorf("option %q: %w %q: %w", name, ErrInvalidValue, value, why)
}

// unknownOption explains why a name is not accepted, with a hint when the
// user most likely meant a real option.
func unknownOption(name string) error {
	if why, ok := notServerOptions[name]; ok {
		return fmt.Errorf("option %q: %w: %s", name, ErrUnknown, why)
	}
	if guess := strings.ReplaceAll(strings.ToLower(name), "_", "-"); guess != name {
		if _, ok := byName[guess]; ok {
			return fmt.Errorf("option %q: %w; did you mean %q?", name, ErrUnknown, guess)
		}
	}
	return fmt.Errorf("option %q: %w to tritonserver", name, ErrUnknown)
}
