package render

import (
	"fmt"
	"slices"

	"github.com/kalypsoserving/kalypso-serving/internal/triton"
)

// What the renderers return when a spec cannot become children, or when
// their own output is wrong.

// InvalidSpecError means the spec passed admission but cannot be rendered
// into a valid Triton command line; the server is Stalled until it changes.
type InvalidSpecError struct{ Reason string }

func (e *InvalidSpecError) Error() string { return e.Reason }

func invalidSpec(format string, args ...any) error {
	return &InvalidSpecError{Reason: fmt.Sprintf(format, args...)}
}

// GrammarViolationError means the renderer's own output breaks Triton's
// option grammar although every value taken from the spec was accepted on
// its own: a bug in the operator, not in the spec. Detect it with
//
//	var gv *render.GrammarViolationError
//	if errors.As(err, &gv) { ... }
//
// Err is what triton.CheckArgs reported (it wraps triton's sentinel errors,
// so errors.Is(err, triton.ErrUnknown) and the like work through it).
type GrammarViolationError struct {
	Args []string // the rendered arguments, after the binary name
	Err  error
}

func (e *GrammarViolationError) Error() string {
	return "rendered tritonserver arguments break Triton's grammar (an operator bug, not a spec problem): " + e.Err.Error()
}

func (e *GrammarViolationError) Unwrap() error { return e.Err }

// CheckRenderedArgs checks a rendered tritonserver command line (after the
// binary name) against the grammar of Triton release rel. A violation is the renderer's
// fault, so it is returned as a *GrammarViolationError; nil means it holds.
func CheckRenderedArgs(rel triton.Release, args []string) error {
	if err := triton.CheckArgsFor(rel, args); err != nil {
		return &GrammarViolationError{Args: slices.Clone(args), Err: err}
	}
	return nil
}
